"""Runs on a Ray cluster (`--executor ray`): each run that must train is one Ray task
calling the same pure function as a local build, `training.run_spec`.

What makes a cluster safe for a cache keyed by code and versions:

* the driver ships its own code to the workers (Ray's `working_dir`: the packages the keys
  hash, nothing else), so a task runs the code the driver hashed; before anything trains,
  one probe task per node imports TensorFlow and computes a planned run's key there, and a
  node whose key differs (other library versions, kernel settings, code) stops the build in
  one line;
* no shared file system: the driver verifies the datasets and puts each run's arrays
  into Ray's object store once per build; a task's checkpoints stay on its node (a task
  retried there resumes; elsewhere it starts again, with the same numbers either way);
* the driver alone writes the results store, under the build's lock: a task returns
  its result, nothing else;
* a worker that dies is retried by Ray (`max_retries`); a driver that dies takes its
  tasks with it (they belong to its Ray job), and the next build trains what is missing.

Progress travels back through a small actor: each task reports its start (node and
process) and its steps, the driver shows them as it shows local runs.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from dlreport import frameworks, project
from dlreport.data.rundata import RunData
from dlreport.errors import ReportError, shorten
from dlreport.fsutil import SYSTEM_TEMP, private_temp_folder
from dlreport.runs import keys, training
from dlreport.runs.checkpoints import Checkpoint
from dlreport.runs.placement import Placement
from dlreport.runs.progress import REPORT_EVERY_S, Elsewhere, Relay
from dlreport.runs.result import Result

log = logging.getLogger("dlreport.runs.runner")

# What a worker gets of the driver's project: the code the keys hash (the engine's package and
# the study's), templates/, and the configuration that makes the folder a project (`project.find`).
# Only these, so that caches, outputs or data a user keeps in the project (a build's own
# `--cache-dir`, say) are never packed and uploaded with each build.
MAX_RETRIES = 3  # a task whose worker process or node died is run again, up to this many times
NODES_EVERY_S = 5.0  # how often a build waiting for its runs checks that a node can still train them
CONNECT_TIMEOUT_S = 5.0
LOCAL_IP = "127.0.0.1"
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


def _ray(address: str | None = None):
    """Ray, imported on first use. For a cluster on loopback (`ray start --node-ip-address
    127.0.0.1`), Ray is told to keep "127.0.0.1" as it is: by default it swaps it for the
    machine's network address, where a loopback-only cluster does not listen. Ray reads
    that setting when it is imported, hence here."""
    if address and address.rpartition(":")[0] in LOOPBACK_NAMES:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # only its localhost resolution reads it on Linux
    try:
        import ray
    except ImportError:
        raise ReportError("--executor ray needs Ray: pip install 'dlreport[ray]' (or ray==2.60.0)") from None
    return ray


def _first_line(exc: BaseException) -> str:
    return shorten((str(exc).strip().splitlines() or [type(exc).__name__])[0], 200)


def resolved_address(placement: Placement) -> str | None:
    """The cluster to join: --ray-address, else Ray's own RAY_ADDRESS; None starts a Ray here."""
    return placement.address or os.environ.get("RAY_ADDRESS") or None


def _check_reachable(address: str) -> None:
    """An address nobody answers at is one line at once (Ray itself would retry for a minute)."""
    if "://" in address or address == "auto":
        return  # a Ray client address or a local cluster's file: left to Ray
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except ValueError:
        raise ReportError(f"--ray-address {address!r}: write HOST:PORT of the cluster's head, e.g. 127.0.0.1:6379") from None
    except OSError as exc:
        raise ReportError(f"no Ray cluster answers at {address} ({exc.strerror or exc}): start one with "
                          "`ray start --head`, or leave out --ray-address to start Ray here") from None


class _Sink:
    """A Ray actor the tasks report to; the driver drains it while it waits."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def put(self, event: tuple) -> None:
        self.events.append(event)

    def drain(self) -> list[tuple]:
        out, self.events = self.events, []
        return out


def _here() -> dict:
    import ray

    return {"node": ray.get_runtime_context().get_node_id(), "host": socket.gethostname(), "pid": os.getpid()}


def _probe(spec: dict) -> dict:
    """On one node: can it train, and does it compute the driver's key for `spec`?"""
    framework = frameworks.of(spec["trainer"])
    try:
        framework.load()
    except Exception as exc:  # noqa: BLE001 - any reason a worker cannot import it is reported the same way
        return {**_here(), "error": f"{framework.label} cannot be imported there ({type(exc).__name__}: {exc})"}
    parts = keys.components(spec)
    return {**_here(), "key": keys.key_of(parts), "components": parts}


def _train_task(spec: dict, key: str, label: str, boxed_data: list, sink, threads: int) -> tuple[dict, dict]:
    """One run, on a worker: its data from the object store (timed), its result back."""
    import ray

    where = _here()
    node = f"{where['host']}/{where['node'][:8]}"
    sink.put.remote(("start", label, f"on {node} (pid {where['pid']})", f"{label} on {node}"))
    began = time.perf_counter()
    data: RunData = ray.get(boxed_data[0])
    waited = time.perf_counter() - began
    if keys.key_of(keys.components(spec)) != key:  # the probe checked the node; a worker must agree too
        raise RuntimeError(f"worker on {where['host']} computes another cache key for {label}")
    checkpoint = Checkpoint(Path(SYSTEM_TEMP) / "dlreport-checkpoints" / f"{key}.npz")
    result = training.run_spec(spec, data, Relay(sink.put.remote, label), checkpoint, threads)
    checkpoint.clear()
    return result, {"executor": "ray", **where, "data_wait_s": round(waited, 3), "threads": threads}


def nodes_fitting(ray, placement: Placement) -> list[dict]:
    """The alive nodes with the CPUs and GPUs one run asks for."""
    cpus, gpus = placement.cpus_per_run or 1, placement.gpus_per_run
    return [n for n in ray.nodes() if n.get("Alive") and n["Resources"].get("CPU", 0) >= cpus
            and n["Resources"].get("GPU", 0) >= gpus]


def slots(placement: Placement) -> int:
    """How many runs the cluster trains at once (for `status`'s estimate). A Ray that
    would be started here is counted from this machine's CPUs, without starting it."""
    address = resolved_address(placement)
    if address is None:
        return max(1, (os.cpu_count() or 1) // (placement.cpus_per_run or 1))
    ray = _ray(address)
    _check_reachable(address)
    ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    try:
        return max(1, slots_of(nodes_fitting(ray, placement), placement))
    finally:
        ray.shutdown()


def slots_of(nodes: list[dict], placement: Placement) -> int:
    """Runs the given nodes hold at once, by CPUs and, when runs ask for them, GPUs."""
    cpus, gpus = placement.cpus_per_run or 1, placement.gpus_per_run

    def fits(resources: dict) -> int:
        by_cpu = resources.get("CPU", 0) // cpus
        return int(min(by_cpu, resources.get("GPU", 0) // gpus) if gpus else by_cpu)

    return sum(fits(n["Resources"]) for n in nodes)


class Ray:
    """Trains the runs as Ray tasks, as many at once as the cluster's resources allow."""

    def __init__(self, placement: Placement) -> None:
        self.placement = placement
        self.cpus = placement.cpus_per_run or 1
        self.ray = None
        self.refs: dict[str, object] = {}
        self.shipped: Path | None = None

    def start(self, runs: list, loaded: dict[str, RunData]) -> None:
        address = resolved_address(self.placement)
        ray = _ray(address)
        if address is not None:
            _check_reachable(address)
        env = {k: v for f in {frameworks.of(p.spec["trainer"]) for p in runs} for k, v in f.environment().items()}
        shipped = {"working_dir": self._ship(), "env_vars": env}
        began = time.perf_counter()
        try:
            here = {"_node_ip_address": LOCAL_IP} if not address or address.rpartition(":")[0] in LOOPBACK_NAMES else {}
            ray.init(address=address or "local", runtime_env=shipped, logging_level=logging.ERROR, log_to_driver=False,
                     include_dashboard=False, **here)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ReportError(f"cannot join the Ray cluster at {address or 'this machine'}: {str(exc).splitlines()[0]}") from None
        self.ray = ray
        fitting = nodes_fitting(ray, self.placement)
        if not fitting:
            have = ", ".join(f"{n['NodeManagerAddress']} CPU {n['Resources'].get('CPU', 0):g} "
                             f"GPU {n['Resources'].get('GPU', 0):g}" for n in ray.nodes() if n.get("Alive"))
            raise ReportError(f"no node of the Ray cluster has {self.cpus} CPU(s) and {self.placement.gpus_per_run:g} GPU(s) "
                              f"for one run (nodes: {have}): lower --cpus-per-run / --gpus-per-run or add a node")
        self._probe_nodes(fitting, runs[0])
        for p in runs:
            data_key = keys.digest(p.spec["data"])
            if data_key not in self.refs:
                self.refs[data_key] = ray.put(loaded[data_key])
        log.info("Ray: %d node(s) can train, up to %d run(s) at once; joined and checked in %.1f s",
                 len(fitting), slots_of(fitting, self.placement), time.perf_counter() - began)

    def _ship(self) -> str:
        """A folder holding a copy of the project's code, for Ray to pack and upload (the
        copies of drivers that were killed are removed first: `private_temp_folder`)."""
        self.shipped = private_temp_folder("shipped")
        here = project.current()
        for name, folder in here.sources().items():
            shutil.copytree(folder, self.shipped / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(here.root / project.CONFIG, self.shipped / project.CONFIG)
        return str(self.shipped)

    def _probe_nodes(self, nodes: list[dict], sample) -> None:
        """Before anything trains: every node that may be given a run can import TensorFlow
        and computes the driver's key for a planned run."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        probe = self.ray.remote(_probe)
        refs = [probe.options(num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False))
                .remote(sample.spec) for n in nodes]
        for answer in self.ray.get(refs):
            where = f"node {answer['host']} ({answer['node'][:8]})"
            if "error" in answer:
                raise ReportError(f"{where} cannot train: {answer['error']}")
            if answer["key"] != sample.key:
                differ = sorted(k for k in sample.components if sample.components[k] != answer["components"].get(k))
                detail = {k: answer["components"].get(k) for k in differ if k != "code"}
                raise ReportError(f"{where} computes another cache key for {sample.label} ({', '.join(differ)} differ"
                                  f"{f': {detail}' if detail else ''}): install the driver's versions there")

    def train(self, runs: list, loaded: dict[str, RunData]) -> Iterator[tuple]:
        """The runs' results as they finish; a cluster that stops answering (every node gone,
        the head unreachable) ends the build in one line, the results had so far stored."""
        if not runs:
            return
        try:
            yield from self._train(runs)
        except self.ray.exceptions.RayError as exc:
            raise ReportError(f"the Ray cluster stopped answering mid-build ({_first_line(exc)}): the runs that finished "
                              "are stored; build again to train the rest") from None

    def _train(self, runs: list) -> Iterator[tuple]:
        ray = self.ray
        sink = ray.remote(_Sink).options(num_cpus=0).remote()
        task = ray.remote(_train_task).options(num_cpus=self.cpus, num_gpus=self.placement.gpus_per_run,
                                               max_retries=MAX_RETRIES, scheduling_strategy="SPREAD")
        pending = {task.remote(p.spec, p.key, p.label, [self.refs[keys.digest(p.spec["data"])]], sink, self.cpus):
                   (p, time.perf_counter()) for p in runs}
        shown = Elsewhere.of(runs)
        looked = time.perf_counter()
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1, timeout=REPORT_EVERY_S)
                if not done and time.perf_counter() - looked > NODES_EVERY_S:
                    looked = time.perf_counter()
                    if not nodes_fitting(ray, self.placement):  # Ray would wait for one forever
                        raise ReportError(f"no node that can train is left in the Ray cluster ({len(pending)} run(s) "
                                          "unfinished): the runs that finished are stored; build again once nodes "
                                          "have joined")
                for event in ray.get(sink.drain.remote()):
                    shown.event(event)
                for ref in done:
                    p, submitted = pending.pop(ref)
                    shown.finished(p.label)
                    yield (p, *self._result(ref, p), time.perf_counter() - submitted)
        finally:
            shown.close()

    def _result(self, ref, p) -> tuple[Result, dict]:
        try:
            return self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as exc:
            raise ReportError(f"{p.label} failed on the cluster: {_first_line(exc.cause or exc)}") from None
        except self.ray.exceptions.RayError as exc:  # its worker or node died more often than MAX_RETRIES
            raise ReportError(f"{p.label} could not be trained on the cluster: {_first_line(exc)}") from None

    def close(self) -> None:
        if self.ray is not None:
            self.ray.shutdown()  # a Ray started here stops; on a cluster, this build's tasks end with its job
            self.ray = None
        if self.shipped is not None:
            shutil.rmtree(self.shipped, ignore_errors=True)
            self.shipped = None

