"""Never touch what is not ours, never publish a damaged report, never a traceback: a campaign
of real builds (quick profile, A1, one seed) in scratch copies of the project, each probe
set up the way an unlucky user or a careful attacker would, checked on what is left on disk.

Each test reproduces one failure a fault campaign found in an earlier version (replaced
user files, deleted foreign files, a swallowed Ctrl-C, a bomb decompressed whole, bad input
accepted) and shows the build now refuses, spares or stops cleanly instead.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from conftest import DATA, copy_project

from dlreport.builds import ledger, record
from dlreport.fsutil import TEMP_SUFFIX

pytestmark = pytest.mark.e2e
ARGS = ["--profile", "quick", "--notmnist-split", "substitute", "--only", "A1", "--seeds", "1", "--publish"]
EPOCH = 1790000000
OTHER_COMMANDS = ("status", "diff", "builds", "prune", "freeze", "fetch", "serve")

# A build whose WeasyPrint receives a SIGINT while it draws the n-th SVG image (inside the
# try that catches BaseException), or which measures its own peak memory.
HARNESS = r"""
import os, re, signal, sys
BUILD = os.getpid()  # signalled from a worker process the build forked too, as a terminal's Ctrl-C would be
if os.environ.get("INTERRUPT_IN_SVG"):
    import weasyprint.svg as svg
    original, calls = svg.SVG.draw, [0]
    def draw(self, *args, **kwargs):
        calls[0] += 1
        if calls[0] == int(os.environ["INTERRUPT_IN_SVG"]):
            os.kill(BUILD, signal.SIGINT)
        return original(self, *args, **kwargs)
    svg.SVG.draw = draw
if os.environ.get("SLOW_LEDGER"):  # each file of a ledger entry takes this long to write: saves overlap
    import time, dlreport.builds.ledger as ledger
    written = ledger.write_synced
    ledger.write_synced = lambda path, data: (time.sleep(float(os.environ["SLOW_LEDGER"])), written(path, data))[1]
from dlreport.cli import main
try:
    code = main(sys.argv[1:])
finally:  # this process's own high-water mark (getrusage's would count the forking parent's too)
    peak = re.search(r"VmHWM:\s*(\d+) kB", open("/proc/self/status").read())[1]
    print(f"peak-rss-kb {peak}", file=sys.stderr)
sys.exit(code)
"""


class Project:
    """A scratch copy of the project, its default output and cache folders, and runs of it."""

    def __init__(self, root: Path) -> None:
        self.root, self.out, self.cache = root, root / "build", root / ".cache"

    def run(self, *args: object, epoch: int = EPOCH, data: Path = DATA, **env: str) -> subprocess.CompletedProcess:
        argv = [str(a) for a in args]
        argv = argv if argv and argv[0] in OTHER_COMMANDS else [*ARGS, *argv]
        full_env = {**os.environ, "REPORT_DATA_DIR": str(data), "SOURCE_DATE_EPOCH": str(epoch), "PYTHONHASHSEED": "0",
                    **env}
        return subprocess.run([sys.executable, "-c", HARNESS, *argv], cwd=self.root, capture_output=True, text=True,
                              timeout=600, env=full_env)

    def cache_copy(self, dst: Path) -> Path:
        """A cache holding this project's trained results only (no drawings, no layouts)."""
        shutil.copytree(self.cache / "results", dst / "results")
        return dst


def _errors(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if not line.startswith("peak-rss-kb")]


def _one_line(proc: subprocess.CompletedProcess, code: int = 2) -> str:
    lines = _errors(proc)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and len(errors[0]) < 700, lines
    return errors[0]


def _peak_mb(proc: subprocess.CompletedProcess) -> float:
    return int(proc.stderr.rsplit("peak-rss-kb ", 1)[1].split()[0]) / 1024


def _pid_of_a_dead_process() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    if not (DATA / "fashion-mnist").is_dir():
        pytest.skip(f"real data not found in {DATA}: set REPORT_DATA_DIR")
    p = Project(copy_project(tmp_path_factory.mktemp("ownership")))
    first = p.run()  # trains A1 seed 0 and renders
    assert first.returncode == 0, first.stderr
    return p


# --- data loss ---------------------------------------------------------------------------

def test_out_over_a_folder_of_the_users_own_is_refused_and_left_as_it_was(project, tmp_path):
    mine = tmp_path / "thesis"
    mine.mkdir()
    for name in ("report.pdf", "results.csv", "record.json"):
        (mine / name).write_text(f"the user's own {name}")
    before = _files(mine)
    line = _one_line(project.run("--out", mine, "--cache-dir", project.cache_copy(tmp_path / "c")))
    assert "holds files dlreport did not make" in line and "report.pdf" in line
    assert _files(mine) == before and not any(p.is_symlink() for p in mine.iterdir())
    assert not (mine / ".dlreport").exists()

    # a folder the tool made, where the user later saved a file under a published name
    made = tmp_path / "made"
    assert project.run("--out", made, "--cache-dir", tmp_path / "c", epoch=EPOCH + 1).returncode == 0
    (made / "report.pdf").unlink()
    (made / "report.pdf").write_text("the user's own")
    line = _one_line(project.run("--out", made, "--cache-dir", tmp_path / "c", epoch=EPOCH + 2))
    assert "not this tool's link" in line and (made / "report.pdf").read_text() == "the user's own"
    assert len(ledger.Ledger(made).entries()) == 1


def test_prune_deletes_only_entries_of_its_own_layout_and_refuses_a_folder_it_did_not_make(project, tmp_path):
    cache, out = project.cache_copy(tmp_path / "cache"), tmp_path / "out"
    for epoch in (EPOCH + 10, EPOCH + 11):  # two renders: the first one's title page is not used by the second
        assert project.run("--out", out, "--cache-dir", cache, epoch=epoch).returncode == 0
    users = {"pdf/thesis.pdf": "my thesis", "figures/paper/fig1.png": "my figure", "figures/ab/notes.svg": "my notes",
             "equations/README": "mine"}
    for name, text in users.items():
        (cache / name).parent.mkdir(parents=True, exist_ok=True)
        (cache / name).write_text(text)
    ours_before = sorted(cache.rglob("*.k.pdf"))
    pruned = project.run("prune", "--keep", "1", "--out", out, "--cache-dir", cache)
    assert pruned.returncode == 0, pruned.stderr
    assert all((cache / name).read_text() == text for name, text in users.items())
    assert len(sorted(cache.rglob("*.k.pdf"))) < len(ours_before)  # its own unused pieces did go
    assert len(ledger.Ledger(out).entries()) == 1

    home = tmp_path / "home"
    for name in ("pdf/cv.pdf", "figures/holiday.png", "Documents/letter.txt"):
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text("the user's")
    before = _files(home)
    line = _one_line(project.run("prune", "--keep", "1", "--out", out, "--cache-dir", home))
    assert "holds files dlreport did not make" in line and _files(home) == before


def test_the_leftover_sweep_spares_other_projects_and_a_live_build(project, tmp_path):
    out, cache = tmp_path / "out", project.cache_copy(tmp_path / "cache")
    assert project.run("--out", out, "--cache-dir", cache, epoch=EPOCH + 20).returncode == 0
    dead = _pid_of_a_dead_process()
    other = out / "vendored" / ".cache" / "results" / "ab" / f".entry.json.{dead}.x1y2z3{TEMP_SUFFIX}"
    other.parent.mkdir(parents=True)
    other.write_text("another project's write in progress")
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]) as live:
        try:
            in_progress = out / "builds" / f".0002_20300101-000000-abcdef.{live.pid}.abc123{TEMP_SUFFIX}"
            in_progress.mkdir()
            (in_progress / "report.pdf").write_bytes(b"%PDF being written")
            abandoned = out / "builds" / f".0003_20300101-000000-abcdef.{dead}.abc123{TEMP_SUFFIX}"
            abandoned.mkdir()
            assert project.run("--out", out, "--cache-dir", cache, epoch=EPOCH + 21).returncode == 0
            assert other.read_text() == "another project's write in progress"
            assert (in_progress / "report.pdf").read_bytes() == b"%PDF being written"
            assert not abandoned.exists()
        finally:
            live.kill()


def test_two_builds_on_one_output_folder_with_different_caches_both_end_in_the_ledger(project, tmp_path):
    out = tmp_path / "out"
    caches = [project.cache_copy(tmp_path / f"cache{i}") for i in (1, 2)]
    env = {**os.environ, "REPORT_DATA_DIR": str(DATA), "SOURCE_DATE_EPOCH": str(EPOCH + 30), "PYTHONHASHSEED": "0"}
    procs = [subprocess.Popen([sys.executable, "-c", HARNESS, *ARGS, "--out", str(out), "--cache-dir", str(c)],
                              cwd=project.root, env={**env, "SLOW_LEDGER": "0.5"}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
             for c in caches]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    assert all(code == 0 for code, _ in results), results
    entries = ledger.Ledger(out).entries()
    assert [e.seq for e in entries] == [1, 2] and entries[0].build_id == entries[1].build_id  # the same id, numbered apart
    assert all(record.read(e.path / "record.json") is not None for e in entries)
    diff = project.run("diff", "1", "2", "--out", out)
    assert diff.returncode == 0 and "Traceback" not in diff.stderr, diff.stderr


# --- a damaged report is never published --------------------------------------------------

def test_an_interrupt_while_the_pdf_is_laid_out_publishes_nothing_and_caches_no_damaged_piece(project, tmp_path):
    out, cache = tmp_path / "out", project.cache_copy(tmp_path / "cache")
    assert project.run("--out", out, "--cache-dir", cache, epoch=EPOCH + 40).returncode == 0
    published = (out / "report.pdf").read_bytes()
    shutil.rmtree(cache / "pdf")  # every piece is laid out again, figures and all
    interrupted = project.run("--out", out, "--cache-dir", cache, epoch=EPOCH + 41, INTERRUPT_IN_SVG="2")
    assert interrupted.returncode == 130, interrupted.stderr
    assert "Traceback" not in interrupted.stderr and "interrupted" in interrupted.stderr
    assert len(ledger.Ledger(out).entries()) == 1 and (out / "report.pdf").read_bytes() == published

    again = project.run("--out", out, "--cache-dir", cache, epoch=EPOCH + 41)  # reuses what the interrupted build cached
    fresh_out, fresh_cache = tmp_path / "fresh-out", project.cache_copy(tmp_path / "fresh-cache")
    fresh = project.run("--out", fresh_out, "--cache-dir", fresh_cache, epoch=EPOCH + 41)
    assert again.returncode == 0 and fresh.returncode == 0, again.stderr + fresh.stderr
    assert (out / "report.pdf").read_bytes() == (fresh_out / "report.pdf").read_bytes()


def test_sigterm_ends_a_build_like_ctrl_c(project, tmp_path):
    out, cache = tmp_path / "out", project.cache_copy(tmp_path / "cache")
    env = {**os.environ, "REPORT_DATA_DIR": str(DATA), "SOURCE_DATE_EPOCH": str(EPOCH + 50), "PYTHONHASHSEED": "0"}
    proc = subprocess.Popen([sys.executable, "-c", HARNESS, *ARGS, "--out", str(out), "--cache-dir", str(cache)],
                            cwd=project.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "rendering the HTML" in line:
            time.sleep(0.5)
            proc.send_signal(signal.SIGTERM)
            break
    assert proc.wait(timeout=120) == 130 and "Traceback" not in proc.stderr.read()
    assert ledger.Ledger(out).entries() == [] and not (out / "report.pdf").exists()
    assert not [p for p in out.rglob(f"*{TEMP_SUFFIX}")] and not [p for p in cache.rglob(f"*{TEMP_SUFFIX}")]


# --- bad input: one line, exit 2, before anything trains, nothing built lost --------------

@pytest.mark.parametrize(("args", "says"), [
    (["--seeds", "0"], "--seeds"), (["--seeds", "-1"], "--seeds"), (["--only", ",,,"], "names no experiment"),
    (["--rerun", ","], "names no experiment"), (["--set", "A1.learning_rate=" + "9" * 100_000], "learning_rate"),
    (["--set", "A" * 100_000 + ".x=1"], "no experiment of this build matches"),
    (["--only", "A1," + "Z" * 100_000], "unknown experiment"),
])
def test_bad_input_is_one_short_line_and_changes_nothing(project, args, says):
    entries = ledger.Ledger(project.out).entries()
    line = _one_line(project.run(*args, epoch=EPOCH + 60))
    assert says in line
    assert ledger.Ledger(project.out).entries() == entries


def test_output_folder_at_the_project_root_or_the_cache_is_refused(project, tmp_path):
    assert "project folder itself" in _one_line(project.run("--out", project.root))
    assert "overlap" in _one_line(project.run("--out", project.cache))
    assert "overlap" in _one_line(project.run("--out", tmp_path / "o", "--cache-dir", tmp_path / "o" / "cache"))
    made_cache = tmp_path / "made-cache"
    made_cache.mkdir()
    (made_cache / ".dlreport").write_text("dlreport cache folder\n")
    assert "cache folder, not an output folder" in _one_line(project.run("--out", made_cache))


def test_an_experiment_named_twice_is_built_and_counted_once(project, tmp_path):
    built = project.run("--only", "A1,A1", "--out", tmp_path / "out", "--cache-dir", project.cache_copy(tmp_path / "c"))
    assert built.returncode == 0, built.stderr
    assert "--only names 'A1' more than once" in built.stderr
    rec = record.read(tmp_path / "out" / "record.json")
    assert [(r["id"], r["seed"]) for r in rec["runs"]] == [("A1", 0)] and rec["experiments"]["A1"]["n"] == 1


def _bomb(path: Path, size: int = 3 << 29) -> Path:
    """A small gzip file that decompresses to `size` zero bytes (1.5 GiB by default)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    block = bytes(1 << 24)
    with open(path, "wb") as fh:
        for _ in range(size // len(block)):
            fh.write(packer.compress(block))
        fh.write(packer.flush())
    return path


def test_a_decompression_bomb_in_the_data_is_refused_in_bounded_memory(project, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA / "fashion-mnist", data / "fashion-mnist")
    bomb = _bomb(data / "fashion-mnist" / "train-images-idx3-ubyte.gz")
    assert bomb.stat().st_size < 2 << 20
    with gzip.open(bomb) as fh:
        assert len(fh.read(1 << 20)) == 1 << 20
    built = project.run("--rerun", "--out", tmp_path / "out", "--cache-dir", tmp_path / "cache", data=data)
    line = _one_line(built)
    assert "decompresses to more than the 47,040,016 bytes" in line, line
    assert _peak_mb(built) < 600, f"peak memory {_peak_mb(built):.0f} MB"
    assert not (tmp_path / "cache" / "results").exists() or not list((tmp_path / "cache" / "results").rglob("*.json"))

    fetched = project.run("fetch", "--profile", "quick", "--only", "A1", "--data-dir", data, data=data)
    _one_line(fetched)  # it cannot download a good copy here (no network): one line, exit 2
    assert "decompresses to more than" in fetched.stderr and _peak_mb(fetched) < 600
    assert list((data / "fashion-mnist").glob("train-images-idx3-ubyte.gz.rejected-*"))  # set aside, not deleted


def test_cache_entries_are_made_readable_to_the_group_as_the_umask_says(project, tmp_path):
    cache = tmp_path / "cache"
    built = subprocess.run([sys.executable, "-c", HARNESS, *ARGS, "--rerun", "--out", str(tmp_path / "out"),
                            "--cache-dir", str(cache)], cwd=project.root, capture_output=True, text=True, timeout=600,
                           env={**os.environ, "REPORT_DATA_DIR": str(DATA), "SOURCE_DATE_EPOCH": str(EPOCH + 70),
                                "PYTHONHASHSEED": "0"}, preexec_fn=lambda: os.umask(0o022))
    assert built.returncode == 0, built.stderr
    made = [p for p in cache.rglob("*") if p.is_file()]
    modes = {str(p.relative_to(cache)): oct(p.stat().st_mode & 0o777) for p in made}
    assert len(made) > 10 and set(modes.values()) == {oct(0o644)}, modes


def test_tensorflow_generated_code_of_a_killed_run_is_swept_by_the_next(project, tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "REPORT_DATA_DIR": str(DATA), "SOURCE_DATE_EPOCH": str(EPOCH + 80), "PYTHONHASHSEED": "0",
           "TMPDIR": str(temp)}
    argv = [sys.executable, "-c", HARNESS, *ARGS, "--rerun", "--out", str(tmp_path / "out"), "--cache-dir",
            str(tmp_path / "cache")]
    proc = subprocess.Popen(argv, cwd=project.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "A1 seed 0 30/60" in line:
            proc.kill()
            break
    proc.wait(timeout=60)
    generated = list(temp.rglob("__autograph_generated_file*"))
    assert generated, "TensorFlow wrote no generated code: nothing to check"
    assert all(p.parent.name.startswith(f"dlreport-tensorflow-{proc.pid}-") for p in generated)
    done = subprocess.run(argv, cwd=project.root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert list(temp.iterdir()) == []  # the killed run's folder swept, the finished run's own removed at its exit


def test_an_interrupt_python_cannot_raise_is_remembered_and_not_printed_as_a_traceback():
    """A signal that lands in a finaliser or a weakref callback is reported by Python as
    "Exception ignored" and swallowed: the build must still end at its next check, quietly,
    while any other unraisable error is reported as Python reports it."""
    code = """
from dlreport import interrupts
interrupts.install()
class Interrupted:
    def __del__(self):
        raise KeyboardInterrupt
class Broken:
    def __del__(self):
        raise ValueError("a real bug")
Broken()
Interrupted()
try:
    interrupts.check()
except KeyboardInterrupt:
    print("remembered")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "remembered", done
    assert "ValueError: a real bug" in done.stderr and "KeyboardInterrupt" not in done.stderr, done.stderr
