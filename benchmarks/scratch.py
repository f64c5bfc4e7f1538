"""A scratch copy of this project for a benchmark to time commands in: the study, its
templates and frozen results, its configuration and `build.py`, and the engine under its
import name (`dlreport/`), so that commands run in the copy import the copy's engine."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = (("dlreport", "report"), ("experiments", "experiments"), ("templates", "templates"), ("frozen", "frozen"))


def copy_project(dst: Path) -> Path:
    for name, folder in COPIED:
        shutil.copytree(ROOT / folder, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("build.py", "pyproject.toml"):
        shutil.copy(ROOT / name, dst / name)
    return dst
