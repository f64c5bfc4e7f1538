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
from pathlib import Path
from typing import TYPE_CHECKING

from dlreport.cachedir import CacheDir
from dlreport.runs import keys
from dlreport.runs.placement import Executor, Placement, elapsed_label, length

if TYPE_CHECKING:  # the training side is imported when something trains: planning needs none of it
    from dlreport.data.rundata import RunData

log = logging.getLogger("dlreport.runs.runner")

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
