"""Atomic file writes (a reader, or a build killed at any instant, never sees half a file),
and the content-keyed file stores built on them."""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from dlreport.errors import ReportError

log = logging.getLogger(__name__)


TEMP_SUFFIX = ".dlreport-tmp"  # only this tool's temporary files end so: the sweep removes nothing else
# `.<name>.<pid>.<token>.dlreport-tmp`: what `temp_name` and `atomic_write_bytes` make, and all the sweep removes
LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[a-z0-9_]+" + re.escape(TEMP_SUFFIX) + "$")


SYSTEM_TEMP = tempfile.gettempdir()  # read before any `tempfile.tempdir` of ours: where private folders are made


def _umask() -> int:
    mask = os.umask(0o022)  # read it the only way POSIX offers, and put it back at once
    os.umask(mask)
    return mask


# Files as `open()` would make them (0644 under umask 022), not `mkstemp`'s private 0600: a
# cache or a data folder shared by a group must be readable by all of it.
FILE_MODE = 0o666 & ~_umask()


def temp_name(path: Path) -> Path:
    """A name beside `path` for writing it first: hidden, with this process's id and the marker."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}{TEMP_SUFFIX}")


def alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
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
            log.warning("%s: recomputed", unreadable(path, exc))
            return None
        head, _, data = blob.partition(b"\n")
        if not head.startswith(self._HEADER) or head[len(self._HEADER):].decode("ascii", "replace") != sha256(data):
            log.warning("damaged cache entry %s (%s): recomputed", path, "empty" if not blob else "checksum mismatch")
            return None
        return data

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.k{self.suffix}"  # ".k": the checked format (earlier files are not read)

    def found(self, key: str, whole: Callable[[bytes], str | None] | None = None) -> bytes | None:
        """The file of `key` when it is there and intact (and, given `whole`, which says why an
        intact file is nonetheless not a complete product, complete); else None."""
        path = self._path(key)
        if (data := self._intact(path)) is not None:
            if whole is None or (problem := whole(data)) is None:
                self.used.add(path)
                return data
            log.warning("damaged cache entry %s (%s): recomputed", path, problem)
        return None

    def keep(self, key: str, data: bytes) -> None:
        """Store `data` as the file of `key` (a failed write costs only the time to make it again)."""
        path = self._path(key)
        self.used.add(path)
        try:
            atomic_write_bytes(path, self._HEADER + sha256(data).encode() + b"\n" + data)
        except OSError as exc:
            log.warning("%s not cached in %s (%s): the next build makes it again", self.what, self.root,
                        exc.strerror or exc)

    def kept(self, key: str, make: Callable[[], bytes], whole: Callable[[bytes], str | None] | None = None) -> bytes:
        """The file of `key`, made by `make` when absent or damaged (see `found`)."""
        if (data := self.found(key, whole)) is not None:
            return data
        data = make()
        self.keep(key, data)
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


def unreadable(path: Path, exc: OSError) -> str:
    """Why a stored file could not be used, in words: a permission refused is not damage."""
    if isinstance(exc, PermissionError):
        return f"cannot read {path} ({exc.strerror or exc}: it belongs to another user or mode)"
    return f"damaged cache entry {path} ({exc.strerror or exc})"


def remove_leftovers(folders: Iterable[Path]) -> int:
    """Delete the temporary files (and folders) of writes that a killed process never renamed
    into place: only directly inside the given folders (those this tool writes into, never a
    walk of a tree), only names of this tool's own pattern (`LEFTOVER`), and only when the
    process named in them is gone, so a live build's file — another build on the same output
    folder, say — is never touched."""
    count = 0
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:  # absent or unreadable: nothing of ours to remove there
            continue
        for entry in entries:
            found = LEFTOVER.match(entry.name)
            if not found or int(found["pid"]) == os.getpid() or alive(int(found["pid"])):
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                Path(entry.path).unlink(missing_ok=True)
            count += 1
    if count:
        log.info("removed %d leftover temporary file(s) of an interrupted build", count)
    return count


def private_temp_folder(kind: str) -> Path:
    """A folder of this process's own in the system's temporary folder
    (`dlreport-<kind>-<pid>-<token>`), removed when the process exits; those of processes that
    died without removing theirs (killed) are removed first. Only these names are touched."""
    base = Path(SYSTEM_TEMP)
    pattern = re.compile(rf"^dlreport-{re.escape(kind)}-(\d+)-[0-9a-f]+$")
    for old in base.glob(f"dlreport-{kind}-*"):
        found = pattern.match(old.name)
        if found and old.is_dir() and not old.is_symlink() and not alive(int(found[1])):
            shutil.rmtree(old, ignore_errors=True)
    own = base / f"dlreport-{kind}-{os.getpid()}-{secrets.token_hex(3)}"
    own.mkdir(mode=0o700)
    atexit.register(shutil.rmtree, own, ignore_errors=True)
    return own


def replace_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` in one atomic step (a new link renamed over the old one)."""
    tmp = temp_name(link)
    os.symlink(target, tmp)
    os.replace(tmp, link)
