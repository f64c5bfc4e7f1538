"""Runs: take each experiment's result from the store, or train it.

`run_spec` is the one place training happens and it is a pure function of its
arguments: a run spec (plain data) in, a result (plain data) out, no hidden state.
That keeps the door open to shipping runs to another machine or a cluster engine.
TensorFlow is imported inside it, so a build that trains nothing never pays for it.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

from experiments.definitions import Experiment
from experiments.metrics import VAL_ACC
from report.cachedir import CacheDir
from report.data import datasets, splits
from report.errors import ReportError
from report.runs import keys, machine, source
from report.runs.checkpoints import Checkpoint
from report.runs.progress import RunProgress
from report.runs.store import ResultStore

log = logging.getLogger(__name__)


@dataclass
class Planned:
    """One run of a build (an experiment under one seed): its spec, its key, and the stored
    entry if there is one."""

    experiment: Experiment
    seed: int
    spec: dict
    components: dict
    key: str
    entry: dict | None


    @property
    def label(self) -> str:
        return f"{self.experiment.id} seed {self.seed}"


@dataclass
class Outcome:
    experiment: Experiment
    seed: int
    key: str
    components: dict
    result: dict
    source: str  # "cache" (local), "frozen" or "run"
    seconds: float  # time this build spent on it (lookup or training)


def plan(runs: list[tuple[Experiment, int, dict]], store: ResultStore, rerun: set[str]) -> list[Planned]:
    """Each (experiment, seed, spec) with its key and stored entry; `rerun` ids are not looked up."""
    planned = []
    for exp, seed, spec in runs:
        parts = keys.components(spec)
        key = keys.key_of(parts)
        entry = None if exp.id in rerun else store.get(key)
        planned.append(Planned(exp, seed, spec, parts, key, entry))
    return planned


def honoured(trainer: str) -> tuple[tuple[str, ...], dict[str, tuple]] | None:
    """What a trainer module declares it reads and implements (read from its source, so that
    checking a definition costs no TensorFlow import); None when it declares nothing."""
    module = f"{keys.TRAINERS_PACKAGE}.{trainer}"
    if not source.module_file(module).is_file():
        raise ReportError(f"trainer {trainer!r} is not a module of {keys.TRAINERS_PACKAGE}/")
    names = source.constant(module, "HYPER_PARAMETERS")
    return None if names is None else (tuple(names), dict(source.constant(module, "CHOICES", {})))


def import_tensorflow():
    """Import TensorFlow with its native start-up chatter (CUDA probing) kept off the console.

    That chatter is written by C++ code straight to file descriptor 2, which Python's
    logging cannot filter, so the descriptor is pointed at /dev/null for the import only.
    The kernel settings the cache keys assume (`keys.engine`) are put in place first.
    """
    os.environ.setdefault(keys.ONEDNN_VARIABLE, keys.ONEDNN_DEFAULT)
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")
            tf.get_logger().setLevel(logging.ERROR)  # its retracing warnings are for TensorFlow's developers
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tf


def hardware() -> dict:
    """What ran the experiment: the host's CPU, and any GPU TensorFlow sees."""
    tf = import_tensorflow()

    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    return {**machine.host(), "gpus": gpus, "device": "GPU" if gpus else "CPU"}


class Diverged(Exception):
    """A metric stopped being a finite number: the run cannot go on."""

    def __init__(self, step: int, total: int, metrics: list[str]) -> None:
        super().__init__(f"diverged at step {step} of {total}: {', '.join(metrics)} not finite")
        self.failure = {"step": step, "total": total, "metrics": metrics, "reason": str(self)}


def run_spec(spec: dict, data: splits.RunData, progress, checkpoint: Checkpoint) -> dict:
    """Train one run spec on its data and return its result: histories, final metrics, time, hardware.

    A run whose loss or accuracy becomes NaN or infinite is stopped there and its result
    says so (`failed`: where and which metric), with the history up to the last finite
    step; like any result it is a pure function of the spec, so it is cached too."""
    tf = import_tensorflow()
    tf.config.experimental.enable_op_determinism()
    trainer = importlib.import_module(f"experiments.{spec['trainer']}")
    seen: dict[str, list[float]] = {}

    def watched(step: int, total: int, metrics: dict) -> None:
        bad = [k for k, v in metrics.items() if not math.isfinite(float(v))]
        if bad:
            raise Diverged(step, total, bad)
        for name, value in metrics.items():
            seen.setdefault(name, []).append(float(value))
        progress(step, total, metrics)

    start = time.perf_counter()
    failed = None
    try:
        history = trainer.train(spec, data, watched, checkpoint)
    except Diverged as exc:
        failed = exc.failure
        # only a history seen from step 1 (not resumed from a checkpoint) is complete enough to plot
        history = seen if all(len(v) == failed["step"] - 1 for v in seen.values()) else {}
    seconds = time.perf_counter() - start
    return {
        **({"failed": failed} if failed else {}),
        "history": history,
        "final": {} if failed else {name: values[-1] for name, values in history.items()},
        "unit": "iteration" if "iterations" in spec["hparams"] else "epoch",
        "train_seconds": round(seconds, 3),
        "data": data.summary(),
        "hardware": hardware(),
        "versions": keys.versions(),
        "engine": keys.engine(),
        "seed": spec["seed"],
    }


def _check_failure(label: str, result: dict, keep_going: bool) -> None:
    if "failed" not in result:
        return
    if not keep_going:
        raise ReportError(f"{label} {result['failed']['reason']}: fix its definition, or pass --keep-going "
                          "to build the rest and show it as failed")
    log.warning("%s FAILED: %s (--keep-going: the report shows it as failed)", label, result["failed"]["reason"])


def load_data(planned: list[Planned], data_dir: Path, cache: CacheDir) -> dict[str, splits.RunData]:
    """The arrays of every run that must train, by the digest of its data spec: verified and
    decoded once, before anything trains (a damaged file stops the build here, not mid-way)."""
    decoded = datasets.DecodedCache(cache.decoded)
    specs = {keys.digest(p.spec["data"]): p.spec["data"] for p in planned if p.entry is None}
    return {digest: splits.load_run_data(spec, data_dir, decoded) for digest, spec in specs.items()}


def by_experiment(runs: list[Outcome]) -> dict[str, list[Outcome]]:
    """Experiment id → its finished runs (the seeds that did not fail), in the build's order."""
    out: dict[str, list[Outcome]] = {}
    for o in runs:
        if "failed" not in o.result:
            out.setdefault(o.experiment.id, []).append(o)
    return out


def obtain(planned: list[Planned], store: ResultStore, data_dir: Path, cache: CacheDir,
           keep_going: bool = False, loaded: dict[str, splits.RunData] | None = None) -> list[Outcome]:
    """Every planned run's result: from the store when its key is there, else trained.

    Two runs with the same key (the same run under two names) are trained once.
    A failed (diverged) result stops the build unless `keep_going`.
    """
    outcomes = []
    trained: dict[str, dict] = {}
    loaded = dict(loaded or {})  # data already loaded (and verified) by `load_data`
    to_train = len({p.key for p in planned if p.entry is None})
    began = time.perf_counter()
    for p in planned:
        if p.entry is None and p.key in trained:
            log.info("%s same run as one above %s", p.label, p.key[:12])
            outcomes.append(Outcome(p.experiment, p.seed, p.key, p.components, trained[p.key], "cache", 0.0))
            continue
        if p.entry is not None:
            tier = "frozen" if store.where(p.key) == "frozen" else "cache"
            log.info("%s cached (%s) %s", p.label, tier, p.key[:12])
            _check_failure(p.label, p.entry["result"], keep_going)
            outcomes.append(Outcome(p.experiment, p.seed, p.key, p.components, p.entry["result"], tier, 0.0))
            continue
        log.info("[%d/%d, %.0f s] %s running %s", len(trained) + 1, to_train, time.perf_counter() - began, p.label, p.key[:12])
        start = time.perf_counter()
        data_key = keys.digest(p.spec["data"])
        if data_key not in loaded:
            loaded[data_key] = splits.load_run_data(p.spec["data"], data_dir, datasets.DecodedCache(cache.decoded))
        checkpoint = Checkpoint(cache.checkpoint(p.key))
        progress = RunProgress(p.label)
        try:
            result = run_spec(p.spec, loaded[data_key], progress, checkpoint)
        finally:
            progress.close()
        try:
            store.put(p.key, p.components, result)
        except OSError as exc:
            raise ReportError(f"cannot store the result of {p.label} in {store.local}: {exc.strerror or exc}") from None
        checkpoint.clear()
        trained[p.key] = result
        seconds = time.perf_counter() - start
        _check_failure(p.label, result, keep_going)
        log.info("%s done in %.1f s: %s", p.label, seconds,
                 f"{VAL_ACC}={result['final'][VAL_ACC]:.4f}" if result["final"] else "failed")
        outcomes.append(Outcome(p.experiment, p.seed, p.key, p.components, result, "run", seconds))
    return outcomes
