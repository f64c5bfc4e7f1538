"""Processes beside the build for the render's slow, independent steps (drawing figures,
laying out PDF pieces).

A build draws its figures and lays out the pieces of its PDF one after another, each a
second or a few: on a machine with several cores they can be made at once. The workers are
forked when a render starts, so that their import of WeasyPrint overlaps the judging of the
findings, and they inherit the build's fixed hash seed (`build.py` sets it), on which
WeasyPrint's font subsetting depends: a piece laid out in a worker is the same bytes as one
laid out here.

Interrupts stay the build's: workers ignore SIGINT (the terminal sends it to all of them),
and the build, on any interrupt or error, kills them before it ends. A worker that dies
(killed, out of memory) costs only time: what it was making is made here instead.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from dlreport import interrupts
from dlreport.runs.machine import available_cores

log = logging.getLogger(__name__)


def _start_worker(build: int) -> None:
    interrupts.become_worker(build)
    for name in ("weasyprint", "weasyprint.progress", "fontTools"):  # as `pdf_assembly.lay_out` quiets them
        logging.getLogger(name).setLevel(logging.ERROR)
    import pikepdf  # noqa: F401 - imported now, while the build judges and renders its HTML
    import weasyprint  # noqa: F401


class Workers:
    """Forked worker processes, one per core (none on one core, or where fork is missing: then
    every job runs here, one after another). The build's own process only hands out the jobs
    and waits: the workers imported WeasyPrint while it judged the findings and rendered the
    HTML, and a job made here would first have to import it (most of a second)."""

    def __init__(self, cores: int | None = None) -> None:
        self.cores = cores if cores is not None else available_cores()
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Workers:
        if self.cores > 1 and "fork" in multiprocessing.get_all_start_methods():
            self._pool = ProcessPoolExecutor(self.cores, multiprocessing.get_context("fork"), _start_worker,
                                             (os.getpid(),))
            for _ in range(self.cores):  # the workers start now, not at the first job
                self._pool.submit(int)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool is not None:
            interrupts.end_workers(self._pool, cleanly=exc_info[0] is None)
            self._pool = None

    @property
    def parallel(self) -> bool:
        return self._pool is not None

    def map(self, fn: Callable, arguments: Sequence, done: Callable[[], None] = lambda: None) -> list:
        """`fn` of each argument, in order: spread over the workers, else made here (`done` is
        called as each is made, for a progress bar). A worker's error is raised here; a worker
        that died leaves its job, and every later one, to this process."""
        if self._pool is None:
            return [_then(fn(a), done) for a in arguments]
        results: list = [None] * len(arguments)
        # the longest jobs first, so that the last to finish is a short one
        todo = sorted(range(len(arguments)), key=lambda i: -len(arguments[i]) if hasattr(arguments[i], "__len__") else 0)
        running: dict[Future, int] = {}
        while todo or running:
            while self._pool is not None and todo and len(running) < self.cores:
                i = todo.pop(0)
                try:
                    running[self._pool.submit(fn, arguments[i])] = i
                except BrokenProcessPool:
                    todo.insert(0, i)
                    self._lost()
            if todo and self._pool is None:  # the pool broke: the rest is made here
                i = todo.pop()
                results[i] = _then(fn(arguments[i]), done)
            finished = wait(running, return_when=FIRST_COMPLETED)[0] if running else ()
            for future in finished:
                i = running.pop(future)
                try:
                    results[i] = _then(future.result(), done)
                except BrokenProcessPool:
                    todo.append(i)
                    self._lost()
        return results

    def _lost(self) -> None:
        """A worker died: the rest is made here, one job after another."""
        if self._pool is not None:
            log.warning("a worker process died: the rest of the render is made in this process")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _then(result: object, done: Callable[[], None]) -> object:
    done()
    return result
