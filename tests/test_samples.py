"""Sample images: a fixed choice from the verified data, kept in a checked store, and never
a reason for a build without data to fail."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from conftest import png_bytes, write_letter_tar

from dlreport.data import datasets as engine_data
from dlreport.data import files as data_files
from dlreport.data import samples
from experiments import STUDY
from experiments.data import datasets, splits
from experiments.data import files as catalogue


def test_the_first_image_of_each_class_in_class_order(rng):
    images = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labels = np.array([2, 0, 1, 0, 2, 1, 2, 0, 1, 1, 0, 2])
    np.testing.assert_array_equal(samples.first_of_each_class(images, labels, 3), images[[1, 2, 0]])


@pytest.fixture
def letters(tmp_path, rng, monkeypatch):
    """A tiny notMNIST_small in the published layout, declared as the real one is."""
    files = {f"{letter}/{i}.png": png_bytes(rng.integers(0, 256, (28, 28))) for letter in catalogue.LETTERS for i in range(8)}
    f = data_files.DataFile("notmnist", "notMNIST_small.tar.gz", datasets.tar_content_digest(sorted(files.items())))
    write_letter_tar(tmp_path / "data" / "notmnist" / f.name, "notMNIST_small", files)
    monkeypatch.setattr(datasets, "NOTMNIST_SMALL", f)
    return tmp_path


def test_samples_come_from_the_training_arrays_are_stored_and_then_need_no_data(letters):
    store, cache = samples.SampleStore(letters / "frozen"), engine_data.DecodedCache(letters / "decoded")
    found = samples.samples_of("notmnist", store, letters / "data", cache)
    data = splits.load_run_data(STUDY.data.sample_spec("notmnist"), letters / "data", cache)
    firsts = [data.x_train[np.flatnonzero(data.y_train == c)[0]] for c in range(10)]
    np.testing.assert_array_equal(found.images, np.rint(np.array(firsts) * 255).reshape(10, 28, 28))
    assert found.classes == tuple("ABCDEFGHIJ") and store.path("notmnist").parent == letters / "frozen" / "samples" / "notmnist"
    assert store.stored() == [f"notmnist/{store.path('notmnist').name}"]

    again = samples.samples_of("notmnist", store, letters / "no-data", cache)  # a fresh clone: the store alone
    np.testing.assert_array_equal(again.images, found.images)


def test_a_damaged_sample_file_is_reported_and_not_used(letters, caplog):
    store, cache = samples.SampleStore(letters / "frozen"), engine_data.DecodedCache(letters / "decoded")
    samples.samples_of("notmnist", store, letters / "data", cache)
    entry = json.loads(store.path("notmnist").read_text())
    entry["pixels"] = entry["pixels"][:-8] + "AAAAAAA="
    store.path("notmnist").write_text(json.dumps(entry))
    with caplog.at_level(logging.WARNING):
        assert samples.samples_of("notmnist", store, letters / "no-data", cache) is None
    assert "damaged sample file" in caplog.text and "checksum" in caplog.text
    assert samples.samples_of("notmnist", store, letters / "data", cache) is not None  # taken from the data again


def test_without_data_or_store_there_are_no_samples_and_nothing_is_downloaded(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "locate", lambda *_: pytest.fail("samples must not fetch data"))
    monkeypatch.setattr(catalogue, "SYSTEM_DIRS", {})  # no system copy of Fashion-MNIST either
    (tmp_path / "data").mkdir()
    store = samples.SampleStore(tmp_path / "frozen")
    for dataset in ("fashion-mnist", "notmnist"):
        assert samples.samples_of(dataset, store, tmp_path / "data", engine_data.DecodedCache(tmp_path / "decoded")) is None
    assert store.stored() == []
