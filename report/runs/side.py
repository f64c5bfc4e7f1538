"""Several runs at once on this machine, each in a worker process of its own (what
`executor.Local` does when a build trains more than one run and the machine has the cores).

The workers are started afresh (multiprocessing's "spawn"), not forked: the build's process
may already hold a framework and its threads (a test, the Python API), which a fork copies
in a broken state. Each worker imports the engine, the study and the framework once, and
trains one run after another as the build hands them out:

* a run's arrays travel with it, its result comes back: the build alone writes the results
  store, as with a cluster;
* its progress and its log records come back through one queue, shown as the build's own;
* a worker keeps its run's checkpoints in the cache, where the build's own process would,
  and the build removes one only once it has stored that run's result: a build interrupted
  or killed at any moment leaves checkpoints that the next build resumes from;
* interrupts stay the build's (`interrupts.become_worker`): on an interrupt or an error it
  kills its workers before it ends. A worker that dies (killed, out of memory) ends the
  build in one line, the runs finished so far stored.
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import os
import queue as queues
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import TYPE_CHECKING

from dlreport import frameworks, interrupts
from dlreport.cachedir import CacheDir
from dlreport.errors import ReportError
from dlreport.runs import keys
from dlreport.runs.checkpoints import Checkpoint
from dlreport.runs.progress import REPORT_EVERY_S, Elsewhere, Relay
from dlreport.runs.result import RUNS_AT_ONCE

if TYPE_CHECKING:
    from pathlib import Path

    from dlreport.data.rundata import RunData
    from dlreport.runs.result import Result

_events = None  # in a worker: the queue to the build


def _start_worker(build: int, events, environment: dict[str, str], level: int) -> None:
    global _events
    interrupts.become_worker(build)
    os.environ.update(environment)
    _events = events
    root = logging.getLogger()
    root.handlers = [logging.handlers.QueueHandler(events)]
    root.setLevel(level)


def _train(spec: dict, label: str, data: RunData, checkpoint: Path, threads: int, at_once: int) -> tuple[Result, dict, float]:
    """One run, in a worker: its result (which says how many runs shared the machine), where
    it trained and how long it took there."""
    from dlreport.runs import training

    began = time.perf_counter()
    _events.put(("start", label, f"in process {os.getpid()}", label))
    result = training.run_spec(spec, data, Relay(_events.put, label), Checkpoint(checkpoint), threads)
    result = replace(result, hardware={**result.hardware, RUNS_AT_ONCE: at_once})
    where = {"executor": "local", "pid": os.getpid(), "threads": threads, "at_once": at_once}
    return result, where, time.perf_counter() - began


class Side:
    """`at_once` worker processes, each training one run at a time on `threads` threads."""

    def __init__(self, cache: CacheDir, threads: int, at_once: int) -> None:
        self.cache, self.threads, self.at_once = cache, threads, at_once

    def train(self, runs: list, loaded: dict[str, RunData]) -> Iterator[tuple]:
        """(planned run, result, where it trained, seconds) for each run, as each finishes."""
        context = multiprocessing.get_context("spawn")
        events = context.Queue()
        environment = {k: v for f in {frameworks.of(p.spec["trainer"]) for p in runs} for k, v in f.environment().items()}
        pool = ProcessPoolExecutor(self.at_once, context, _start_worker,
                                   (os.getpid(), events, environment, logging.getLogger("dlreport").getEffectiveLevel()))
        shown, ended = Elsewhere.of(runs), False
        try:
            pending = {pool.submit(_train, p.spec, p.label, loaded[keys.digest(p.spec["data"])],
                                   self.cache.checkpoint(p.key), self.threads, self.at_once): p for p in runs}
            while pending:
                done, _ = wait(pending, timeout=REPORT_EVERY_S, return_when=FIRST_COMPLETED)
                _drain(events, shown)
                for future in done:
                    p = pending.pop(future)
                    shown.finished(p.label)
                    try:
                        result, where, seconds = future.result()
                    except BrokenProcessPool:
                        raise ReportError(f"a training process died while {len(pending) + 1} run(s) were unfinished "
                                          "(killed, or out of memory?): the runs that finished are stored; build "
                                          "again to train the rest, or pass --cpus-per-run to train fewer at once") from None
                    yield p, result, where, seconds
                    Checkpoint(self.cache.checkpoint(p.key)).clear()  # only now: the driver has stored the result
            _drain(events, shown)
            ended = True
        finally:
            interrupts.end_workers(pool, cleanly=ended)
            shown.close()
            events.cancel_join_thread()
            events.close()


def _drain(events, shown: Elsewhere) -> None:
    """Show what the workers sent: their runs' progress, and their log records as the build's own."""
    while True:
        try:
            item = events.get_nowait()
        except (queues.Empty, OSError, ValueError):
            return
        if isinstance(item, logging.LogRecord):
            logging.getLogger(item.name).handle(item)
        else:
            shown.event(item)
