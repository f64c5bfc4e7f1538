"""Reading this study's datasets from their canonical published files, verified.

Checksums are taken over the *decompressed content*, never the archive bytes:
Debian's `dataset-fashion-mnist` package carries the official files with
rewritten gzip headers, and the notMNIST archives that circulate differ in tar
metadata, yet the images inside are the same. The declared checksums below are
therefore also what enters an experiment's cache key, so the data files are
needed only to train, not to render from cached results.

Decoded arrays are kept in the engine's cache of them (`DecodedCache`), named by the
content checksum, so a second load is a memory map (≈ 0.05 s) instead of a decompression
(≈ 1.3 s). Finding and downloading a file is the engine's (`locate`); what a good copy holds
is said here (`bounded`, `content_problem`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import tarfile
import zlib
from pathlib import Path

import numpy as np

from dlreport.data.datasets import DecodedCache, locate
from dlreport.data.files import DataFile, published_at
from dlreport.errors import ReportError, shorten
from experiments.data.files import (  # noqa: F401 - the declarations, read here as datasets.X too
    FASHION_MNIST,
    LETTERS,
    NOTMNIST_LARGE,
    NOTMNIST_LARGE_MIN_MEMBERS,
    NOTMNIST_SMALL,
)

log = logging.getLogger(__name__)

# How large a file's decompressed stream may be, from what it is declared to hold (by its
# declared content checksum): the four Fashion-MNIST files exactly their idx size (the
# published file cannot be larger); notMNIST_small its tar stream with room for another
# packaging of the same images (twice its 22.5 MB); notMNIST_large, whose content is not
# published (None), 4 GB, where its 529,000 images fit. `bounded` refuses anything beyond — a
# decompression bomb — having held one chunk in memory at a time.
STREAM_LIMITS: dict[str | None, int] = {
    FASHION_MNIST["train-images"].content_sha256: 16 + 60_000 * 28 * 28,
    FASHION_MNIST["train-labels"].content_sha256: 8 + 60_000,
    FASHION_MNIST["test-images"].content_sha256: 16 + 10_000 * 28 * 28,
    FASHION_MNIST["test-labels"].content_sha256: 8 + 10_000,
    NOTMNIST_SMALL.content_sha256: 2 * 22_456_320,
    None: 4 << 30,
}
MAX_IMAGE_BYTES = 1 << 16  # a 28 × 28 grey PNG takes about a kilobyte: a member larger than this is not one of the images
CHUNK = 1 << 20
_bounded_seen: set[tuple[str, int, int]] = set()  # files found within bounds in this process (path, size, mtime)


class TooLarge(ReportError):
    """A data file that decompresses to more than its declared content can take."""


class _Counted(io.RawIOBase):
    """A decompressed stream that stops with a one-line error once it has given `limit` bytes."""

    def __init__(self, stream, limit: int, path: Path) -> None:
        self.stream, self.limit, self.path, self.read_so_far = stream, limit, path, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(min(len(buffer), CHUNK))
        self.read_so_far += len(data)
        if self.read_so_far > self.limit:
            raise TooLarge(f"data file {self.path} decompresses to more than the {self.limit:,} bytes its declared "
                              "content can take (a damaged or malicious file): replace it with the published one")
        buffer[:len(data)] = data
        return len(data)


def bounded(f: DataFile, path: Path) -> None:
    """Decompress `path` as a stream, one chunk at a time, and refuse it (one line) as soon as it
    gives more than `STREAM_LIMITS` allows, or an archive member larger than any image: done
    before a file is read whole (`_read_gzip`, `_read_letter_tar` read it into memory)."""
    stat = path.stat()
    seen = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if seen in _bounded_seen:
        return
    limit = STREAM_LIMITS.get(f.content_sha256, STREAM_LIMITS[None])
    try:
        with gzip.open(path) as raw, io.BufferedReader(_Counted(raw, limit, path), CHUNK) as stream:
            if f.name.endswith(".tar.gz"):
                with tarfile.open(fileobj=stream, mode="r|") as tar:
                    for member in tar:
                        if member.size > MAX_IMAGE_BYTES:
                            raise TooLarge(f"data file {path} holds {shorten(member.name)} of {member.size:,} bytes, "
                                              "larger than any image of the dataset: replace it with the published file")
                        tar.members.clear()  # a stream's member list would otherwise grow with every member
            else:
                while stream.read(CHUNK):
                    pass
    except (OSError, EOFError, tarfile.TarError, zlib.error) as exc:
        raise ReportError(f"data file {path} is corrupt or truncated ({exc}): replace it with the published file from "
                          f"{published_at(f)}") from None
    _bounded_seen.add(seen)


def content_problem(f: DataFile, path: Path) -> str | None:
    """Why `path` is not a good copy of `f`, or None when it is: the checks a build applies when
    it reads the file (the checksum of the decompressed content; for an archive without a
    published checksum, its number of images), made on a download before it is given its name."""
    try:
        bounded(f, path)
        if f.name.endswith(".tar.gz"):
            entries = _read_letter_tar(f, path)
            digest = tar_content_digest(entries)
            if f.content_sha256 is None and len(entries) < NOTMNIST_LARGE_MIN_MEMBERS:
                return f"holds {len(entries)} images, fewer than the {NOTMNIST_LARGE_MIN_MEMBERS} of the published file"
        else:
            digest = hashlib.sha256(_read_gzip(f, path)).hexdigest()
    except TooLarge as exc:
        return str(exc).partition(" (a damaged")[0].removeprefix(f"data file {path} ")
    except ReportError:
        return "not a complete gzip file (corrupt or truncated)"
    if f.content_sha256 and digest != f.content_sha256:
        return f"content sha256 {digest[:12]}…, expected {f.content_sha256[:12]}…"
    return None


def _checked(f: DataFile, path: Path, digest: str) -> None:
    if f.content_sha256 and digest != f.content_sha256:
        raise ReportError(
            f"data file {path} fails verification (content sha256 {digest[:12]}…, expected "
            f"{f.content_sha256[:12]}…): replace it with the published file from {published_at(f)}"
        )


def _read_gzip(f: DataFile, path: Path) -> bytes:
    try:
        with gzip.open(path) as fh:
            return fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise ReportError(
            f"data file {path} is corrupt or truncated ({exc}): replace it with the published file from {published_at(f)}"
        ) from None


def _decode_idx(content: bytes, path: Path) -> np.ndarray:
    """Decode the idx format: magic (0x08 = uint8, ndim), big-endian dims, then the data."""
    if len(content) < 4 or content[:2] != b"\0\0" or content[2] != 0x08:
        raise ReportError(f"data file {path} is not an idx file of unsigned bytes")
    ndim = content[3]
    dims = tuple(int.from_bytes(content[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    if len(content) - offset != int(np.prod(dims)):
        raise ReportError(f"data file {path} has {len(content) - offset} data bytes, its header says {dims}")
    return np.frombuffer(content, np.uint8, offset=offset).reshape(dims)


def load_idx(f: DataFile, data_dir: Path, cache: DecodedCache) -> np.ndarray:
    """One Fashion-MNIST idx array, from the decoded cache or from the verified source file."""
    hit = cache.get(f.content_sha256, ("data",))
    if hit is not None:
        return hit["data"]
    path = locate(f, data_dir)
    content = _read_gzip(f, path)
    _checked(f, path, hashlib.sha256(content).hexdigest())
    array = _decode_idx(content, path)
    cache.put(f.content_sha256, {"data": array})
    log.info("decoded %s %s", f.name, array.shape)
    return array


def load_fashion_mnist(data_dir: Path, cache: DecodedCache) -> dict[str, np.ndarray]:
    """The four Fashion-MNIST arrays: train/test images (N, 28, 28) and labels (N,), uint8."""
    return {name: load_idx(f, data_dir, cache) for name, f in FASHION_MNIST.items()}


def _file_identity(path: Path) -> str:
    """Stand-in cache name for a file without a declared checksum: changes when the file does."""
    st = path.stat()
    return hashlib.sha256(f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()


def tar_content_digest(entries: list[tuple[str, bytes]]) -> str:
    """Digest of an archive's files independent of tar/gzip metadata.

    Sorted by path with the top-level folder stripped (`A/xyz.png`), so that any faithful
    repacking of the same images gives the same digest.
    """
    h = hashlib.sha256()
    for name, data in sorted(entries):
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def _read_letter_tar(f: DataFile, path: Path) -> list[tuple[str, bytes]]:
    try:
        with tarfile.open(path, "r:gz") as tar:
            entries = []
            for member in tar:
                if member.isfile() and member.name.lower().endswith(".png"):
                    rel = "/".join(member.name.split("/")[-2:])
                    entries.append((rel, tar.extractfile(member).read()))
            return entries
    except (OSError, EOFError, tarfile.TarError, zlib.error) as exc:
        raise ReportError(
            f"data file {path} is corrupt or truncated ({exc}): replace it with the published file from {published_at(f)}"
        ) from None


def _decode_pngs(entries: list[tuple[str, bytes]], path: Path) -> dict[str, np.ndarray]:
    """Decode letter-folder PNGs; unreadable files (the set has two empty ones) are skipped."""
    from PIL import Image, UnidentifiedImageError

    images, labels, names = [], [], []
    skipped = 0
    for name, data in sorted(entries):
        letter = name.split("/")[0]
        if letter not in LETTERS:
            raise ReportError(f"data file {path} holds {name}, outside the letter folders A–J")
        try:
            img = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.uint8)
        except (UnidentifiedImageError, OSError, ValueError):
            skipped += 1
            continue
        if img.shape != (28, 28):
            skipped += 1
            continue
        images.append(img)
        labels.append(LETTERS.index(letter))
        names.append(name)
    log.info("decoded %s: %d images, %d unreadable skipped", path.name, len(images), skipped)
    return {
        "images": np.stack(images) if images else np.zeros((0, 28, 28), np.uint8),
        "labels": np.asarray(labels, np.uint8),
        "names": np.asarray(names, dtype="U64"),
    }


def load_letter_archive(f: DataFile, data_dir: Path, cache: DecodedCache) -> dict[str, np.ndarray]:
    """A notMNIST archive as images (N, 28, 28), labels (N,) with A=0 … J=9, and member names."""
    parts = ("images", "labels", "names")
    path = None if f.content_sha256 else locate(f, data_dir)
    hit = cache.get(f.content_sha256 or _file_identity(path), parts)
    if hit is not None:
        return hit
    path = path or locate(f, data_dir)
    entries = _read_letter_tar(f, path)
    digest = tar_content_digest(entries)
    _checked(f, path, digest)
    if f.content_sha256 is None and len(entries) < NOTMNIST_LARGE_MIN_MEMBERS:
        raise ReportError(
            f"data file {path} holds {len(entries)} images, fewer than the {NOTMNIST_LARGE_MIN_MEMBERS} "
            f"of the published {f.name}: replace it with the file from {published_at(f)}"
        )
    arrays = _decode_pngs(entries, path)
    cache.put(f.content_sha256 or _file_identity(path), arrays)
    return arrays
