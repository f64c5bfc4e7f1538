"""Processes beside the build for the render's slow, independent steps (laying out PDF pieces).

A build lays out the pieces of its PDF one by one, each a few seconds of WeasyPrint: on a
machine with several cores they can be laid out at once. The workers are forked when a
render starts, so that their import of WeasyPrint overlaps the HTML's rendering, and they
inherit the build's fixed hash seed (`build.py` sets it), on which WeasyPrint's font
subsetting depends: a piece laid out in a worker is the same bytes as one laid out here.

Interrupts stay the build's: workers ignore SIGINT (the terminal sends it to all of them),
and the build, on any interrupt or error, terminates them before it ends.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class Failed(Exception):
    """What a worker raised, carried back by message (some exceptions do not pickle)."""


def _start_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("weasyprint", "weasyprint.progress", "fontTools"):  # as `pdf_assembly.lay_out` quiets them
        logging.getLogger(name).setLevel(logging.ERROR)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401 - imported now, while the build judges and renders its HTML
    import pikepdf  # noqa: F401
    import weasyprint  # noqa: F401


def _call(job: tuple[Callable, object]):
    fn, argument = job
    try:
        return fn(argument)
    except Exception as exc:  # noqa: BLE001 - carried back whole to the build, which decides
        from report.errors import ReportError

        if isinstance(exc, ReportError):
            return ReportError(str(exc))
        return Failed(f"{type(exc).__name__}: {exc}")


class Workers:
    """A pool of forked worker processes, one fewer than the cores: the build's own process
    takes a share of every batch (none on one core, or where fork is missing: then every job
    runs here, one after another)."""

    def __init__(self, cores: int | None = None) -> None:
        self.cores = cores if cores is not None else available_cores()
        self._pool = None

    def __enter__(self) -> Workers:
        if self.cores > 1 and "fork" in multiprocessing.get_all_start_methods():
            self._pool = multiprocessing.get_context("fork").Pool(self.cores - 1, initializer=_start_worker)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool is not None:
            if exc_info[0] is None:
                self._pool.close()
            else:
                self._pool.terminate()
            self._pool.join()
            self._pool = None

    @property
    def parallel(self) -> bool:
        return self._pool is not None

    def map(self, fn: Callable, arguments: Sequence) -> list:
        """`fn` of each argument, in order: spread over the workers and this process when there
        are several, else here. A worker's error is raised here."""
        if self._pool is None or len(arguments) < 2:
            return [fn(a) for a in arguments]
        results: list = [None] * len(arguments)
        # the longest jobs to the workers first; this process, which may still have to import
        # what the workers imported while it rendered the HTML, takes the shortest
        todo = sorted(range(len(arguments)), key=lambda i: -len(arguments[i]) if hasattr(arguments[i], "__len__") else 0)
        running: dict = {}
        while todo or running:
            while todo and len(running) < self.cores - 1:
                i = todo.pop(0)
                running[i] = self._pool.apply_async(_call, ((fn, arguments[i]),))
            if todo:  # this process's share: the shortest job not yet handed out
                i = todo.pop()
                results[i] = _call((fn, arguments[i]))
            else:
                next(iter(running.values())).wait(0.05)
            for i in [i for i, job in running.items() if job.ready()]:
                results[i] = running.pop(i).get()
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results
