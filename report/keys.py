"""Cache keys: a run's result is stored under a hash of everything that can change it.

The components are kept (not just their hash) so that `status` and `diff` can say
*which* one moved. The experiment's id and title are deliberately absent: renaming an
experiment cannot change what training produces.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from functools import cache
from importlib import metadata

from report import source

KEY_SCHEME = 1  # bump when the meaning of a key's components changes
DATA_MODULE = "report.splits"
FRAMEWORKS = ("tensorflow", "keras", "numpy")
# TensorFlow reads this when it is imported. Its oneDNN kernels are off by default on CPUs
# without AVX-512; turned on, Part A's XLA step ran 17 % faster here with bit-identical
# results, so builds turn them on unless told otherwise. They change rounding elsewhere
# (Keras' own kernels), hence the setting's place in every key.
ONEDNN_VARIABLE, ONEDNN_DEFAULT = "TF_ENABLE_ONEDNN_OPTS", "1"


@cache
def versions() -> dict[str, str]:
    """Library versions, read from package metadata (importing TensorFlow would cost seconds)."""
    found = {"python": platform.python_version()}
    for name in FRAMEWORKS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def engine() -> dict[str, str]:
    """Settings that choose TensorFlow's kernels, as the process will import it."""
    value = os.environ.get(ONEDNN_VARIABLE, ONEDNN_DEFAULT).strip().lower()
    return {"onednn": "on" if value in ("1", "true") else "off"}


def code_fingerprints(trainer: str) -> dict[str, str]:
    """The trainer's functions and the data preparation, each fingerprinted separately."""
    return {
        **source.fingerprints(f"experiments.{trainer}", "train"),
        **source.fingerprints(DATA_MODULE, "load_run_data"),
    }


def components(spec: dict) -> dict:
    """Everything the key is made of."""
    return {
        "scheme": KEY_SCHEME,
        "spec": spec,
        "code": code_fingerprints(spec["trainer"]),
        "versions": versions(),
        "engine": engine(),
    }


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def key_of(parts: dict) -> str:
    return hashlib.sha256(canonical_json(parts).encode()).hexdigest()
