"""Folders this tool owns: it writes and deletes only inside folders it can prove it made.

A folder the tool makes (the output folder, the cache) gets a small marker file on first use,
naming what it is. From then on the tool may write there and remove what its own layout
names; before that, it refuses — in one line, exit code 2 — a folder that holds anything it
did not make, so that `--out ~/Documents` or `--cache-dir ~` can never cost a user a file.
A folder of an earlier version, made before markers existed, is recognised by its layout
alone (every name in it is one of the tool's) and marked then.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from dlreport.errors import ReportError, shown
from dlreport.fsutil import LEFTOVER, atomic_write_text

MARKER = ".dlreport"
EXPLAINED = "Made by dlreport, which writes in this folder and deletes only what it made here."


def kind_of(folder: Path) -> str | None:
    """What the marker in `folder` says it is ("output", "cache"), or None without one."""
    try:
        first = (folder / MARKER).read_text(encoding="utf-8").splitlines()[0]
    except (OSError, IndexError, UnicodeDecodeError):
        return None
    words = first.split()
    return words[1] if len(words) == 3 and words[0] == "dlreport" and words[2] == "folder" else None


def claim(folder: Path, kind: str, option: str, ours: Callable[[os.DirEntry], bool]) -> None:
    """Make sure `folder` is this tool's `kind` of folder, making and marking it if it is new
    or empty (or holds only what `ours` recognises as an earlier version's layout), and
    refusing it otherwise. `option` names the setting that chose it, for the message."""
    found = kind_of(folder)
    if found == kind:
        return
    if found is not None:
        raise ReportError(f"{option} {folder} is dlreport's {found} folder, not an {kind} folder: choose another")
    if folder.exists() and not folder.is_dir():
        raise ReportError(f"{option} {folder} is a file, not a folder")
    try:
        strangers = sorted(e.name for e in os.scandir(folder) if not ours(e) and not LEFTOVER.match(e.name))
    except FileNotFoundError:
        strangers = []
    except OSError as exc:  # a file where a folder should be on its path, a folder it may not read
        raise ReportError(f"{option} {folder} is not writable: {exc.strerror or exc}") from None
    if strangers:
        named = ", ".join(shown(n, 40) for n in strangers[:3]) + (f" and {len(strangers) - 3} more" if len(strangers) > 3 else "")
        raise ReportError(f"{option} {folder} holds files dlreport did not make ({named}): choose a new or empty folder "
                          f"(dlreport writes and deletes only in folders it made)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / MARKER, f"dlreport {kind} folder\n{EXPLAINED}\n")
    except OSError as exc:
        raise ReportError(f"{option} {folder} is not writable: {exc.strerror or exc}") from None


def inside(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or lies within it (both resolved)."""
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents
