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
from typing import TYPE_CHECKING

from dlreport.cachedir import CacheDir
from dlreport.runs import keys
from dlreport.runs.machine import available_cores
from dlreport.runs.placement import Executor, Placement, elapsed_label, length, local_slots

if TYPE_CHECKING:  # the training side is imported when something trains: planning needs none of it
    from dlreport.data.rundata import RunData

log = logging.getLogger("dlreport.runs.runner")

class Local:
    """The runs on this machine, resumable from their checkpoints: one after another in the
    build's process, or, when `at_once` > 1, that many at a time, each in a worker process
    of its own with `threads` threads (None: the cores shared out between them; a run
    alone in the build's process, the framework's default), see `Side`.

    Why worker processes: a mini-batch run spends most of a step in the fixed cost of
    each small operation, which a second thread barely shortens; two runs side by side,
    a thread each, do nearly twice the work in the same time. A run's numbers do not
    depend on beside what it trains (with the same threads, not on where either: its
    result is a pure function of its spec), and the driver alone stores results, as with
    a cluster.
    """

    def __init__(self, cache: CacheDir, threads: int | None = None, at_once: int = 1) -> None:
        self.cache, self.threads, self.at_once = cache, threads, at_once

    def start(self, runs: list, loaded: dict[str, RunData]) -> None:
        pass

    def train(self, runs: list, loaded: dict[str, RunData]) -> Iterator[tuple]:
        if (at_once := min(self.at_once, len(runs))) > 1:
            from dlreport.runs.side import Side

            threads = self.threads or max(1, available_cores() // at_once)
            yield from Side(self.cache, threads, at_once).train(runs, loaded)
        else:
            yield from self._one_by_one(runs, loaded)

    def _one_by_one(self, runs: list, loaded: dict[str, RunData]) -> Iterator[tuple]:
        from dlreport.runs import training
        from dlreport.runs.checkpoints import Checkpoint
        from dlreport.runs.progress import Board

        board, began = Board(), time.perf_counter()
        try:
            for k, p in enumerate(runs, 1):
                log.info("%s %s running %s", elapsed_label(k, len(runs), began), p.label, p.key[:12])
                start = time.perf_counter()
                checkpoint = Checkpoint(self.cache.checkpoint(p.key))
                progress = board.run(p.label, length(p.spec))
                try:
                    result = training.run_spec(p.spec, loaded[keys.digest(p.spec["data"])], progress, checkpoint,
                                               self.threads)
                finally:
                    progress.close()
                yield p, result, {"executor": "local"}, time.perf_counter() - start
                checkpoint.clear()  # only now: the driver has stored the result
        finally:
            board.close()

    def close(self) -> None:
        pass


def choose(placement: Placement, cache: CacheDir) -> Executor:
    """The executor a placement asks for; Ray is imported only here, and only when asked."""
    if placement.executor == "ray":
        from dlreport.runs.cluster import Ray

        return Ray(placement)
    at_once, threads = local_slots(placement)
    return Local(cache, threads, at_once)
