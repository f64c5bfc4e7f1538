"""The study's data, generated: points around one centre per class, the same on every machine
(a fixed seed), so the study builds offline with no files to fetch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlreport.data.interface import Data
from dlreport.data.rundata import RunData

CLASSES, FEATURES, SEED = 3, 8, 20261204


def blobs(spec: dict, data_dir: Path, cache) -> RunData:
    """Training and validation points: class centres drawn once, points scattered around them."""
    rng = np.random.default_rng(SEED)
    centres = rng.normal(0.0, spec["spread"], (CLASSES, FEATURES))
    def points(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, CLASSES, n)
        return (centres[y] + rng.normal(0.0, 1.0, (n, FEATURES))).astype(np.float32), y.astype(np.int32)
    x_train, y_train = points(spec["n_train"])
    x_val, y_val = points(spec["n_val"])
    return RunData(x_train, y_train, x_val, y_val)


class Blobs(Data):
    """The engine's view of the data: generated, so nothing to download, no choice, no samples
    (`Data`'s defaults)."""

    def spec(self, dataset: str, choice, n_train, n_val) -> dict:
        return {"dataset": dataset, "spread": 1.0, "n_train": n_train or 600, "n_val": n_val or 300, "sources": {}}

    def loader(self, spec: dict) -> tuple[str, str]:
        return __name__, "blobs"

    def load(self, spec: dict, data_dir: Path, cache) -> RunData:
        return blobs(spec, data_dir, cache)


DATA = Blobs()
