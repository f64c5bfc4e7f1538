"""Runs side by side on this machine (`--runs-at-once`, a worker process per run), really done:
the same numbers as one run at a time, the progress and log lines of the workers shown by the
build, and a build that is killed, interrupted or loses a worker mid-training loses nothing.
Quick profile, real data, real TensorFlow in real processes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DATA, copy_project, process_alive

from dlreport.builds import ledger, record
from dlreport.runs.checkpoints import Checkpoint
from dlreport.runs.machine import available_cores
from dlreport.runs.store import ResultStore

pytestmark = pytest.mark.e2e
QUICK = ["--profile", "quick", "--notmnist-split", "substitute", "--only", "A1,B1", "--seeds", "2"]
# three runs long enough to be caught mid-training (B2 on all of notMNIST's substitute split): the
# first two side by side, the third once they are done
LONGER = ["--profile", "full", "--notmnist-split", "substitute", "--only", "B2", "--seeds", "3", "--set", "B2.epochs=16"]
# side by side with as many threads a run as one run alone has: the thread count can change the
# rounding of a large reduction, so that alone is compared bit for bit
SIDE = ["--runs-at-once", "2", "--cpus-per-run", str(available_cores())]
WORKER = re.compile(r"(\S+ seed \d) running in process (\d+)")


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root

    def command(self, cache: str, *args: str) -> list[str]:
        return [sys.executable, "build.py", "--cache-dir", cache, "--out", f"out-{cache}", *args]

    def env(self) -> dict:
        return {**os.environ, "REPORT_DATA_DIR": str(DATA), "SOURCE_DATE_EPOCH": "1790000000"}

    def run(self, cache: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(cache, *args), cwd=self.root, capture_output=True, text=True, timeout=600,
                              env=self.env())

    def start(self, cache: str, *args: str) -> subprocess.Popen:
        return subprocess.Popen(self.command(cache, *args), cwd=self.root, env=self.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)

    def histories(self, cache: str) -> dict[str, dict]:
        return {p.stem: json.loads(p.read_text())["result"]["history"] for p in (self.root / cache).glob("results/*/*.json")}

    def consistent(self, cache: str) -> None:
        """Every stored result verifies and every checkpoint loads."""
        store = ResultStore(self.root / cache / "results", self.root / "frozen")
        for path in (self.root / cache).glob("results/*/*.json"):
            assert store.get(path.stem) is not None, f"partial or corrupt cache entry {path}"
        for path in (self.root / cache).glob("checkpoints/*.npz"):
            assert Checkpoint(path).load() is not None, f"unloadable checkpoint {path}"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    if not (DATA / "fashion-mnist").is_dir():
        pytest.skip(f"real data not found in {DATA}: set REPORT_DATA_DIR")
    p = Project(copy_project(tmp_path_factory.mktemp("side")))
    for cache, args in (("one", [*QUICK, "--runs-at-once", "1"]), ("one-longer", [*LONGER, "--runs-at-once", "1"])):
        alone = p.run(cache, *args)
        assert alone.returncode == 0 and not WORKER.search(alone.stderr), alone.stderr
    return p


def test_runs_side_by_side_give_the_numbers_of_one_run_at_a_time(project):
    side = project.run("side", *QUICK, *SIDE)
    assert side.returncode == 0 and "Traceback" not in side.stderr, side.stderr
    workers = dict(WORKER.findall(side.stderr))
    assert len(workers) == 4 and len(set(workers.values())) == 2, side.stderr  # four runs, two processes
    # the workers' progress and log records reach the build's log
    assert re.search(r"B1 seed 1 3/3 \(\d", side.stderr) and "resuming" not in side.stderr, side.stderr
    reference = project.histories("one")
    assert len(reference) == 4 and project.histories("side") == reference  # every value, bit for bit
    entry = ledger.Ledger(project.root / "out-side").entries()[-1]  # a partial build: in the ledger, not published
    trained_on = [r["trained_on"] for r in record.read(entry.path / "record.json")["runs"]]
    assert {(t["executor"], t["at_once"], str(t["pid"]) in workers.values()) for t in trained_on} == {("local", 2, True)}


def _worker_pids(proc: subprocess.Popen, until: str) -> tuple[dict[str, str], str]:
    """Read the build's log until a line holds `until`: the workers it named, and the log so far."""
    log = []
    for line in proc.stderr:
        log.append(line)
        if until in line:
            return dict(WORKER.findall("".join(log))), "".join(log)
    raise AssertionError(f"never saw {until!r}:\n{''.join(log)}")


def _gone(pids, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(process_alive(int(pid)) for pid in pids):
            return True
        time.sleep(0.05)
    return False



def test_a_build_killed_while_runs_train_side_by_side_leaves_no_worker_and_resumes(project):
    proc = project.start("killed", *LONGER, *SIDE)
    workers, log = _worker_pids(proc, "B2 seed 2 4/16")  # seeds 0 and 1 stored, seed 2 mid-way
    os.kill(proc.pid, signal.SIGKILL)  # the build alone, outright: its workers must not outlive it
    proc.wait(timeout=60)
    assert len(set(workers.values())) == 2 and _gone(workers.values()), log
    project.consistent("killed")
    assert list((project.root / "killed").glob("checkpoints/*.npz")), "nothing to resume from"

    again = project.run("killed", *LONGER, *SIDE)
    assert again.returncode == 0 and "resuming from checkpoint" in again.stderr, again.stderr  # a worker's log line
    assert project.histories("killed") == project.histories("one-longer")  # resumed runs end bit-identical
    assert not list((project.root / "killed").glob("checkpoints/*.npz"))  # removed once their results were stored


def test_ctrl_c_while_runs_train_side_by_side_ends_the_build_and_its_workers_and_they_resume(project):
    proc = project.start("interrupted", *LONGER, *SIDE)
    workers, log = _worker_pids(proc, "B2 seed 1 4/16")  # two runs mid-way
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal sends it: to the build and its workers
    assert proc.wait(timeout=60) == 130, log + proc.stderr.read()
    assert "Traceback" not in proc.stderr.read() and _gone(workers.values()), log
    project.consistent("interrupted")

    again = project.run("interrupted", *LONGER, *SIDE)  # both resume, side by side again
    assert again.returncode == 0 and again.stderr.count("resuming from checkpoint") == 2, again.stderr  # workers' lines
    assert project.histories("interrupted") == project.histories("one-longer")


def test_a_worker_that_dies_ends_the_build_in_one_line_and_keeps_what_finished(project):
    proc = project.start("lost", *LONGER, *SIDE)
    workers, log = _worker_pids(proc, "B2 seed 2 4/16")
    os.kill(int(workers["B2 seed 2"]), signal.SIGKILL)  # as the out-of-memory killer would
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 2, log + rest
    errors = [line for line in rest.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "a training process died" in errors[0] and "Traceback" not in rest, log + rest
    assert _gone(workers.values())
    project.consistent("lost")
    stored = project.histories("lost")
    reference = project.histories("one-longer")
    assert len(stored) == 2 and all(stored[key] == reference[key] for key in stored)  # seeds 0 and 1, right
