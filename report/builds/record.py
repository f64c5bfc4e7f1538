"""Build records: what each build did, as JSON, for `status`, `diff` and the appendix.

Format (version `RECORD_FORMAT`):

    {"format", "id", "ledger": "<seq>_<id>", "time", "git": {"commit", "dirty"}, "profile",
     "data_choice", "only", "versions", "hardware", "counts": {"run", "cached", "failed"},
     "duration_s", "render_inputs", "changes_since", "outputs": {file: sha256},
     "figures": {experiment id: digest of the curves its figures are drawn from},
     "claims": [{"id", "part", "claim", "verdict", "tests": [{"test", "estimate", "lo", "hi", "n", "verdict"}]}],
     "sources": {code fingerprint: source text},
     "runs": [{"id", "seed", "key", "components", "source": run|cache|frozen, "seconds",
               "train_seconds", "final", "data", "device", "gflops", "failed"?}],
     "experiments": {id: {"seeds", "n", "final": {metric: mean}, "sd": {metric: sd}}}}

`components` are the cache key's parts and `sources` the code behind their fingerprints,
so a later build can name what changed, down to a diff of a function. (Records made
before sources were keyed by fingerprint keyed them by name; against those a changed
function is named without its diff.)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
from pathlib import Path

from dlreport.errors import ReportError
from dlreport.fsutil import atomic_write_text
from dlreport.runs.keys import digest

log = logging.getLogger(__name__)

RECORD_FORMAT = 3
BUILD_ID = r"\d{8}-\d{6}-[0-9a-f]{6}"  # a build's id: its time (UTC) and the start of its render inputs' digest


def build_id(when: dt.datetime, render_inputs: str) -> str:
    return f"{when:%Y%m%d-%H%M%S}-{render_inputs[:6]}"


def build_time() -> dt.datetime:
    """Now, or SOURCE_DATE_EPOCH when set, so that identical inputs give identical outputs.
    A value that is not a time stamp is the user's mistake: one line, exit 2."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        except (ValueError, OverflowError, OSError):
            raise ReportError(f"SOURCE_DATE_EPOCH={epoch!r} is not a time: give whole seconds since 1970, "
                              "e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)") from None
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def time_text(when: dt.datetime) -> str:
    """A build's time as its record and its report print it: ISO 8601 in UTC, e.g. 2026-12-04T22:12:01Z."""
    return when.isoformat().replace("+00:00", "Z")


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


def _checksum(record: dict) -> str:
    return digest({k: v for k, v in record.items() if k != "checksum"})


def read(path: Path) -> dict | None:
    """A build record, or None if it is missing, unreadable, of another format or corrupt
    (its checksum no longer matches: the next build then renders afresh)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as exc:
        log.warning("build record %s is unreadable (%s): ignored", path, exc)
        return None
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        return None
    if record.get("checksum") != _checksum(record):
        log.warning("build record %s is corrupt (checksum mismatch): ignored", path)
        return None
    return record


def dumps(record: dict) -> str:
    return json.dumps({**record, "checksum": _checksum(record)}, indent=1, sort_keys=True) + "\n"


def write(path: Path, record: dict) -> None:
    atomic_write_text(path, dumps(record))
