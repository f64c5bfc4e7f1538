"""Where runs train: in the build's own process (the default), or on a Ray cluster.

An executor takes the runs that must train and yields each one's result as it finishes;
it never writes the results store: the driver (`runner.obtain`) alone does, under the
build's lock, so a cluster changes where the arithmetic happens and nothing else. Both
executors call the same pure function, `training.run_spec`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dlreport.cachedir import CacheDir
from dlreport.runs import keys

if TYPE_CHECKING:  # the training side is imported when something trains: planning needs none of it
    from dlreport.data.rundata import RunData

log = logging.getLogger("dlreport.runs.runner")

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class Placement:
    """How the runs of a build are placed: on which executor, with how much of a machine each."""

    executor: str = "local"
    address: str | None = None  # a Ray cluster; None: the one in RAY_ADDRESS, else a Ray started here
    cpus_per_run: int | None = None  # None: TensorFlow's default threads locally, one CPU a task on Ray
    gpus_per_run: float = 0.0


class Executor(Protocol):
    def start(self, runs: list, loaded: dict[str, RunData]) -> None:
        """Connect and check everything that could stop training half-way, before anything trains."""

    def train(self, runs: list, loaded: dict[str, RunData]) -> Iterator[tuple]:
        """(planned run, result, where it trained, seconds) for each run, as each finishes."""

    def close(self) -> None: ...


def length(spec: dict) -> int | None:
    """How many steps (iterations or epochs) a run spec trains for: its progress bar's total."""
    return spec["hparams"].get("iterations") or spec["hparams"].get("epochs")


def elapsed_label(k: int, n: int, began: float) -> str:
    return f"[{k}/{n}, {time.perf_counter() - began:.0f} s]"


class Local:
    """One run after another in the build's process, resumable from its checkpoint."""

    def __init__(self, data_dir: Path, cache: CacheDir, threads: int | None = None) -> None:
        self.data_dir, self.cache, self.threads = data_dir, cache, threads

    def start(self, runs: list, loaded: dict[str, RunData]) -> None:
        pass

    def train(self, runs: list, loaded: dict[str, RunData]) -> Iterator[tuple]:
        from dlreport import study
        from dlreport.data import datasets
        from dlreport.runs import training
        from dlreport.runs.checkpoints import Checkpoint
        from dlreport.runs.progress import Board

        board, began = Board(), time.perf_counter()
        try:
            for k, p in enumerate(runs, 1):
                log.info("%s %s running %s", elapsed_label(k, len(runs), began), p.label, p.key[:12])
                start = time.perf_counter()
                data_key = keys.digest(p.spec["data"])
                if data_key not in loaded:
                    decoded = datasets.DecodedCache(self.cache.decoded)
                    loaded[data_key] = study.current().data.load(p.spec["data"], self.data_dir, decoded)
                checkpoint = Checkpoint(self.cache.checkpoint(p.key))
                progress = board.run(p.label, length(p.spec))
                try:
                    result = training.run_spec(p.spec, loaded[data_key], progress, checkpoint, self.threads)
                finally:
                    progress.close()
                yield p, result, {"executor": "local"}, time.perf_counter() - start
                checkpoint.clear()  # only now: the driver has stored the result
        finally:
            board.close()

    def close(self) -> None:
        pass


def choose(placement: Placement, data_dir: Path, cache: CacheDir) -> Executor:
    """The executor a placement asks for; Ray is imported only here, and only when asked."""
    if placement.executor == "ray":
        from dlreport.runs.cluster import Ray

        return Ray(placement)
    return Local(data_dir, cache, placement.cpus_per_run)
