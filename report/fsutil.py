"""Atomic file writes (a reader, or a build killed at any instant, never sees half a file),
and the content-keyed file stores built on them."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from report.errors import ReportError

log = logging.getLogger(__name__)


TEMP_SUFFIX = ".dlreport-tmp"  # only this tool's temporary files end so: the sweep removes nothing else


def temp_name(path: Path) -> Path:
    """A name beside `path` for writing it first: hidden, with this process's id and the marker."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}{TEMP_SUFFIX}")


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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX)
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
    """Files made once and kept under `root` by a content key: read when present and intact,
    else made and written atomically. Each file starts with a line holding the sha256 of the
    rest (`_HEADER`), so a truncated, emptied or altered file is found on reading, reported
    in one line and made again, never used. A failed write only costs the time to make the
    file again next build, so it warns instead of failing. `used` lists every file this build
    read or wrote, which `build.py prune` keeps."""

    _HEADER = b"dlreport-kept sha256="

    def __init__(self, root: Path, suffix: str, what: str) -> None:
        self.root, self.suffix, self.what = root, suffix, what
        self.used: set[Path] = set()

    def _intact(self, path: Path) -> bytes | None:
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("damaged cache entry %s (%s): recomputed", path, exc.strerror or exc)
            return None
        head, _, data = blob.partition(b"\n")
        if not head.startswith(self._HEADER) or head[len(self._HEADER):].decode("ascii", "replace") != sha256(data):
            log.warning("damaged cache entry %s (%s): recomputed", path, "empty" if not blob else "checksum mismatch")
            return None
        return data

    def kept(self, key: str, make: Callable[[], bytes]) -> bytes:
        path = self.root / key[:2] / f"{key}.k{self.suffix}"  # ".k": the checked format (earlier files are not read)
        self.used.add(path)
        if (data := self._intact(path)) is not None:
            return data
        data = make()
        try:
            atomic_write_bytes(path, self._HEADER + sha256(data).encode() + b"\n" + data)
        except OSError as exc:
            log.warning("%s not cached in %s (%s): the next build makes it again", self.what, self.root,
                        exc.strerror or exc)
        return data


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ensure_writable(folder: Path, what: str) -> None:
    """Fail at once, in one line, when `folder` cannot be written — not hours later,
    when a result or the report is ready to be saved."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".probe.{os.getpid()}.", suffix=TEMP_SUFFIX)
        os.close(fd)
        Path(probe).unlink(missing_ok=True)  # a build holding the lock may have swept it already
    except OSError as exc:
        raise ReportError(f"the {what} {folder} is not writable: {exc.strerror or exc}") from None


def remove_leftovers(root: Path) -> int:
    """Delete the temporary files (and folders) of writes that a killed build never renamed
    into place — only names this tool makes (`TEMP_SUFFIX`), never a file of the user's.
    Only safe while holding the build lock: then no live writer owns them."""
    count = 0
    for path in sorted(root.rglob(f".*{TEMP_SUFFIX}"), reverse=True) if root.is_dir() else []:
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
    tmp = temp_name(link)
    os.symlink(target, tmp)
    os.replace(tmp, link)
