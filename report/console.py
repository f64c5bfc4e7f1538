"""The build's one console: our log lines and the live progress bars share it.

On a terminal, log lines go through rich's logging handler on the same `Console` as the
progress bars, so that each line is printed above the live bars instead of being glued to
their last frame; elsewhere (a log file, CI) they are plain lines. Only this tool's own
loggers speak at INFO: the libraries it uses are heard from at WARNING and above, so a
build's console says what the build did, not what pikepdf initialised.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator

OWN = __name__.rpartition(".")[0]  # the package's logger: every module logs under it
QUIET, NORMAL, VERBOSE = logging.WARNING, logging.INFO, logging.DEBUG
_console = None


def console():
    """The rich console of this process (on stderr), made on first use."""
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console(stderr=True)
    return _console


def live() -> bool:
    """Whether progress is drawn as live bars: on a terminal, when INFO lines are shown."""
    return sys.stderr.isatty() and logging.getLogger(OWN).isEnabledFor(logging.INFO)


def _ours() -> list[str]:
    """The loggers that speak at the chosen level: the engine's, and the study's package's
    (its loaders say what they decode) when the command runs in a project."""
    from dlreport import project
    from dlreport.errors import ReportError

    try:
        return [OWN, project.current().study]
    except ReportError:
        return [OWN]


def setup(level: int = NORMAL) -> None:
    """Route this tool's log lines at `level` to stderr (other libraries speak at WARNING)."""
    if sys.stderr.isatty():
        from rich.highlighter import NullHighlighter
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=console(), show_time=False, show_level=False, show_path=False,
                                               markup=False, highlighter=NullHighlighter(), keywords=[])
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in _ours():
        own = logging.getLogger(name)
        for old in list(own.handlers):
            own.removeHandler(old)
        own.addHandler(handler)
        own.setLevel(level)
        # ours stop here: a library that configures the root logger (basicConfig) must not print
        # them twice. No handler is put on the root: the other libraries' loggers stay at
        # Python's default, WARNING, and their warnings reach stderr through logging's last resort.
        own.propagate = False


@contextlib.contextmanager
def counted(label: str, total: int) -> Iterator[Callable[[], None]]:
    """A bar over `total` pieces of work, advanced by one with each call of what it yields
    (when progress is drawn live; elsewhere the caller's log line says what is being done)."""
    if not live():
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console(),
                  transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)
