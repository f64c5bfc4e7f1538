"""How a run's progress reaches the console: a live bar on a terminal (rich), a line about
every tenth of the run otherwise (logs, CI), nothing under `-q`.

Both show the step, the rate measured after the first step (which also traces and
compiles, and would make the rate and the time left look worse than they are) and the
time left at that rate. One `Board` holds the build's live display: rich allows one at a
time, and a cluster trains several runs at once, each a bar of its own on it.
"""

from __future__ import annotations

import logging
import time

from dlreport import console

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

    def _pace(self, step: int, total: int) -> tuple[str, str]:
        now = time.perf_counter()
        if self.first is None or step <= self.first[0]:
            self.first = self.first or (step, now)
            return "warming up", ""
        rate = (step - self.first[0]) / max(now - self.first[1], 1e-9)
        return f"{rate:.1f}/s", f"{(total - step) / rate:.0f} s left"

    def __call__(self, step: int, total: int, metrics: dict) -> None:
        rate, left = self._pace(step, total)
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
