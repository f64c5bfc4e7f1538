"""Checkpoints: a long run killed part-way resumes where it stopped.

A checkpoint belongs to one cache key, so it can only ever resume the very run that
wrote it; it is deleted once that run's result is stored. Each save replaces the file
atomically, so a kill during a save leaves the previous checkpoint usable.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from pathlib import Path

import numpy as np

from dlreport.fsutil import atomic_write_bytes, unreadable

log = logging.getLogger(__name__)


class Checkpoint:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> tuple[int, dict[str, list[float]], list[np.ndarray]] | None:
        """(last completed step, history so far, state arrays), or None when there is nothing to resume."""
        if not self.path.is_file():
            return None
        try:
            with np.load(self.path, allow_pickle=False) as npz:
                meta = json.loads(str(npz["meta"]))
                arrays = [npz[f"a{i}"] for i in range(meta["n_arrays"])]
        except OSError as exc:
            log.warning("%s: the run starts from its first step", unreadable(self.path, exc))
            return None
        except (ValueError, KeyError, zipfile.BadZipFile) as exc:
            log.warning("damaged cache entry %s (checkpoint: %s): recomputed from the run's start", self.path, exc)
            return None
        log.info("  resuming from checkpoint at step %d", meta["step"])
        return meta["step"], meta["history"], arrays

    def save(self, step: int, history: dict[str, list[float]], arrays: list[np.ndarray]) -> None:
        """Save, or warn and go on when the disk refuses: a checkpoint is an insurance, not a result."""
        buf = io.BytesIO()
        meta = json.dumps({"step": step, "history": history, "n_arrays": len(arrays)})
        np.savez(buf, meta=np.array(meta), **{f"a{i}": a for i, a in enumerate(arrays)})
        try:
            atomic_write_bytes(self.path, buf.getvalue())
        except OSError as exc:
            log.warning("checkpoint at step %d not saved (%s): the run goes on without it", step, exc.strerror or exc)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
