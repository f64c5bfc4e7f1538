"""`dlreport fetch` and the download behind a build's missing data, against a real HTTP
server on the loopback interface that serves good, truncated, altered and missing files.

The files are tiny ones generated here, declared with their own checksums: no real
dataset is needed and nothing leaves the machine.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from conftest import idx_bytes, png_bytes, write_letter_tar

from dlreport import cli
from dlreport.data import datasets as engine_data
from dlreport.data import fetch
from dlreport.data import files as data_files
from dlreport.errors import ReportError
from experiments.data import datasets
from experiments.data import files as catalogue


class _Handler(BaseHTTPRequestHandler):
    """Serves `server.routes`: path -> (how, bytes); any other path is a 404."""

    def do_GET(self) -> None:  # noqa: N802
        server = self.server
        server.hits.append(self.path)
        how, data = server.routes.get(self.path, ("missing", b""))
        if how == "flaky":  # truncated the first time, whole afterwards
            how = "truncated" if server.hits.count(self.path) == 1 else "good"
        if how == "missing":
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))  # a truncated answer promises more than it sends
        self.end_headers()
        self.wfile.write(data if how == "good" else data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.routes, httpd.hits = {}, []
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(fetch, "RETRIES", 2)
    monkeypatch.setattr(fetch, "RETRY_WAIT_S", 0.0)
    monkeypatch.delenv(fetch.MIRROR_ENV, raising=False)


def _idx_gz(seed: int, name: str = "x-idx3-ubyte.gz") -> tuple[data_files.DataFile, bytes]:
    """A tiny idx file, gzipped, and its declaration (the checksum of its decompressed content)."""
    content = idx_bytes(np.random.default_rng(seed).integers(0, 256, size=(20, 28, 28), dtype=np.uint8))
    return data_files.DataFile("fashion-mnist", name, hashlib.sha256(content).hexdigest()), gzip.compress(content, mtime=0)


def _altered(gz: bytes) -> bytes:
    content = bytearray(gzip.decompress(gz))
    content[-1] ^= 0xFF
    return gzip.compress(bytes(content), mtime=0)


def _entries(folder: Path) -> list[str]:
    """Everything in a folder, hidden staging folders included."""
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_good_file_lands_and_verifies(tmp_path, server, monkeypatch):
    f, gz = _idx_gz(0)
    server.routes[f"/pub/{f.name}"] = ("good", gz)
    monkeypatch.setitem(catalogue.PUBLISHED, f.label, f"{server.base}/pub/{f.name}")
    path = engine_data.locate(f, tmp_path)
    assert path == tmp_path / f.subdir / f.name and path.read_bytes() == gz
    assert datasets.content_problem(f, path) is None
    assert _entries(path.parent) == [f.name]  # no staging folder, no temporary file left
    array = datasets.load_idx(f, tmp_path, engine_data.DecodedCache(tmp_path / "decoded"))
    assert array.shape == (20, 28, 28)


def test_truncated_download_is_retried_and_never_lands(tmp_path, server, monkeypatch):
    f, gz = _idx_gz(1)
    server.routes[f"/pub/{f.name}"] = ("truncated", gz)
    monkeypatch.setitem(catalogue.PUBLISHED, f.label, f"{server.base}/pub/{f.name}")
    with pytest.raises(ReportError) as exc:
        engine_data.locate(f, tmp_path)
    message = str(exc.value)
    assert server.hits.count(f"/pub/{f.name}") == 1 + fetch.RETRIES
    assert "\n" not in message and f.name in message and "closed before the end" in message
    assert f"({1 + fetch.RETRIES} tries)" in message
    assert _entries(tmp_path / f.subdir) == []  # nothing under the real name, no partial file anywhere


def test_a_transfer_cut_once_is_retried_and_lands(tmp_path, server):
    f, gz = _idx_gz(2)
    server.routes[f"/m/{f.label}"] = ("flaky", gz)
    path = engine_data.locate(f, tmp_path, [f"{server.base}/m"])
    assert path.read_bytes() == gz and server.hits.count(f"/m/{f.label}") == 2
    assert _entries(path.parent) == [f.name]


def test_altered_file_is_set_aside_with_one_line_naming_it(tmp_path, server, monkeypatch):
    f, gz = _idx_gz(3)
    server.routes[f"/pub/{f.name}"] = ("good", _altered(gz))
    monkeypatch.setitem(catalogue.PUBLISHED, f.label, f"{server.base}/pub/{f.name}")
    with pytest.raises(ReportError) as exc:
        engine_data.locate(f, tmp_path)
    message = str(exc.value)
    assert "\n" not in message and f.name in message and "content sha256" in message and "set aside as" in message
    assert server.hits.count(f"/pub/{f.name}") == 1  # a wrong file is not fetched again from the same address
    folder = tmp_path / f.subdir
    assert not (folder / f.name).exists()
    (aside,) = folder.glob(f"{f.name}.rejected-*")
    assert aside.read_bytes() == _altered(gz) and str(aside) in message
    assert _entries(folder) == [aside.name]


def test_not_a_gzip_file_is_set_aside_too(tmp_path, server):
    f, _ = _idx_gz(4)
    server.routes[f"/m/{f.label}"] = ("good", b"<html>a captive portal's page</html>")
    with pytest.raises(ReportError, match="not a complete gzip file"):
        engine_data.locate(f, tmp_path, [f"{server.base}/m"])
    assert not (tmp_path / f.subdir / f.name).exists() and list((tmp_path / f.subdir).glob("*.rejected-*"))


def test_mirrors_are_tried_in_order_before_the_publisher(tmp_path, server, monkeypatch):
    f, gz = _idx_gz(5)
    server.routes[f"/second/{f.label}"] = ("good", gz)
    monkeypatch.setitem(catalogue.PUBLISHED, f.label, f"{server.base}/pub/{f.name}")
    path = engine_data.locate(f, tmp_path, [f"{server.base}/first/", f"{server.base}/second"])
    assert path.read_bytes() == gz
    assert server.hits == [f"/first/{f.label}", f"/second/{f.label}"]  # a 404 is not retried; the publisher not asked


def test_mirror_from_the_environment_and_the_option_overrides_it(tmp_path, server, monkeypatch):
    f, gz = _idx_gz(6)
    server.routes[f"/env/{f.label}"] = ("good", gz)
    monkeypatch.setenv(fetch.MIRROR_ENV, f"{server.base}/nothing-here  {server.base}/env")
    monkeypatch.setitem(catalogue.PUBLISHED, f.label, f"{server.base}/pub/{f.name}")
    assert engine_data.locate(f, tmp_path).read_bytes() == gz
    assert server.hits == [f"/nothing-here/{f.label}", f"/env/{f.label}"]
    assert fetch.mirrors(["http://given"]) == ("http://given",)


def test_archive_is_verified_by_its_images(tmp_path, server):
    rng = np.random.default_rng(7)
    files = {f"{letter}/img{i}.png": png_bytes(rng.integers(0, 256, (28, 28))) for letter in "AB" for i in range(2)}
    archive = write_letter_tar(tmp_path / "src" / "letters.tar.gz", "letters", files).read_bytes()
    f = data_files.DataFile("notmnist", "letters.tar.gz", datasets.tar_content_digest(sorted(files.items())))
    server.routes[f"/m/{f.label}"] = ("good", archive)
    (tmp_path / "data").mkdir()
    assert engine_data.locate(f, tmp_path / "data", [f"{server.base}/m"]).read_bytes() == archive
    wrong = data_files.DataFile("notmnist", "other.tar.gz", "0" * 64)
    server.routes[f"/m/{wrong.label}"] = ("good", archive)
    with pytest.raises(ReportError, match="other.tar.gz.*content sha256"):
        engine_data.locate(wrong, tmp_path / "data", [f"{server.base}/m"])


def test_damaged_copy_in_the_data_directory_is_set_aside_and_fetched_again(tmp_path, server):
    f, gz = _idx_gz(8)
    folder = tmp_path / f.subdir
    folder.mkdir()
    (folder / f.name).write_bytes(gz[: len(gz) // 2])
    server.routes[f"/m/{f.label}"] = ("good", gz)
    path, how = engine_data.fetch_file(f, tmp_path, [f"{server.base}/m"])
    assert how == "downloaded" and path.read_bytes() == gz
    (aside,) = folder.glob(f"{f.name}.rejected-*")
    assert aside.read_bytes() == gz[: len(gz) // 2]
    assert engine_data.fetch_file(f, tmp_path, [f"{server.base}/m"]) == (path, "present")  # verified, not fetched again
    assert server.hits == [f"/m/{f.label}"]


def _declare_fashion(monkeypatch, server) -> dict[str, bytes]:
    """Tiny stand-ins for the four Fashion-MNIST files, published on the loopback server."""
    served = {}
    declared = {}
    for i, (key, real) in enumerate(catalogue.FASHION_MNIST.items()):
        f, gz = _idx_gz(10 + i, real.name)
        declared[key], served[f.name] = f, gz
        monkeypatch.setitem(catalogue.PUBLISHED, f.label, f"{server.base}/pub/{f.name}")
    monkeypatch.setattr(datasets, "FASHION_MNIST", declared)  # where the loaders read it …
    monkeypatch.setattr(catalogue, "FASHION_MNIST", declared)  # … and where the plan names a run's data
    return served


def _fetch_cli(tmp_path, *args: str) -> int:
    return cli.main(["fetch", "--profile", "quick", "--only", "A1", "--data-dir", str(tmp_path / "data"), *args])


def test_fetch_command_downloads_every_file_the_build_reads(tmp_path, server, monkeypatch, capsys, caplog):
    caplog.set_level(logging.INFO)
    served = _declare_fashion(monkeypatch, server)
    server.routes.update({f"/m2/fashion-mnist/{name}": ("good", gz) for name, gz in served.items()})
    assert _fetch_cli(tmp_path, "--mirror", f"{server.base}/m1", "--mirror", f"{server.base}/m2") == 0
    folder = tmp_path / "data" / "fashion-mnist"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == served
    assert not any(h.startswith("/pub/") for h in server.hits)  # the second mirror had them all
    assert "\r" not in capsys.readouterr().err  # no progress redraws off a terminal
    server.hits.clear()
    assert _fetch_cli(tmp_path, "--mirror", f"{server.base}/m1") == 0  # all present and verified: nothing fetched
    assert server.hits == []


def test_fetch_command_missing_file_is_one_error_line_and_exit_2(tmp_path, server, monkeypatch, capsys):
    served = _declare_fashion(monkeypatch, server)
    lost = catalogue.FASHION_MNIST["train-labels"].name
    server.routes.update({f"/pub/{name}": ("good", gz) for name, gz in served.items() if name != lost})
    assert _fetch_cli(tmp_path, "-q") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and lost in err and "HTTP 404" in err
    folder = tmp_path / "data" / "fashion-mnist"
    assert not (folder / lost).exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(n for n in served if n != lost)  # the others did land


def test_progress_is_plain_lines_off_a_terminal_and_silent_under_quiet(tmp_path, server, caplog, capsys):
    content = np.random.default_rng(9).integers(0, 256, 600_000, dtype=np.uint8).tobytes()
    f = data_files.DataFile("fashion-mnist", "big.gz", hashlib.sha256(content).hexdigest())
    server.routes[f"/m/{f.label}"] = ("good", gzip.compress(content, compresslevel=1))
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    caplog.set_level(logging.INFO)
    engine_data.locate(f, tmp_path / "a", [f"{server.base}/m"])
    assert "50 % of" in caplog.text
    caplog.clear()
    caplog.set_level(logging.WARNING)  # what -q sets
    engine_data.locate(f, tmp_path / "b", [f"{server.base}/m"])
    assert caplog.text == "" and "\r" not in capsys.readouterr().err


def test_missing_data_stops_a_build_before_anything_trains(tmp_path, server, monkeypatch):
    """The build's preflight verifies (and downloads) the data of every run that will train;
    a file that cannot be had ends the build there, not after some runs have trained."""
    from dlreport import pipeline, planning
    from dlreport.runs import runner

    _declare_fashion(monkeypatch, server)  # declared, never served: every download is a 404

    def no_training(*args, **kwargs):
        raise AssertionError("training started before the data was verified")

    monkeypatch.setattr(runner, "obtain", no_training)
    (tmp_path / "data").mkdir()
    cfg = planning.BuildConfig(data_dir=tmp_path / "data", profile="quick", only=("A1",), out_dir=tmp_path / "out",
                               cache_dir=tmp_path / "cache", frozen_dir=tmp_path / "frozen")
    with pytest.raises(ReportError, match="missing data file .*HTTP 404"):
        pipeline.build(cfg)
