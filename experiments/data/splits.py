"""From verified dataset files to the train/validation arrays one run trains on.

A run's data is described by a small dict (its *data spec*, part of the cache key);
`load_run_data` turns that description into arrays, deterministically, so that the
same spec always means the same images in the same order.

notMNIST has two splits:

* ``original`` — as the original study had it: 200,000 training images drawn evenly
  over the ten letters from notMNIST_large; validation is notMNIST_small without its
  unreadable files and without exact duplicates of any training image (≈ 17,000).
* ``substitute`` — for machines without notMNIST_large: notMNIST_small alone,
  de-duplicated (identical pixel arrays kept once, arrays shown under two letters
  dropped), then split per letter into train and validation. Its numbers are *not*
  comparable with the original's; the report says so wherever they appear.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from dlreport.data.rundata import RunData
from dlreport.errors import ReportError
from experiments.data import datasets
from experiments.data.specs import ORIGINAL_TRAIN_PER_LETTER, SUBSTITUTE_TEST_FRACTION, loader_name

DATA_SEED = 20170831  # fixed: the split must not move when an experiment's seed does


def load_run_data(spec: dict, data_dir: Path, cache: datasets.DecodedCache) -> RunData:
    """The arrays a data spec describes (None counts mean 'all')."""
    return globals()[loader_name(spec)](spec, data_dir, cache)


def fashion_mnist_data(spec: dict, data_dir: Path, cache: datasets.DecodedCache) -> RunData:
    d = datasets.load_fashion_mnist(data_dir, cache)
    return _run_data(spec, d["train-images"], d["train-labels"], d["test-images"], d["test-labels"])


def notmnist_substitute_data(spec: dict, data_dir: Path, cache: datasets.DecodedCache) -> RunData:
    return _run_data(spec, *_substitute_split(data_dir, cache))


def notmnist_original_data(spec: dict, data_dir: Path, cache: datasets.DecodedCache) -> RunData:
    return _run_data(spec, *_original_split(data_dir, cache))


def _run_data(spec: dict, xtr: np.ndarray, ytr: np.ndarray, xva: np.ndarray, yva: np.ndarray) -> RunData:
    ntr, nva = spec["n_train"], spec["n_val"]
    return RunData(_as_inputs(xtr[:ntr]), ytr[:ntr].astype(np.int32), _as_inputs(xva[:nva]), yva[:nva].astype(np.int32))


def _as_inputs(images: np.ndarray) -> np.ndarray:
    return (np.asarray(images, np.float32).reshape(len(images), -1) / 255.0).astype(np.float32)


def _pixel_keys(images: np.ndarray) -> list[bytes]:
    return [hashlib.sha1(img.tobytes()).digest() for img in images]


def _shuffled(rng: np.random.Generator, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    order = rng.permutation(len(arrays[0]))
    return tuple(np.asarray(a)[order] for a in arrays)


def _substitute_split(data_dir: Path, cache: datasets.DecodedCache) -> tuple[np.ndarray, ...]:
    small = datasets.load_letter_archive(datasets.NOTMNIST_SMALL, data_dir, cache)
    images, labels = np.asarray(small["images"]), np.asarray(small["labels"])
    first: dict[bytes, int] = {}
    ambiguous: set[bytes] = set()
    for i, key in enumerate(_pixel_keys(images)):
        if key not in first:
            first[key] = i
        elif labels[first[key]] != labels[i]:
            ambiguous.add(key)
    keep = np.array(sorted(i for k, i in first.items() if k not in ambiguous))
    rng = np.random.default_rng(DATA_SEED)
    train_idx, val_idx = [], []
    for letter in range(len(datasets.LETTERS)):
        idx = rng.permutation(keep[labels[keep] == letter])
        n_val = round(SUBSTITUTE_TEST_FRACTION * len(idx))
        val_idx.append(idx[:n_val])
        train_idx.append(idx[n_val:])
    tr, va = np.concatenate(train_idx), np.concatenate(val_idx)
    xtr, ytr = _shuffled(rng, images[tr], labels[tr])
    xva, yva = _shuffled(rng, images[va], labels[va])
    return xtr, ytr, xva, yva


def _original_split(data_dir: Path, cache: datasets.DecodedCache) -> tuple[np.ndarray, ...]:
    large = datasets.load_letter_archive(datasets.NOTMNIST_LARGE, data_dir, cache)
    small = datasets.load_letter_archive(datasets.NOTMNIST_SMALL, data_dir, cache)
    images, labels = np.asarray(large["images"]), np.asarray(large["labels"])
    rng = np.random.default_rng(DATA_SEED)
    chosen = []
    for letter in range(len(datasets.LETTERS)):
        idx = np.flatnonzero(labels == letter)
        if len(idx) < ORIGINAL_TRAIN_PER_LETTER:
            raise ReportError(
                f"notMNIST_large has {len(idx)} readable images of {datasets.LETTERS[letter]}, "
                f"fewer than the {ORIGINAL_TRAIN_PER_LETTER} the original split takes"
            )
        chosen.append(rng.permutation(idx)[:ORIGINAL_TRAIN_PER_LETTER])
    tr = np.concatenate(chosen)
    xtr, ytr = _shuffled(rng, images[tr], labels[tr])
    train_keys = set(_pixel_keys(xtr))
    simages, slabels = np.asarray(small["images"]), np.asarray(small["labels"])
    keep = np.array([k not in train_keys for k in _pixel_keys(simages)], bool)
    xva, yva = _shuffled(rng, simages[keep], slabels[keep])
    return xtr, ytr, xva, yva
