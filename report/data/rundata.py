"""The arrays one run trains on, as a study's loader makes them (`Data.load`) and a trainer reads
them: inputs as float32 rows, labels as int32, for training and validation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RunData:
    """Arrays ready for training: images flattened to floats in [0, 1], labels as int32."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    def summary(self) -> dict:
        """Counts and a checksum of exactly what was trained on, for the record and the report."""
        h = hashlib.sha256()
        for a in (self.x_train, self.y_train, self.x_val, self.y_val):
            h.update(np.ascontiguousarray(a).tobytes())
        return {"n_train": int(len(self.y_train)), "n_val": int(len(self.y_val)), "sha256": h.hexdigest()}
