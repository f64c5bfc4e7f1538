"""The study's data files as they are published: where each lives under the data directory,
what it must contain, and where it is published — declared once, and read without NumPy, so
that planning a build (which names every run's data by these declarations) stays light.
`report.data.datasets` reads and verifies the files themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

LETTERS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class DataFile:
    """One published file: where it lives under the data directory and what it must contain."""

    subdir: str
    name: str
    content_sha256: str | None  # None: no published checksum known; verified by structure instead

    @property
    def label(self) -> str:
        return f"{self.subdir}/{self.name}"


def _fashion(name: str, sha256: str) -> DataFile:
    return DataFile("fashion-mnist", name, sha256)


FASHION_MNIST = {
    "train-images": _fashion("train-images-idx3-ubyte.gz", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train-labels": _fashion("train-labels-idx1-ubyte.gz", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "test-images": _fashion("t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "test-labels": _fashion("t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}

NOTMNIST_SMALL = DataFile("notmnist", "notMNIST_small.tar.gz", "506f397d4bda48fd0598d978dfca30c69abb1fb1563776f10fe1ae4a9df0aa3a")
# No checksum of notMNIST_large's content has been published; it is verified by
# structure (ten letter folders, >= 500,000 members) and its digest is recorded.
NOTMNIST_LARGE = DataFile("notmnist", "notMNIST_large.tar.gz", None)
NOTMNIST_LARGE_MIN_MEMBERS = 500_000

# Where each file is published, and where else a system may keep a copy. Neither changes
# what a file holds (its content is verified), so neither enters a run's key.
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_NOTMNIST_URL = "http://yaroslavvb.com/upload/notMNIST/"
PUBLISHED = {
    **{f.label: _FASHION_URL + f.name for f in FASHION_MNIST.values()},
    **{f.label: _NOTMNIST_URL + f.name for f in (NOTMNIST_SMALL, NOTMNIST_LARGE)},
}
SYSTEM_DIRS = {"fashion-mnist": ("/usr/share/datasets/fashion-mnist",)}


def published_at(f: DataFile) -> str:
    """The file's published address (for downloads and for error messages)."""
    return PUBLISHED.get(f.label, "its publisher")


DATA_DIR_ENV = "REPORT_DATA_DIR"


def default_data_dir() -> Path:
    """The per-user data directory used when neither --data-dir nor REPORT_DATA_DIR is given."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dlreport" / "data"


def resolve_data_dir(cli_value: str | None) -> Path:
    """--data-dir, else $REPORT_DATA_DIR, else the per-user cache directory."""
    value = cli_value or os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else default_data_dir()


def candidate_paths(f: DataFile, data_dir: Path) -> list[Path]:
    """Every place a file is looked for, in order."""
    dirs = [data_dir / f.subdir, data_dir, *map(Path, SYSTEM_DIRS.get(f.subdir, ()))]
    return [d / f.name for d in dirs]


def find_file(f: DataFile, data_dir: Path) -> Path | None:
    return next((p for p in candidate_paths(f, data_dir) if p.is_file()), None)


def files_of(names: set[str]) -> list[DataFile]:
    """The declared data files with these names (a data spec's `sources`), in a fixed order."""
    return [f for f in (*FASHION_MNIST.values(), NOTMNIST_SMALL, NOTMNIST_LARGE) if f.name in names]
