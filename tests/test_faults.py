"""Faults, really done: a build SIGKILLed at 29 moments, an unwritable output folder and a
full disk, with real processes on the real data (quick profile, experiments A1 and B1).

Kills come two ways. From outside: the test reads the build's log and sends SIGKILL when
a given line appears (optionally a little later). From inside: the build runs under a
small harness that SIGKILLs its own process at the n-th call of a chosen function —
the only way to land reliably inside windows a few microseconds wide, such as between
writing a temporary file and renaming it into place.

After every kill: no cache entry is partial or unverifiable, every checkpoint loads, and
the output folder still holds one complete report whose record matches its files. After
the campaign, a build runs to completion and its curves are bit-identical to those of a
build that was never interrupted (so are those of the two builds that resume a run).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DATA, copy_project

from dlreport.builds import ledger, record
from dlreport.fsutil import TEMP_SUFFIX
from dlreport.runs.checkpoints import Checkpoint
from dlreport.runs.store import ResultStore

pytestmark = pytest.mark.e2e
# a partial build of two experiments, published as the current report like a whole one
# one run at a time, in the build's own process, where every kill point below lands (runs side by side: test_side.py)
ARGS = ["--profile", "quick", "--notmnist-split", "substitute", "--only", "A1,B1", "--seeds", "1", "--publish",
        "--runs-at-once", "1"]
OTHER_COMMANDS = ("status", "diff", "builds", "prune", "freeze")  # they take none of a build's options
EPOCH = "1790000000"

HARNESS = r"""
import importlib, os, signal, sys
BUILD = os.getpid()  # a kill in a worker process the build forked still kills the build
if os.environ.get("KILL_AT"):
    where, name, which, when = os.environ["KILL_AT"].split(":")
    owner = importlib.import_module(where)
    *path, attr = name.split(".")
    for part in path:
        owner = getattr(owner, part)
    original, calls = getattr(owner, attr), [0]
    pattern, _, nth = which.rpartition("#") if "#" in which else ("", "", which)
    def wrapper(*args, **kwargs):
        paths = " ".join(repr(a) for a in args if isinstance(a, (str, os.PathLike)))
        if pattern in paths:
            calls[0] += 1
        hit = calls[0] == int(nth) and pattern in paths
        if hit and when == "before":
            os.kill(BUILD, signal.SIGKILL)
        out = original(*args, **kwargs)
        if hit and when == "after":
            os.kill(BUILD, signal.SIGKILL)
        return out
    setattr(owner, attr, wrapper)
from dlreport.cli import main
sys.exit(main(sys.argv[1:]))
"""

# (what is happening, how to kill, kind). "line" kills from outside when the log shows the
# text (after a delay in seconds); "self" kills from inside at module:function:WHICH:before|after,
# where WHICH is "n" (the n-th call) or "text#n" (the n-th call whose arguments contain text), so
# that a kill point names what is being written rather than how many writes came before it.
# Calls are counted in each process: figures and PDF pieces are made in forked workers too,
# so a kill inside that work names the first call (whichever process makes it first).
# kind: "fresh" removes the decoded data first so the build decodes again; "train" retrains
# A1 and B1 (checkpoints of earlier kills removed first); "resume" retrains keeping them;
# "render" renders cached results again (only SOURCE_DATE_EPOCH changes); "render-cold" also
# forgets the drawn figures, so that they are drawn again.
MOMENTS = [
    ("decoding data, between two files", "line", "decoded", 0.0, "fresh"),
    ("decoded, before the decoded copy is written", "self", "dlreport.data.datasets:DecodedCache.put:1:before", 0, "fresh"),
    ("decoded-data write: array written, not renamed", "self", "os:replace:-data.npy'#1:before", 0, "fresh"),
    ("second decoded file: checksum written, not renamed", "self", "os:replace:.npy.sha256'#2:before", 0, "fresh"),
    ("starting A1 (TensorFlow import)", "line", "A1 seed 0 running", 0.0, "train"),
    ("A1 training, mid-way", "line", "A1 seed 0 30/60", 0.0, "train"),
    ("A1 checkpoint saved at iteration 50", "self", "dlreport.runs.checkpoints:Checkpoint.save:1:after", 0, "train"),
    ("A1 resumed at 51; its cache entry written, not renamed", "self", "dlreport.fsutil:write_synced:/results/#1:after", 0,
     "resume"),
    ("A1 checkpoint written, not renamed", "self", "dlreport.fsutil:write_synced:/checkpoints/#1:after", 0, "train"),
    ("A1 trained, before its cache entry is written", "self", "dlreport.runs.store:ResultStore.put:1:before", 0, "train"),
    ("A1 stored, B1 not started", "self", "dlreport.runs.store:ResultStore.put:1:after", 0, "train"),
    ("B1 training, after epoch 1", "line", "B1 seed 0 1/3", 0.0, "train"),
    ("B1 epoch-2 checkpoint saved", "self", "dlreport.runs.checkpoints:Checkpoint.save:3:after", 0, "train"),
    ("B1 resumed at epoch 3, mid-epoch", "line", "resuming from checkpoint at step 2", 0.3, "resume"),
    ("B1 training, after epoch 2", "line", "B1 seed 0 2/3", 0.0, "train"),
    ("B1 trained, before its cache entry is written", "self", "dlreport.runs.store:ResultStore.put:2:before", 0, "train"),
    ("rendering starts", "line", "rendering the HTML", 0.0, "render"),
    ("drawing figures", "self", "dlreport.document.figures:panel:1:before", 0, "render-cold"),
    ("drawing figures, by the clock", "line", "rendering the HTML", 0.5, "render-cold"),
    ("figures drawn and cached, HTML not rendered", "self", "dlreport.document.render:render_html:1:before", 0, "render"),
    ("HTML rendered, not written", "self", "dlreport.document.render:render_html:1:after", 0, "render"),
    ("laying out the PDF", "self", "dlreport.document.pdf_assembly:render_pdf:1:before", 0, "render"),
    ("PDF: one piece laid out, not cached", "self", "dlreport.document.pdf_assembly:lay_out:1:after", 0, "render"),
    ("PDF: a laid-out piece written, not renamed", "self", "os:replace:/pdf/#1:before", 0, "render"),
    ("PDF made, nothing written", "self", "dlreport.document.pdf_assembly:render_pdf:1:after", 0, "render"),
    ("ledger entry written, not renamed", "self", "pathlib:Path.rename:1:before", 0, "render"),
    ("ledger entry saved, not published", "self", "dlreport.builds.ledger:Ledger._publish:1:before", 0, "render"),
    ("publishing: new link made, not renamed", "self", "os:symlink:1:after", 0, "render"),
    ("published, output links being checked", "self", "dlreport.builds.ledger:replace_symlink:1:after", 0, "render"),
]
# after these kills the next build runs to the end: it must resume and match the reference
COMPLETE_AFTER = {"A1 resumed at 51; its cache entry written, not renamed", "B1 resumed at epoch 3, mid-epoch"}


class Campaign:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.out, self.cache = root / "build", root / ".cache"
        self.epoch = int(EPOCH)

    def env(self, epoch: int, **extra: str) -> dict:
        return {**os.environ, "REPORT_DATA_DIR": str(DATA), "SOURCE_DATE_EPOCH": str(epoch), "PYTHONHASHSEED": "0", **extra}

    def run(self, *args: str, epoch: int | None = None, **kw) -> subprocess.CompletedProcess:
        argv = list(args) if args and args[0] in OTHER_COMMANDS else [*ARGS, *args]
        return subprocess.run([sys.executable, "-c", HARNESS, *argv], cwd=self.root, capture_output=True,
                              text=True, timeout=600, env=self.env(epoch or int(EPOCH)), **kw)

    def kill(self, how: str, what: str, delay: float, epoch: int, args: list[str]) -> str:
        """Start a build, SIGKILL it at the moment described; return its log."""
        extra = {"KILL_AT": what} if how == "self" else {}
        proc = subprocess.Popen([sys.executable, "-c", HARNESS, *ARGS, *args], cwd=self.root, env=self.env(epoch, **extra),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, bufsize=1)
        log = []
        for line in proc.stderr:
            log.append(line)
            if how == "line" and what in line:
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=600)
        rest = proc.stderr.read()
        assert proc.returncode == -signal.SIGKILL, f"not killed at {what} ({proc.returncode}):\n{''.join(log)}{rest}"
        return "".join(log) + rest

    def check_consistent(self) -> None:
        """No partial cache entry, checkpoints load, and one complete report is in place."""
        store = ResultStore(self.cache / "results", self.root / "frozen")
        for path in (self.cache / "results").glob("*/*.json"):
            assert store.get(path.stem) is not None, f"partial or corrupt cache entry {path}"
        for path in (self.cache / "checkpoints").glob("*.npz"):
            assert Checkpoint(path).load() is not None, f"unloadable checkpoint {path}"
        rec = record.read(self.out / "record.json")
        assert rec is not None, "no readable record"
        for name, digest in rec["outputs"].items():
            assert hashlib.sha256((self.out / name).read_bytes()).hexdigest() == digest, f"{name} does not match its record"


@pytest.fixture(scope="module")
def campaign(tmp_path_factory) -> Campaign:
    if not (DATA / "fashion-mnist").is_dir():
        pytest.skip(f"real data not found in {DATA}: set REPORT_DATA_DIR")
    c = Campaign(copy_project(tmp_path_factory.mktemp("faults")))
    first = c.run(epoch=int(EPOCH) + 1000)  # trains A1 and B1
    assert first.returncode == 0, first.stderr
    again = c.run()  # renders them from the cache, as the campaign's last build will
    assert again.returncode == 0 and "0 trained, 2 cached" in again.stderr, again.stderr
    c.reference_series = (c.out / "current" / "series.json").read_text()
    c.reference_results = {i: e["final"] for i, e in record.read(c.out / "record.json")["experiments"].items()}
    return c


def test_sigkill_at_29_moments_loses_nothing(campaign):
    c = campaign
    resumed = []
    for n, (moment, how, what, delay, kind) in enumerate(MOMENTS, start=1):
        if kind == "fresh":
            shutil.rmtree(c.cache / "decoded", ignore_errors=True)
        if kind in ("fresh", "train"):
            shutil.rmtree(c.cache / "checkpoints", ignore_errors=True)
        if kind == "render-cold":
            shutil.rmtree(c.cache / "figures", ignore_errors=True)
        before = record.read(c.out / "record.json")["id"]
        log = c.kill(how, what, delay, int(EPOCH) + n, ["--rerun", "A1,B1"] if kind in ("fresh", "train", "resume") else [])
        try:
            c.check_consistent()
        except AssertionError as exc:
            raise AssertionError(f"after a kill at '{moment}': {exc}") from None
        assert record.read(c.out / "record.json")["id"] in (before, ledger.Ledger(c.out).entries()[-1].build_id)
        if kind == "resume":
            resumed.append(moment)
            assert "resuming from checkpoint" in log, f"'{moment}' did not resume"
        if moment in COMPLETE_AFTER:
            done = c.run("--rerun", "A1,B1", epoch=int(EPOCH) + 100 + n)
            assert done.returncode == 0 and "resuming from checkpoint" in done.stderr, done.stderr
            rec = record.read(c.out / "record.json")
            assert {i: e["final"] for i, e in rec["experiments"].items()} == c.reference_results, moment
            assert (c.out / "current" / "series.json").read_text() == c.reference_series, moment
    assert len(resumed) == 2

    final = c.run()  # the same inputs as the reference build: everything cached, same time stamp
    assert final.returncode == 0, final.stderr
    assert not [p for p in c.root.rglob(f".*{TEMP_SUFFIX}")], "leftover temporary files"
    rec = record.read(c.out / "record.json")
    assert {i: e["final"] for i, e in rec["experiments"].items()} == c.reference_results
    # every value of every curve, bit for bit (the report differs only in the training times it states)
    assert (c.out / "current" / "series.json").read_text() == c.reference_series


def test_two_builds_at_once_take_turns_and_corrupt_nothing(campaign):
    c = campaign
    entries = len(ledger.Ledger(c.out).entries())
    procs = [subprocess.Popen([sys.executable, "-c", HARNESS, *ARGS], cwd=c.root, env=c.env(int(EPOCH) + 500 + i),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for i in range(2)]
    logs = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs
    assert sum("another build (pid" in log and "waiting for it to finish" in log for log in logs) == 1, logs
    c.check_consistent()
    assert len(ledger.Ledger(c.out).entries()) == entries + 2


def test_unwritable_output_folder_is_one_line_before_any_training(campaign, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = campaign.run("--rerun", "--out", str(blocker / "out"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    expected = f"error: --out {blocker / 'out'} is not writable: Not a directory"
    assert result.stderr.strip().splitlines() == [expected]


def test_full_disk_is_one_line_and_keeps_the_previous_report(campaign):
    """A full disk, simulated with a file-size limit (writes past it fail with EFBIG)."""
    c = campaign
    before = {name: (c.out / name).read_bytes() for name in ("report.html", "report.pdf", "record.json")}
    entries = len(list((c.out / "builds").iterdir()))
    limit = len(before["report.pdf"]) // 4

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = c.run(epoch=int(EPOCH) - 1, preexec_fn=small_disk)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot write the report to {c.out}") and "File too large" in last
    assert "Traceback" not in result.stderr
    assert {name: (c.out / name).read_bytes() for name in before} == before
    assert len(list((c.out / "builds").iterdir())) == entries  # no partial ledger entry


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "flipped":
        i = len(data) * 2 // 3
        path.write_bytes(data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1:])
    else:  # valid JSON, but not what belongs there
        path.write_text("[]")


RENDER_KINDS = ("figures/", "pdf/")  # A1 and B1 show no equation: tests/test_figure_cache.py damages those


@pytest.mark.parametrize("n, how", list(enumerate(["truncated", "empty", "flipped", "list"])))
def test_every_kind_of_damaged_cache_file_is_reported_and_remade_with_the_same_report(campaign, n, how):
    """A file of every kind the tool keeps is damaged: a drawn figure, a drawn equation and a
    laid-out PDF piece (the next render must give the very bytes of an undamaged one), and
    A1's result with the decoded Fashion-MNIST arrays it is retrained from (the retrained
    curves must be bit-identical). Each damaged file is named in one line, and none is used."""
    from experiments.data import files as catalogue

    c = campaign
    epoch = int(EPOCH) + 7000 + 10 * n
    if how != "list":  # a kept drawing is not JSON: "wrong JSON type" only applies to results
        assert c.run(epoch=epoch).returncode == 0
        reference = {name: (c.out / name).read_bytes() for name in ("report.html", "report.pdf")}
        used = set(record.read(c.out / "record.json")["render_cache"])
        assert c.run(epoch=epoch + 1).returncode == 0  # another render, so that the next one is not "up to date"
        used &= set(record.read(c.out / "record.json")["render_cache"])  # read by both renders (not a title page)
        drawings = [c.cache / sorted(u for u in used if u.startswith(kind))[-1] for kind in RENDER_KINDS]
        for path in drawings:
            _damage(path, how)
        result = c.run(epoch=epoch)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        assert sum("damaged cache entry" in ln for ln in result.stderr.splitlines()) == len(drawings), result.stderr
        assert {name: (c.out / name).read_bytes() for name in reference} == reference  # the very same bytes
    damaged = []
    if how != "list":
        fashion = sorted(p for f in catalogue.FASHION_MNIST.values() for p in c.cache.glob(f"decoded/{f.content_sha256[:20]}-*"))
        damaged += [next(p for p in fashion if p.suffix == ".npy"), next(p for p in fashion if p.suffix == ".sha256")]
    a1 = next(r["key"] for r in record.read(c.out / "record.json")["runs"] if r["id"] == "A1")
    damaged.append(c.cache / "results" / a1[:2] / f"{a1}.json")
    for path in damaged:
        _damage(path, how)
    result = c.run(epoch=epoch + 2)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    expected = 1 if how == "list" else 2  # A1's result, and (not for JSON) the decoded array
    assert sum("damaged cache entry" in ln for ln in result.stderr.splitlines()) >= expected, result.stderr
    assert "A1 seed 0 running" in result.stderr and "B1 seed 0 running" not in result.stderr
    rec = record.read(c.out / "record.json")
    assert {i: e["final"] for i, e in rec["experiments"].items()} == c.reference_results
    assert (c.out / "current" / "series.json").read_text() == c.reference_series


def test_damaged_frozen_entries_and_ledger_records_are_repaired_or_passed_over(campaign):
    c = campaign
    assert c.run().returncode == 0
    frozen = c.run("freeze")
    assert frozen.returncode == 0, frozen.stderr
    entry = sorted((c.root / "frozen").glob("*/*.json"))[0]
    _damage(entry, "list")
    book = ledger.Ledger(c.out)
    oldest = book.entries()[0].path / "record.json"
    _damage(oldest, "flipped")
    listing = c.run("builds")
    assert listing.returncode == 0 and "record damaged" in listing.stdout, listing.stderr
    diff = c.run("diff")
    assert diff.returncode == 0, diff.stderr
    repaired = c.run("freeze")
    assert repaired.returncode == 0 and "damaged cache entry" in repaired.stderr, repaired.stderr
    assert json.loads(entry.read_text())["key"] == entry.stem  # the intact local entry replaced it
    pruned = c.run("prune", "--keep", "2")
    assert pruned.returncode == 0 and not oldest.exists(), pruned.stderr


@pytest.mark.parametrize("edit, message", [
    (("experiments/definitions.py", '_lowlevel([]),', '_lowlevel(300),'), "hidden must be a list of layer sizes"),
    (("experiments/definitions.py", '"optimizer": "adam",\n        "learning_rate": 1e-3,\n        "iterations"',
      '"optimizer": "sgd",\n        "learning_rate": 1e-3,\n        "iterations"'), "optimizer 'sgd' is not implemented"),
    (("experiments/definitions.py", '"init": "he_normal",', '"init": "he_normal", "momentum": 0.9,'),
     "'momentum' is not a hyper-parameter"),
    (("templates/intro.html.j2", "<h2 id=\"introduction\">", "{% if %}<h2 id=\"introduction\">"), "template intro.html.j2:1"),
])
def test_a_mistake_in_definitions_or_templates_is_one_line_and_nothing_trains(campaign, edit, message):
    c = campaign
    path = c.root / edit[0]
    text = path.read_text()
    assert edit[1] in text
    path.write_text(text.replace(edit[1], edit[2], 1))
    try:
        result = c.run("--rerun", "A1,B1")
    finally:
        path.write_text(text)
    assert result.returncode == 2 and "running" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


@pytest.mark.parametrize("setup, message", [
    ("epoch=abc", "SOURCE_DATE_EPOCH='abc' is not a time"),
    ("epoch=99999999999999999999", "is not a time"),
    ("results-is-a-file", "results folder"),
    ("current-is-a-folder", "holds files dlreport did not make ('current')"),
])
def test_a_mistake_in_the_environment_is_one_line_and_nothing_trains(campaign, tmp_path, setup, message):
    c = campaign
    out, cache = tmp_path / "out", tmp_path / "cache"
    env = c.env(int(EPOCH))
    if setup.startswith("epoch="):
        env["SOURCE_DATE_EPOCH"] = setup.split("=", 1)[1]
    elif setup == "results-is-a-file":
        cache.mkdir()
        (cache / "results").write_text("mine")
    else:
        (out / "current").mkdir(parents=True)
    result = subprocess.run([sys.executable, "-c", HARNESS, *ARGS, "--out", str(out), "--cache-dir", str(cache)],
                            cwd=c.root, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 2 and "running" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
