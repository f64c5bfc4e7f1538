"""Build records: what each build did, as JSON, for `status`, `diff` and the appendix.

Format (version `RECORD_FORMAT`):

    {"format", "id", "time", "git": {"commit", "dirty"}, "profile", "notmnist_split",
     "versions", "hardware", "duration_s", "render_inputs", "outputs": {file: sha256},
     "figures": {experiment id: sha256 of its SVG},
     "experiments": {id: {"key", "components", "source": run|cache|frozen, "seconds",
                          "train_seconds", "final", "data", "device"}}}

`components` are the cache key's parts, so a later build can name what changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
from pathlib import Path

from report.fsutil import atomic_write_text

RECORD_FORMAT = 1


def build_time() -> dt.datetime:
    """Now, or SOURCE_DATE_EPOCH when set, so that identical inputs give identical outputs."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def git_state(root: Path) -> dict:
    """The checkout's commit and whether it has uncommitted changes ('unknown' outside git)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD") or "unknown"
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": False}
    return {"commit": commit, "dirty": dirty}


def sha256_file(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def read(path: Path) -> dict | None:
    """A build record, or None if it is missing or unreadable."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == RECORD_FORMAT else None


def write(path: Path, record: dict) -> None:
    atomic_write_text(path, json.dumps(record, indent=1, sort_keys=True) + "\n")
