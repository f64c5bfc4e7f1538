"""The project a command works on: found as git finds its repository, upward from the
working directory, as the first folder whose `pyproject.toml` has a `[tool.dlreport]` table.

The engine (this package) may be installed anywhere; what it builds is always a project's:
the study's own package (named by `study` in that table), its templates, its frozen
results, and the `build/` and `.cache/` folders made beside them. Outside a project every
command but `init` stops in one line, having created nothing.
"""

from __future__ import annotations

import hashlib
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dlreport.errors import ReportError

CONFIG = "pyproject.toml"
TABLE = "dlreport"
ENGINE = __name__.partition(".")[0]  # the engine's import name
ENGINE_FOLDER = Path(__file__).resolve().parent  # wherever the engine was imported from
SOURCE_SUFFIXES = frozenset({".py", ".j2", ".css", ".html"})  # the files of code and templates a report is rendered from


@dataclass(frozen=True)
class Project:
    """A study's project folder and what its `[tool.dlreport]` table says."""

    root: Path
    study: str  # the import name of the study's own package, a folder of `root`

    @property
    def study_folder(self) -> Path:
        return self.root / self.study

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    def code_folders(self) -> dict[str, Path]:
        """Import name -> folder of every package whose code a key follows (`runs.source`)."""
        return {self.study: self.study_folder, ENGINE: ENGINE_FOLDER}

    def sources(self) -> dict[str, Path]:
        """Name -> folder of everything a report is rendered from: templates and code."""
        return {"templates": self.templates, **self.code_folders()}

    def sources_digest(self) -> str:
        """One hash over every file the report is rendered from (`sources`, by `SOURCE_SUFFIXES`)."""
        h = hashlib.sha256()
        for name, folder in self.sources().items():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and path.suffix in SOURCE_SUFFIXES:
                    h.update(f"{name}/{path.relative_to(folder).as_posix()}".encode() + b"\0" + path.read_bytes())
        return h.hexdigest()


def find(start: Path) -> Project | None:
    """The project `start` lies in (itself or a folder above it), or None."""
    for folder in (start, *start.parents):
        config = folder / CONFIG
        if not config.is_file():
            continue
        try:
            table = tomllib.loads(config.read_text(encoding="utf-8")).get("tool", {}).get(TABLE)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ReportError(f"{config}: cannot be read as TOML ({str(exc).splitlines()[0]})") from None
        if table is None:
            continue
        study = table.get("study")
        if not isinstance(study, str) or not study.isidentifier():
            raise ReportError(f"{config}: [tool.{TABLE}] needs study = \"PACKAGE\", the study's own package in that folder")
        return Project(folder, study)
    return None


@cache
def current() -> Project:
    """The working directory's project, with its folder first on the import path so that the
    study's own package is imported from there (and from nowhere else)."""
    here = Path.cwd().resolve()
    found = find(here)
    if found is None:
        raise ReportError(f"{here} is not inside a dlreport project (no {CONFIG} with a [tool.{TABLE}] table here or "
                          f"above): run the command in a project's folder (README: \"Your own study\")")
    if str(found.root) not in sys.path:
        sys.path.insert(0, str(found.root))
    return found
