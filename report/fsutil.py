"""Atomic file writes (a reader, or a build killed at any instant, never sees half a file),
and the content-keyed file stores built on them."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from report.errors import ReportError

log = logging.getLogger(__name__)


def write_synced(path: Path, data: bytes) -> None:
    """Write `data` to `path` and return only once it is on disk."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, fsync it, then rename it into place.

    The rename is atomic on POSIX, so `path` holds either its old content or the new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write_synced(Path(tmp), data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


class KeptFiles:
    """Files made once and kept under `root` by a content key: read when present, else made
    and written atomically. A failed write only costs the time to make the file again next
    build, so it warns instead of failing. `used` lists every file this build read or wrote,
    which `build.py prune` keeps."""

    def __init__(self, root: Path, suffix: str, what: str) -> None:
        self.root, self.suffix, self.what = root, suffix, what
        self.used: set[Path] = set()

    def kept(self, key: str, make: Callable[[], bytes]) -> bytes:
        path = self.root / key[:2] / f"{key}{self.suffix}"
        self.used.add(path)
        if path.is_file():
            return path.read_bytes()
        data = make()
        try:
            atomic_write_bytes(path, data)
        except OSError as exc:
            log.warning("%s not cached in %s (%s): the next build makes it again", self.what, self.root,
                        exc.strerror or exc)
        return data


def ensure_writable(folder: Path, what: str) -> None:
    """Fail at once, in one line, when `folder` cannot be written — not hours later,
    when a result or the report is ready to be saved."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".probe.", suffix=".tmp")
        os.close(fd)
        Path(probe).unlink(missing_ok=True)  # a build holding the lock may have swept it already
    except OSError as exc:
        raise ReportError(f"the {what} {folder} is not writable: {exc.strerror or exc}") from None


def remove_leftovers(root: Path) -> int:
    """Delete the temporary files (and folders) of writes that a killed build never renamed
    into place. Only safe while holding the build lock: then no live writer owns them."""
    count = 0
    for path in sorted(root.rglob(".*.tmp"), reverse=True) if root.is_dir() else []:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        count += 1
    if count:
        log.info("removed %d leftover temporary file(s) of an interrupted build in %s", count, root)
    return count


def replace_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` in one atomic step (a new link renamed over the old one)."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)
