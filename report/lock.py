"""One build at a time per cache: a second build waits, saying for whom.

The lock is an advisory `flock` on a file in the cache directory. The kernel releases
it when its holder exits in any way — Ctrl-C, SIGKILL, a crash — so a lock can never
be left behind by a dead build (the file itself may remain; it is not the lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            log.warning("another build (pid %s) is using %s: waiting for it to finish", holder, path.parent)
            fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
