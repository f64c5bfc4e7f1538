"""How a run's progress reaches the console: a live bar on a terminal (rich), a line about
every tenth of the run otherwise (logs, CI), nothing under `-q`.

Both show the step, the rate measured after the first step (which also traces and
compiles, and would make the rate and the time left look worse than they are) and the
time left at that rate. One `Board` holds the build's live display: rich allows one at a
time, and several runs may train at once (in worker processes, or on a cluster), each a
bar of its own on it. Such a run's steps reach the build as events (`Relay` sends them
from where it trains, `Elsewhere` shows them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from dlreport import console
from dlreport.runs.placement import elapsed_label, length

log = logging.getLogger("dlreport.runs.runner")


class Board:
    """The build's one live display (None off a terminal or under `-q`)."""

    def __init__(self) -> None:
        self.bar = None
        if console.live():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            # the log's console: rich prints each log line above the bars, never onto them
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[rate]}"), TextColumn("{task.fields[left]}"), TimeElapsedColumn(),
                                console=console.console(), transient=True)
            self.bar.start()

    def run(self, label: str, total: int | None = None) -> RunProgress:
        return RunProgress(label, self, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


class RunProgress:
    """The progress callback of one run (`progress(step, total, metrics)`); `close()` at its end."""

    def __init__(self, label: str, board: Board | None = None, total: int | None = None) -> None:
        self.label = label
        self.first: tuple[int, float] | None = None  # (step, time) of the first report: the warm-up ends there
        self.own = board is None  # a run shown alone owns its display
        self.board = board or Board()
        self.bar = self.board.bar
        if self.bar is not None:
            self.task = self.bar.add_task(label, total=total, rate="", left="")

    def _pace(self, step: int, total: int, at: float | None) -> tuple[str, str]:
        now = time.perf_counter() if at is None else at
        if self.first is None or step <= self.first[0]:
            self.first = self.first or (step, now)
            return "warming up", ""
        rate = (step - self.first[0]) / max(now - self.first[1], 1e-9)
        return f"{rate:.1f}/s", f"{(total - step) / rate:.0f} s left"

    def __call__(self, step: int, total: int, metrics: dict, at: float | None = None) -> None:
        """A step reached: `at` (seconds since the epoch) when it was reached elsewhere and
        reported later (`Relay`), so that its rate is that of the run, not of the reports."""
        rate, left = self._pace(step, total, at)
        if self.bar is not None:
            self.bar.update(self.task, completed=step, total=total, rate=rate, left=left)
        elif step == total or step % max(1, total // 10) == 0:
            shown = " ".join(f"{k}={float(v):.4f}" for k, v in metrics.items())
            log.info("  %s %d/%d (%s%s) %s", self.label, step, total, rate, f", {left}" if left else "", shown)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.remove_task(self.task)
        if self.own:
            self.board.close()


REPORT_EVERY_S = 0.5  # how often a run that trains elsewhere sends its progress at most


class Relay:
    """The progress callback of a run that trains in another process: every tenth of the
    run, and at most every REPORT_EVERY_S otherwise, an event to the build (`send`)."""

    def __init__(self, send: Callable[[tuple], object], label: str) -> None:
        self.send, self.label, self.last = send, label, 0.0

    def __call__(self, step: int, total: int, metrics: dict) -> None:
        now = time.perf_counter()
        if step == total or step % max(1, total // 10) == 0 or now - self.last >= REPORT_EVERY_S:
            self.last = now
            self.send(("step", self.label, step, total, {k: float(v) for k, v in metrics.items()}, time.time()))


class Elsewhere:
    """The build's view of runs that train in other processes: a run's "start" event
    (where it runs, and what its bar and lines are called) opens its bar, its "step"
    events move it. A run that starts a second time (its worker was lost and the run
    given to another) keeps one bar."""

    def __init__(self, lengths: dict[str, int | None]) -> None:
        """`lengths`: each run's label and its number of steps, where known."""
        self.board, self.bars, self.started, self.began = Board(), {}, 0, time.perf_counter()
        self.total, self.lengths = len(lengths), lengths

    @classmethod
    def of(cls, runs: list) -> Elsewhere:
        """For these planned runs."""
        return cls({p.label: length(p.spec) for p in runs})

    def event(self, event: tuple) -> None:
        if event[0] == "start":
            _, label, place, shown = event
            if label in self.bars:
                self.bars.pop(label).close()
                log.info("%s running again %s: its worker was lost", label, place)
            else:
                self.started += 1
                log.info("%s %s running %s", elapsed_label(self.started, self.total, self.began), label, place)
            self.bars[label] = self.board.run(shown, self.lengths[label])
        elif event[1] in self.bars:
            self.bars[event[1]](*event[2:])

    def finished(self, label: str) -> None:
        if label in self.bars:
            self.bars.pop(label).close()

    def close(self) -> None:
        self.board.close()
