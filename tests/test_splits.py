"""notMNIST splits: deterministic, de-duplicated, never silently chosen."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import png_bytes, write_letter_tar

from dlreport.data import datasets as engine_data
from dlreport.data import files as data_files
from dlreport.errors import ReportError
from experiments.data import datasets, specs, splits
from experiments.data import files as catalogue


@pytest.fixture
def small_archive(tmp_path, rng, monkeypatch):
    """A tiny notMNIST_small with duplicates within a letter and one image under two letters."""
    images = {f"{letter}/{i}.png": rng.integers(0, 256, (28, 28)) for letter in catalogue.LETTERS for i in range(20)}
    images["A/dup.png"] = images["A/0.png"]
    images["B/cross.png"] = images["C/0.png"]
    files = {name: png_bytes(img) for name, img in images.items()}
    f = data_files.DataFile("notmnist", "notMNIST_small.tar.gz", datasets.tar_content_digest(sorted(files.items())))
    write_letter_tar(tmp_path / "data" / "notmnist" / f.name, "notMNIST_small", files)
    monkeypatch.setattr(datasets, "NOTMNIST_SMALL", f)
    return tmp_path


def _spec(split):
    return specs.data_spec("notmnist", split, None, None)


def test_substitute_split_is_deterministic_disjoint_and_stratified(small_archive):
    a = splits.load_run_data(_spec("substitute"), small_archive / "data", engine_data.DecodedCache(small_archive / "c1"))
    b = splits.load_run_data(_spec("substitute"), small_archive / "data", engine_data.DecodedCache(small_archive / "c2"))
    assert a.summary() == b.summary()
    train_rows = {row.tobytes() for row in a.x_train}
    assert not any(row.tobytes() in train_rows for row in a.x_val)
    assert len(train_rows) == len(a.x_train)  # the in-letter duplicate was removed
    # the image shown as both B and C is dropped entirely: 10 letters x 20, minus C/0
    assert len(a.y_train) + len(a.y_val) == 199
    assert np.bincount(a.y_val, minlength=10).min() >= 2


def test_without_large_archive_and_without_choice_the_build_stops(tmp_path, monkeypatch):
    monkeypatch.delenv(specs.SPLIT_ENV, raising=False)
    with pytest.raises(ReportError) as exc:
        specs.choose_split(None, tmp_path)
    message = str(exc.value)
    assert "--notmnist-split substitute" in message and "notMNIST_large.tar.gz" in message


def test_unknown_split_is_refused(tmp_path):
    with pytest.raises(ReportError, match="unknown notMNIST split"):
        specs.choose_split("everything", tmp_path)


def test_original_split_takes_balanced_large_and_drops_overlap_from_validation(small_archive, rng, monkeypatch):
    monkeypatch.setattr(splits, "ORIGINAL_TRAIN_PER_LETTER", 7)
    monkeypatch.setattr(datasets, "NOTMNIST_LARGE_MIN_MEMBERS", 1)
    small = datasets.load_letter_archive(datasets.NOTMNIST_SMALL, small_archive / "data",
                                         engine_data.DecodedCache(small_archive / "c"))
    large = {f"{letter}/L{i}.png": png_bytes(rng.integers(0, 256, (28, 28)))
             for letter in catalogue.LETTERS for i in range(7 if letter != "A" else 6)}
    large["A/copy.png"] = png_bytes(np.asarray(small["images"][0]))  # A/0 of small (and its duplicate)
    write_letter_tar(small_archive / "data" / "notmnist" / "notMNIST_large.tar.gz", "notMNIST_large", large)
    assert specs.choose_split(None, small_archive / "data") == "original"
    data = splits.load_run_data(_spec("original"), small_archive / "data", engine_data.DecodedCache(small_archive / "c"))
    assert np.bincount(data.y_train, minlength=10).tolist() == [7] * 10
    train_rows = {row.tobytes() for row in data.x_train}
    assert not any(row.tobytes() in train_rows for row in data.x_val)
    assert len(data.y_val) == len(small["labels"]) - 2  # A/0 and A/dup equal a training image
