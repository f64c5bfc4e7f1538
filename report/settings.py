"""Settings that stick: the data directory and the study's choice about its data (this
`Data.choice`: which split of a dataset, say), chosen once, not per command.

Each setting is looked for in this order, the first found winning:

  1. the command line (`--data-dir`, and the option the study names for its choice);
  2. the environment (`REPORT_DATA_DIR`, and the variable the study names for its choice);
  3. the project's own file: `[tool.dlreport]` in its `pyproject.toml` (written by the user;
     the tool only reads it);
  4. what the last successful build of this output folder used (`.settings.json` there,
     the tool's own file), so that `status`, `serve` or `fetch` after a build need no options;
  5. the default (the per-user data folder; no choice: a build that needs one says so).

`dlreport config` shows each setting with where it came from.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from dlreport import ROOT, study
from dlreport.data import files
from dlreport.fsutil import atomic_write_text

REMEMBERED = ".settings.json"  # in the output folder
DATA_DIR = "data-dir"


def declared() -> dict[str, tuple]:
    """name: (command-line option, environment variable, its value when nothing sets it)."""
    found = {DATA_DIR: ("--data-dir", files.DATA_DIR_ENV, lambda: str(files.default_data_dir()))}
    choice = study.current().data.choice
    if choice is not None:  # no default: a build that needs it says so
        found[choice.option] = (f"--{choice.option}", choice.env, lambda: None)
    return found


@dataclass(frozen=True)
class Setting:
    name: str
    value: str | None
    source: str  # where it came from, in words


def resolve(given: dict[str, str | None], out_dir: Path, project: Path = ROOT) -> dict[str, Setting]:
    """Each setting's value and source (`given`: the command line's values, None when absent)."""
    project_file = _project_settings(project)
    remembered = _remembered(out_dir)
    found = {}
    for name, (option, variable, default) in declared().items():
        if given.get(name):
            found[name] = Setting(name, given[name], f"option {option}")
        elif os.environ.get(variable):
            found[name] = Setting(name, os.environ[variable], f"environment {variable}")
        elif project_file.get(name):
            found[name] = Setting(name, str(project_file[name]), f"{project / 'pyproject.toml'} [tool.dlreport]")
        elif remembered.get(name):
            found[name] = Setting(name, remembered[name], f"the last build in {out_dir}")
        else:
            found[name] = Setting(name, default(), "default")
    return found


def remember(out_dir: Path, settings: dict[str, str | None]) -> None:
    """Keep the settings a build succeeded with, for the next command on this output folder
    (a setting the build did not need, None, leaves the one remembered before)."""
    before = _remembered(out_dir)
    kept = {**before, **{k: v for k, v in settings.items() if v is not None}}
    if kept != before:
        try:
            atomic_write_text(out_dir / REMEMBERED, json.dumps(kept, indent=1, sort_keys=True) + "\n")
        except OSError:
            pass  # remembering saves typing only


def _project_settings(project: Path) -> dict:
    try:
        return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8")).get("tool", {}).get("dlreport", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _remembered(out_dir: Path) -> dict:
    try:
        found = json.loads((out_dir / REMEMBERED).read_text(encoding="utf-8"))
        return found if isinstance(found, dict) else {}
    except (OSError, ValueError):
        return {}


def format_text(found: dict[str, Setting]) -> str:
    """One line a setting: its name, its value and where the value came from."""
    values = {name: s.value if s.value is not None else "(none)" for name, s in found.items()}
    width, value_width = max(map(len, found)) + 2, max(map(len, values.values())) + 2
    return "\n".join(f"{name:<{width}}{values[name]:<{value_width}}{s.source}" for name, s in found.items())
