"""Where a study's data files are: the declaration of one published file (`DataFile`), the
data directory, and the places a file is looked for. The files themselves are declared by
the study (`Data.files`); what they must contain is checked where they are read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dlreport import study


@dataclass(frozen=True)
class DataFile:
    """One published file: where it lives under the data directory and what it must contain."""

    subdir: str
    name: str
    content_sha256: str | None  # None: no published checksum known; verified by structure instead

    @property
    def label(self) -> str:
        return f"{self.subdir}/{self.name}"


def published_at(f: DataFile) -> str:
    """The file's published address (for downloads and for error messages)."""
    return study.current().data.published.get(f.label, "its publisher")


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
    dirs = [data_dir / f.subdir, data_dir, *map(Path, study.current().data.system_dirs.get(f.subdir, ()))]
    return [d / f.name for d in dirs]


def find_file(f: DataFile, data_dir: Path) -> Path | None:
    return next((p for p in candidate_paths(f, data_dir) if p.is_file()), None)


def files_of(names: set[str]) -> list[DataFile]:
    """The declared data files with these names (a data spec's `sources`), in a fixed order."""
    return [f for f in study.current().data.files if f.name in names]
