"""`dlreport init DIR`: a small working study to start from, in a folder of its own.

The study (`skeleton/`, shipped with the engine) builds offline on a fresh machine: its data
are generated, its trainer is NumPy, and it has two experiments over several seeds, one
finding to judge, a part template and its own tests. Only a new or empty folder is written
to, so nothing of the user's is ever replaced.
"""

from __future__ import annotations

import re
from pathlib import Path

from dlreport.errors import ReportError
from dlreport.fsutil import atomic_write_text

SKELETON = Path(__file__).resolve().parent / "skeleton"
SKIPPED = ("__pycache__",)


def files() -> list[Path]:
    """The skeleton's files, relative to it, in a fixed order."""
    return sorted(p.relative_to(SKELETON) for p in SKELETON.rglob("*")
                  if p.is_file() and not any(part in SKIPPED for part in p.parts))


def create(folder: Path) -> list[Path]:
    """Write the study into `folder` (made if absent; refused unless empty) and return what was written."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ReportError(f"{folder} is not an empty folder: `init` writes a new study only where nothing would be "
                          "replaced; give a new folder's name")
    name = re.sub(r"[^a-z0-9]+", "-", folder.resolve().name.lower()).strip("-") or "study"
    title = name.replace("-", " ").capitalize()
    written = []
    for rel in files():
        text = (SKELETON / rel).read_text(encoding="utf-8").replace("__NAME__", name).replace("__TITLE__", title)
        atomic_write_text(folder / rel, text)
        written.append(folder / rel)
    return written
