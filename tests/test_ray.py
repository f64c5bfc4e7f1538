"""The Ray executor against a real cluster on this machine: a head and a second node on
loopback (`ray.cluster_utils.Cluster`), one CPU and a small object store each. The real
`build.py` joins it by address and trains quick-profile runs on the real data.

What is checked: runs spread over both nodes and the record says which node trained
each; a worker killed mid-run is retried, and the build's results are still bit-identical
to the same runs trained locally with the same thread count; a build that trains nothing
never contacts Ray; an unreachable address, a cluster without
the requested resources and a node that cannot import TensorFlow are one line and exit 2
before anything trains.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DATA, copy_project

pytestmark = pytest.mark.e2e
ray = pytest.importorskip("ray", reason="Ray is not installed (pip install '.[ray]')")

RUNS = ["--profile", "quick", "--notmnist-split", "substitute", "--only", "A1,B1", "--cpus-per-run", "1", "--publish"]
ENV = {**os.environ, "REPORT_DATA_DIR": str(DATA), "SOURCE_DATE_EPOCH": "1790000000"}
ENV.pop("RAY_ADDRESS", None)
RUNNING = re.compile(r"seed \d running on \S+ \(pid (\d+)\)")  # a run has started in this worker process
NODE = {"num_cpus": 1, "object_store_memory": 80 * 2**20, "node_ip_address": "127.0.0.1"}  # loopback only


@pytest.fixture(scope="module")
def cluster():
    if not (DATA / "fashion-mnist").is_dir():
        pytest.skip(f"real data not found in {DATA}: set REPORT_DATA_DIR")
    from ray.cluster_utils import Cluster

    try:
        c = Cluster(initialize_head=True, head_node_args=NODE)
        c.add_node(**NODE)
    except Exception as exc:  # noqa: BLE001 - whatever keeps Ray from starting here is the reason to skip
        pytest.skip(f"a Ray cluster cannot start on this machine: {exc}")
    yield c
    c.shutdown()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("ray-project"))


# What the first build lends the later ones: the decoded datasets (verified on every read)
# and the drawings and PDF pieces (named by what they were made from). Each build still
# trains and stores its own results.
LENT = ("decoded", "figures", "equations", "pdf")


def build(project: Path, name: str, *args: str, wait: bool = True, epoch: int | None = None):
    """build.py in the project copy, with its own cache and output folders per `name`."""
    for folder in LENT:
        first, own = project / "cache-ray" / folder, project / f"cache-{name}" / folder
        if first.is_dir() and not own.exists():
            shutil.copytree(first, own)
    cmd = [sys.executable, "build.py", *RUNS, "--cache-dir", f"cache-{name}", "--out", f"out-{name}", *args]
    env = {**ENV, "SOURCE_DATE_EPOCH": str(epoch)} if epoch else ENV
    if not wait:
        return subprocess.Popen(cmd, cwd=project, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    return subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=300)


def results(project: Path, name: str) -> dict[str, dict]:
    """Key -> stored result (the histories, final metrics) of a cache folder."""
    return {p.stem: json.loads(p.read_text())["result"] for p in (project / f"cache-{name}" / "results").glob("*/*.json")}


def numbers(result: dict) -> tuple:
    return result["history"], result["final"], result["data"]


@pytest.fixture(scope="module")
def on_ray(cluster, project) -> str:
    """The first build on the cluster, whose first run loses its worker process (SIGKILL)
    once it has started; returns the build's console."""
    proc = build(project, "ray", "--executor", "ray", "--ray-address", cluster.address, wait=False)
    killed, lines = None, []
    deadline = time.monotonic() + 300
    for line in proc.stderr:
        lines.append(line)
        found = RUNNING.search(line)
        if found and killed is None:
            killed = int(found.group(1))
            os.kill(killed, signal.SIGKILL)
        assert time.monotonic() < deadline, "".join(lines)
    assert proc.wait(timeout=60) == 0, "".join(lines)
    assert killed is not None, "".join(lines)
    return "".join(lines)


def test_runs_spread_over_both_nodes_and_the_record_says_where(on_ray, cluster, project):
    rec = json.loads((project / "out-ray" / "record.json").read_text())
    trained = [r for r in rec["runs"] if r["source"] == "run"]
    assert len(trained) == 4 and all(r["trained_on"]["executor"] == "ray" for r in trained)
    used = {r["trained_on"]["node"] for r in trained}
    assert used == {cluster.head_node.node_id, *(n.node_id for n in cluster.worker_nodes)}  # both nodes trained
    assert all(r["trained_on"]["data_wait_s"] >= 0 for r in trained)
    assert rec["placement"] == {"executor": "ray", "address": cluster.address, "cpus_per_run": 1, "gpus_per_run": 0.0,
                               "runs_at_once": None}
    assert re.search(r"A1 seed 0 running on \S+ \(pid \d+\)", on_ray)
    assert re.search(r"A1 seed 0 on \S+ 60/60", on_ray)  # progress of a remote run on the driver's console


def test_a_worker_killed_mid_run_is_retried(on_ray, project):
    """The run whose worker was killed runs again and its result is whole: stored under the
    planned key with every step of its history and its final metrics, and in the record."""
    assert "running again on" in on_ray and "its worker was lost" in on_ray, on_ray
    victim = re.search(r"(\S+) seed (\d) running on \S+ \(pid \d+\)", on_ray)  # the first run that started: the one killed
    rec = json.loads((project / "out-ray" / "record.json").read_text())
    (run,) = [r for r in rec["runs"] if (r["id"], r["seed"]) == (victim[1], int(victim[2]))]
    result = results(project, "ray")[run["key"]]
    steps = {len(v) for v in result["history"].values()}
    assert "failed" not in result and len(steps) == 1 and steps.pop() > 1, result.get("failed")
    assert result["final"] == {m: v[-1] for m, v in result["history"].items()} and run["source"] == "run"


def test_ray_results_are_bit_identical_to_local_training(on_ray, project):
    """Every run of the Ray build, the one whose worker was killed included, equals local training."""
    local = build(project, "local")
    assert local.returncode == 0, local.stderr
    remote, here = results(project, "ray"), results(project, "local")
    assert set(remote) == set(here) and len(here) == 4  # the same keys: where a run trains is not in its key
    for key in here:
        assert numbers(remote[key]) == numbers(here[key]), key
        assert remote[key]["hardware"]["threads"] == here[key]["hardware"]["threads"] == 1


def test_a_build_that_trains_nothing_never_contacts_ray(on_ray, project):
    again = build(project, "ray", "--executor", "ray", "--ray-address", "127.0.0.1:1")  # nobody listens there
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stderr


def test_a_build_on_ray_with_every_run_stored_renders_without_joining(on_ray, cluster, project):
    again = build(project, "ray", "--executor", "ray", "--ray-address", cluster.address, epoch=1790000500)
    assert again.returncode == 0 and "0 trained, 4 cached" in again.stderr, again.stderr  # rendered anew, nothing to train
    assert "Traceback" not in again.stderr and "Ray:" not in again.stderr


def test_workers_get_the_projects_code_and_nothing_else(tmp_path):
    """What a build uploads to the cluster: the packages the keys hash (the engine's as
    `dlreport`), templates/ and the project's configuration, byte for byte, without bytecode;
    never caches, outputs, data or the frozen store, which would be packed and uploaded with
    every build."""
    from dlreport import ROOT
    from dlreport.runs.cluster import Ray
    from dlreport.runs.placement import Placement

    executor = Ray(Placement("ray"))
    shipped = Path(executor._ship())
    try:
        files = {p.relative_to(shipped) for p in shipped.rglob("*") if p.is_file()}
        wanted = {Path(top) / p.relative_to(ROOT / folder): p for top, folder in (("experiments", "experiments"),
                  ("dlreport", "report"), ("templates", "templates")) for p in (ROOT / folder).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts}
        wanted[Path("pyproject.toml")] = ROOT / "pyproject.toml"
        assert files == set(wanted)
        assert all((shipped / f).read_bytes() == wanted[f].read_bytes() for f in files)
    finally:
        executor.close()
    assert not shipped.exists()  # the copy is the build's own and goes with it


def test_mistakes_are_one_line_and_exit_2_before_anything_trains(cluster, project):
    unreachable = build(project, "bad", "--executor", "ray", "--ray-address", "127.0.0.1:1")
    no_gpu = build(project, "bad", "--executor", "ray", "--ray-address", cluster.address, "--gpus-per-run", "1")
    for result, words in ((unreachable, "no Ray cluster answers at 127.0.0.1:1"), (no_gpu, "1 GPU(s)")):
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith("error: ") and words in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and " running" not in result.stderr
    assert not list((project / "cache-bad" / "results").glob("*/*.json"))


def test_a_node_that_cannot_import_tensorflow_stops_the_build_before_training(cluster, project, tmp_path):
    fake = tmp_path / "shadow" / "tensorflow"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no TensorFlow on this node')\n")
    node = cluster.add_node(**NODE, env_vars={"PYTHONPATH": str(fake.parent)})
    try:
        result = build(project, "notf", "--executor", "ray", "--ray-address", cluster.address)
    finally:
        cluster.remove_node(node)
    assert result.returncode == 2, result.stderr
    assert "cannot train: TensorFlow cannot be imported there" in result.stderr and "no TensorFlow on this node" in result.stderr
    assert " running" not in result.stderr and "Traceback" not in result.stderr
    assert not list((project / "cache-notf" / "results").glob("*/*.json"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_a_killed_driver_takes_its_tasks_with_it_and_the_next_build_resumes(on_ray, cluster, project):
    proc = build(project, "driver", "--executor", "ray", "--ray-address", cluster.address, "--only", "A1", "--seeds", "1",
                 wait=False)
    worker = None
    for line in proc.stderr:
        if found := RUNNING.search(line):
            worker = int(found.group(1))
            proc.kill()  # the driver, mid-run
            break
    proc.wait(timeout=30)
    assert worker is not None
    from dlreport.fsutil import SYSTEM_TEMP

    left = list(Path(SYSTEM_TEMP).glob(f"dlreport-shipped-{proc.pid}-*"))
    assert left, "the killed driver left no shipped copy: nothing to check"  # what the next build must remove
    deadline = time.monotonic() + 60
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _alive(worker), "the dead driver's task kept running"
    from dlreport.runs.store import ResultStore

    store = ResultStore(project / "cache-driver" / "results", project / "frozen")
    assert all(store.get(p.stem) for p in (project / "cache-driver" / "results").glob("*/*.json"))  # nothing half-written
    again = build(project, "driver", "--executor", "ray", "--ray-address", cluster.address, "--only", "A1", "--seeds", "1")
    assert again.returncode == 0, again.stderr
    first = results(project, "ray")
    assert all(numbers(r) == numbers(first[k]) for k, r in results(project, "driver").items())
    assert not any(p.exists() for p in left)  # the dead driver's copy went with the next build


def test_a_cluster_that_loses_every_node_ends_the_build_in_one_line(project):
    """Its own cluster (the others' is left whole): a head that trains nothing and two nodes
    that do, both killed once runs have started."""
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={**NODE, "num_cpus": 0})
    nodes = [c.add_node(**NODE) for _ in range(2)]
    try:
        proc = build(project, "lost", "--executor", "ray", "--ray-address", c.address, wait=False)
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if RUNNING.search(line):
                for node in nodes:
                    c.remove_node(node, allow_graceful=False)
                break
        code = proc.wait(timeout=120)
        console = "".join(lines) + proc.stderr.read()
    finally:
        c.shutdown()
    assert code == 2, console
    assert "Traceback" not in console and console.strip().splitlines()[-1].startswith("error: "), console
    assert "Ray cluster" in console.strip().splitlines()[-1], console
