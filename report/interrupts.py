"""Interrupts that always win: Ctrl-C and SIGTERM end a build, whatever library is running.

Python turns SIGINT into a KeyboardInterrupt raised wherever the main thread happens to be,
and a library may catch it there: WeasyPrint's SVG drawing catches `BaseException` and
carries on with the figure missing. So each signal is also *remembered*, and the steps
whose products are kept or published (a laid-out PDF piece, the build's publication)
call `check()` when they end: an interrupt seen at any moment during them fails them,
even one a library swallowed. SIGTERM (`kill`, a CI runner's cancel) is treated as Ctrl-C,
so that it, too, ends the build through every `finally` — temporary files removed,
nothing published — with exit code 130. An interrupt that lands where Python cannot raise
it (a weakref callback, a finaliser: "Exception ignored in …") is remembered all the same,
and not printed as a traceback: the build still ends at the next `check()`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

_seen = threading.Event()
_default_unraisable = sys.unraisablehook


def _handler(signum: int, frame: object) -> None:
    _seen.set()
    raise KeyboardInterrupt


def _unraisable(unraisable) -> None:
    """Python's report of an exception it could not raise: an interrupt among them is ours,
    already remembered by `_handler`; anything else is reported as Python would."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        _seen.set()
        return
    _default_unraisable(unraisable)


def install() -> None:
    """Handle SIGINT and SIGTERM as above (in the main thread only, where Python runs handlers)."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _handler)
        sys.unraisablehook = _unraisable


def check() -> None:
    """Raise KeyboardInterrupt if an interrupt has arrived, even one something swallowed."""
    if _seen.is_set():
        raise KeyboardInterrupt


def become_worker(build: int) -> None:
    """In a worker process a build started: leave interrupts to the build (the terminal sends
    Ctrl-C to every process of its group; the build decides, and kills its workers), and die
    with it. The kernel kills the worker when the build dies (Linux's PR_SET_PDEATHSIG): a
    build killed outright would otherwise leave its workers behind, holding its pipes (and
    a terminal's or a test's output) open for good."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: such a worker ends when its task queue breaks
        pass
    if os.getppid() != build:  # the build died before the request took effect
        os._exit(1)


def end_workers(pool, cleanly: bool) -> None:
    """The build's side: its pool of workers (a `ProcessPoolExecutor`) ended; after an
    interrupt or an error, killed outright (the executor has no public kill) rather than
    left to finish what it was given."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=cleanly, cancel_futures=True)
    if not cleanly:
        for process in processes:
            process.kill()
