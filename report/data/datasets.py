"""Finding, downloading and verifying a study's data files, and keeping their decoded arrays.

A file is looked for where `files.candidate_paths` says, checked by the study before anything
reads it whole (`Data.guard`), and downloaded when missing (`fetch`), a download given its
name only once it passes the study's checks (`Data.content_problem`: the checksum of its
decompressed content, or its structure where no checksum is published).

Decoded arrays are kept as uncompressed `.npy` files under the project's cache, named by
the content checksum of their source, so a second load is a memory map instead of a
decompression.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dlreport import study
from dlreport.data import fetch
from dlreport.data.files import DataFile, candidate_paths, find_file
from dlreport.errors import ReportError
from dlreport.fsutil import atomic_write_bytes, unreadable

log = logging.getLogger(__name__)


def locate(f: DataFile, data_dir: Path, mirrors: Sequence[str] | None = None) -> Path:
    """Path of an existing copy of `f`, downloading it into the data directory if none exists
    (from `mirrors`, default $REPORT_DATA_MIRROR, then its published address; see `fetch`)."""
    found = find_file(f, data_dir)
    if found:
        study.current().data.guard(f, found)
        return found
    where = ", ".join(str(p.parent) for p in candidate_paths(f, data_dir))
    if not data_dir.is_dir():  # a mistyped --data-dir gets no folders made under it
        raise ReportError(f"missing data file {f.name}: the data directory {data_dir} does not exist (looked in {where}); "
                          f"create it or pass --data-dir / set REPORT_DATA_DIR")
    try:
        return _download(f, data_dir, mirrors)
    except ReportError as exc:
        raise ReportError(f"missing data file {f.name}: not found in {where}; {exc}; put the file in "
                          f"{data_dir / f.subdir}, pass --data-dir / set REPORT_DATA_DIR, or name a mirror "
                          f"(--mirror with `fetch`, or {fetch.MIRROR_ENV})") from None


def _download(f: DataFile, data_dir: Path, mirrors: Sequence[str] | None) -> Path:
    urls = fetch.addresses(f.label, study.current().data.published.get(f.label), fetch.mirrors(mirrors))
    return fetch.download(f.label, data_dir / f.subdir / f.name, urls,
                          lambda path: study.current().data.content_problem(f, path))


def fetch_file(f: DataFile, data_dir: Path, mirrors: Sequence[str] | None = None) -> tuple[Path, str]:
    """For `dlreport fetch`: a verified copy of `f` and how it was had ("present" or
    "downloaded"). A copy in the data directory that fails verification is set aside and
    downloaded again; a bad copy elsewhere (a system folder) is shadowed by the download,
    which is looked at first."""
    found = find_file(f, data_dir)
    if found is not None:
        problem = study.current().data.content_problem(f, found)
        if problem is None:
            return found, "present"
        if found.parent in (data_dir, data_dir / f.subdir):
            log.warning("data file %s fails verification (%s): set aside as %s", found, problem,
                        fetch.set_aside(found).name)
        else:
            log.warning("data file %s fails verification (%s): downloading a copy into %s", found, problem,
                        data_dir / f.subdir)
    try:
        return _download(f, data_dir, mirrors), "downloaded"
    except ReportError as exc:
        raise ReportError(f"{exc}; put the file in {data_dir / f.subdir} or name another mirror") from None


class DecodedCache:
    """Uncompressed `.npy` copies of decoded datasets, named by their source's content checksum.

    Each array file has a `.sha256` companion written before it; a file that no longer
    matches (truncated, edited, half-written by a killed build) is reported and decoded
    again from the verified source.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, digest: str, part: str) -> Path:
        return self.root / f"{digest[:20]}-{part}.npy"

    def _load(self, path: Path) -> np.ndarray:
        data = path.read_bytes()
        try:
            expected = path.with_name(path.name + ".sha256").read_text().strip()
        except FileNotFoundError:
            raise ValueError("no checksum beside it") from None
        if hashlib.sha256(data).hexdigest() != expected:
            raise ValueError("checksum mismatch")
        return np.load(io.BytesIO(data), allow_pickle=False)

    def get(self, digest: str | None, parts: tuple[str, ...]) -> dict[str, np.ndarray] | None:
        if not digest:
            return None
        paths = {p: self._path(digest, p) for p in parts}
        if not all(p.is_file() for p in paths.values()):
            return None
        try:
            return {p: self._load(path) for p, path in paths.items()}
        except OSError as exc:
            log.warning("%s: decoded again", unreadable(self.root / digest[:20], exc))
        except ValueError as exc:
            log.warning("damaged cache entry %s (decoded data: %s): recomputed", self.root / digest[:20], exc)
        return None

    def put(self, digest: str, arrays: dict[str, np.ndarray]) -> None:
        for part, array in arrays.items():
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
            path = self._path(digest, part)
            try:
                atomic_write_bytes(path.with_name(path.name + ".sha256"), hashlib.sha256(buf.getvalue()).hexdigest().encode())
                atomic_write_bytes(path, buf.getvalue())
            except OSError as exc:  # the decoded copy only saves time: go on without it
                log.warning("decoded data not cached in %s (%s)", self.root, exc.strerror or exc)
                return
