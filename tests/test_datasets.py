"""Loaders: verified decoding of the published formats, clear errors for bad files."""

from __future__ import annotations

import hashlib
import socket

import numpy as np
import pytest
from conftest import idx_bytes, png_bytes, write_gz, write_letter_tar

from dlreport.data import datasets as engine_data
from dlreport.data import fetch
from dlreport.data import files as data_files
from dlreport.errors import ReportError
from experiments.data import datasets
from experiments.data import files as catalogue


def _idx_file(tmp_path, rng):
    array = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    content = idx_bytes(array)
    f = data_files.DataFile("fashion-mnist", "x-idx3-ubyte.gz", hashlib.sha256(content).hexdigest())
    write_gz(tmp_path / "data" / "fashion-mnist" / f.name, content)
    return f, array, content


def test_idx_decodes_and_second_load_comes_from_the_decoded_cache(tmp_path, rng):
    f, array, _ = _idx_file(tmp_path, rng)
    cache = engine_data.DecodedCache(tmp_path / "decoded")
    first = datasets.load_idx(f, tmp_path / "data", cache)
    np.testing.assert_array_equal(first, array)
    (tmp_path / "data" / "fashion-mnist" / f.name).unlink()  # the cache alone must serve now
    np.testing.assert_array_equal(datasets.load_idx(f, tmp_path / "data", cache), array)


@pytest.mark.parametrize("damage", ["truncate", "edit"])
def test_damaged_decoded_file_is_detected_and_decoded_again(tmp_path, rng, caplog, damage):
    f, array, _ = _idx_file(tmp_path, rng)
    cache = engine_data.DecodedCache(tmp_path / "decoded")
    datasets.load_idx(f, tmp_path / "data", cache)
    npy = next((tmp_path / "decoded").glob("*.npy"))
    data = npy.read_bytes()
    npy.write_bytes(data[:-100] if damage == "truncate" else data[:-1] + bytes([data[-1] ^ 1]))
    np.testing.assert_array_equal(datasets.load_idx(f, tmp_path / "data", cache), array)
    assert "damaged cache entry" in caplog.text and "checksum mismatch" in caplog.text
    assert npy.read_bytes() == data  # written afresh


def test_truncated_gzip_is_refused_with_one_clear_line(tmp_path, rng):
    f, _, _ = _idx_file(tmp_path, rng)
    path = tmp_path / "data" / "fashion-mnist" / f.name
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ReportError, match=f"{f.name} is corrupt or truncated") as exc:
        datasets.load_idx(f, tmp_path / "data", engine_data.DecodedCache(tmp_path / "decoded"))
    assert "\n" not in str(exc.value)


def test_wrong_content_fails_verification(tmp_path, rng):
    f, array, content = _idx_file(tmp_path, rng)
    tampered = bytearray(content)
    tampered[-1] ^= 0xFF
    write_gz(tmp_path / "data" / "fashion-mnist" / f.name, bytes(tampered))
    with pytest.raises(ReportError, match="fails verification"):
        datasets.load_idx(f, tmp_path / "data", engine_data.DecodedCache(tmp_path / "decoded"))


def test_missing_file_offline_names_file_places_and_remedy(tmp_path, rng, monkeypatch):
    f, _, _ = _idx_file(tmp_path, rng)
    with socket.socket() as closed:  # a port nothing listens on: the connection is refused, as offline
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setattr(fetch, "RETRY_WAIT_S", 0.0)
    monkeypatch.delenv(fetch.MIRROR_ENV, raising=False)
    monkeypatch.setitem(catalogue.PUBLISHED, f.label, f"http://127.0.0.1:{port}/x.gz")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ReportError) as exc:
        datasets.load_idx(f, empty, engine_data.DecodedCache(tmp_path / "decoded"))
    message = str(exc.value)
    assert f.name in message and str(empty / "fashion-mnist") in message
    assert "--data-dir" in message and data_files.published_at(f) in message and "\n" not in message
    mistyped = tmp_path / "no-such-dir"
    with pytest.raises(ReportError, match="does not exist"):
        datasets.load_idx(f, mistyped, engine_data.DecodedCache(tmp_path / "decoded"))
    assert not mistyped.exists()  # nothing was made under a mistyped data directory


def test_declared_fashion_checksums_match_the_shared_copy():
    """The declared checksums are those of the real data (decompressed content)."""
    from conftest import SHARED_DATA

    if not (SHARED_DATA / "fashion-mnist").is_dir():
        pytest.skip("shared data not present")
    label = catalogue.FASHION_MNIST["test-labels"]
    path = data_files.find_file(label, SHARED_DATA)
    content = datasets._read_gzip(label, path)
    assert hashlib.sha256(content).hexdigest() == label.content_sha256


def test_letter_archive_skips_unreadable_files_and_labels_by_folder(tmp_path, rng):
    files = {f"{letter}/img{i}.png": png_bytes(rng.integers(0, 256, (28, 28))) for letter in "AJ" for i in range(3)}
    files["B/empty.png"] = b""
    entries = sorted(files.items())
    f = data_files.DataFile("notmnist", "letters.tar.gz", datasets.tar_content_digest(entries))
    write_letter_tar(tmp_path / "data" / "notmnist" / f.name, "letters", files)
    arrays = datasets.load_letter_archive(f, tmp_path / "data", engine_data.DecodedCache(tmp_path / "decoded"))
    assert arrays["images"].shape == (6, 28, 28)
    assert list(arrays["labels"]) == [0, 0, 0, 9, 9, 9]
