"""`dlreport serve`: the live preview, in a copy of the project whose runs are stored.

The copy renders Part A's A1, seeds 0 and 1, from the committed results in `frozen/` (full
profile), so it needs no data and trains nothing; the tests edit its template and its training code the
way a user would and watch what the browser would get.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, copy_project

from dlreport import serve

SELECTION = ("--only", "A1", "--seeds", "2", "--notmnist-split", "substitute")  # stored in frozen/
START_S = 300  # the first preview draws its figures and equations into an empty cache
MARKER_EDIT = ("<strong>Abstract.</strong>", "<strong>Abstract.</strong> {marker}")
CODE_EDIT = ("    return w @ a + b\n", "    return (w @ a + b) * 1.0\n")  # a changed forward pass: A1 is stale


def test_page_gets_banner_after_body_and_reload_script_before_its_end():
    page = serve._page("<html><body class='x'><p>report</p></body></html>", 7, "<div id='b'>stale</div>").decode()
    assert page.index("<body class='x'><div id='b'>stale</div><p>report</p>") > 0
    assert page.index("var shown = 7;") < page.index("</body>") and serve.ENDPOINT + "wait?after=" in page
    assert "<body" in serve._page("<p>fragment</p>", 0, "").decode()


def test_stale_banner_names_each_experiment_its_seeds_and_why():
    rows = [{"id": "A1", "seed": 0, "state": "stale", "causes": [{"cause": "forward() changed", "diff": ""}]},
            {"id": "A1", "seed": 1, "state": "stale", "causes": [{"cause": "forward() changed", "diff": ""}]},
            {"id": "B2", "seed": 3, "state": "never-run"}]
    banner = serve._stale_banner(rows)
    assert "3 runs would be trained" in banner and "A1</strong> seeds 0, 1: forward() changed" in banner
    assert "B2</strong> seed 3: no result stored" in banner and "trains nothing" in banner
    assert serve._stale_banner([]) == ""


class Served:
    """`dlreport serve --port 0` in a subprocess, run in the project copy."""

    def __init__(self, root: Path) -> None:
        self.root = root
        env = {**os.environ, "REPORT_DATA_DIR": str(root / "no-data"), "PYTHONHASHSEED": "0"}
        code = "import sys; from dlreport.cli import main; sys.exit(main(sys.argv[1:]))"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, "serve", "--port", "0", *SELECTION],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(ln) for ln in self.process.stdout], daemon=True).start()
        first = lines.get(timeout=60)
        self.url = first.split("serving the report at ")[1].split()[0]

    def get(self, path: str = "", timeout: float = 30) -> str:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
            return response.read().decode()

    def state(self) -> dict:
        return json.loads(self.get(serve.ENDPOINT[1:] + "state"))

    def wait_for(self, condition, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state()
            if condition(state):
                return state
            time.sleep(0.05)
        raise AssertionError(f"not reached within {timeout} s; last state {state}")

    def stop(self) -> str:
        self.process.terminate()
        try:
            _, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if not (ROOT / "frozen").is_dir():
        pytest.fail("no frozen/ in this checkout: the committed study is missing")
    root = copy_project(tmp_path_factory.mktemp("serve"))
    (root / "frozen").symlink_to(ROOT / "frozen")  # read only: a preview writes to no store
    s = Served(root)
    try:
        first = s.wait_for(lambda st: st["preview"] >= 1, START_S)
        if first["left_out"]:
            pytest.fail(f"A1's full-profile results are not in frozen/ (a key moved?): {first['left_out']}")
        assert first["error"] is None and first["runs"] == 2, first
        yield s
    finally:
        print(s.stop())


def test_template_edit_reaches_the_page_and_the_reload_endpoint_signals(served):
    page = served.get()
    assert "dlreport serve: reload" in page and "Training fully connected networks" in page
    assert not (served.root / "build" / "report.html").exists()  # the served page only
    before = served.state()["preview"]
    signalled: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: signalled.put(json.loads(served.get(f"__dlreport/wait?after={before}"))),
                     daemon=True).start()
    time.sleep(0.2)  # the long poll is waiting
    template = served.root / "templates" / "abstract.html.j2"
    original = template.read_text()
    marker = f"EDITED-{time.time_ns()}"
    try:
        started = time.monotonic()
        template.write_text(original.replace(MARKER_EDIT[0], MARKER_EDIT[1].format(marker=marker), 1))
        while marker not in served.get():
            assert time.monotonic() - started < 10, "the edit did not reach the served page within 10 s"
            time.sleep(0.05)
        print(f"template edit served after {time.monotonic() - started:.2f} s")
        assert signalled.get(timeout=5) == {"preview": before + 1}
    finally:
        template.write_text(original)
    served.wait_for(lambda st: st["preview"] >= before + 2, 30)


def test_code_edit_shows_stale_runs_in_a_banner_and_trains_nothing(served):
    lowlevel = served.root / "experiments" / "lowlevel.py"
    original = lowlevel.read_text()
    assert CODE_EDIT[0] in original
    before = served.state()["preview"]
    try:
        lowlevel.write_text(original.replace(*CODE_EDIT, 1))
        state = served.wait_for(lambda st: st["preview"] > before and st["left_out"], 240)
        assert {(r["id"], r["seed"]) for r in state["left_out"]} == {("A1", 0), ("A1", 1)}
        assert state["error"] is None and state["runs"] == 0 and state["trained"] == 0
        assert state["tensorflow_imported"] is False
        page = served.get()
        assert 'id="dlreport-serve-stale"' in page and "2 runs would be trained" in page and "A1</strong>" in page
        results = served.root / ".cache" / "results"
        assert not results.exists() or not any(results.rglob("*.json"))  # nothing was trained or stored
    finally:
        lowlevel.write_text(original)
    state = served.wait_for(lambda st: st["preview"] > before + 1 and not st["left_out"], 240)
    assert state["runs"] == 2 and 'id="dlreport-serve-stale"' not in served.get()


# --- the server's own manners: one line for a bad port, its own Host only, no thread held
# forever, IPv6, and a tab closed mid-response that nobody hears about --------------------

@pytest.mark.parametrize("port", ["80000", "-1", "http"])
def test_a_port_out_of_range_is_one_line_and_exit_2(port, capsys):
    from dlreport import cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve", "--port", port])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and err.startswith("error: ") and "--port" in err


@pytest.mark.parametrize(("header", "bound", "allowed"), [
    ("127.0.0.1:8000", "127.0.0.1", True), ("localhost:8000", "127.0.0.1", True), ("[::1]:8000", "::1", True),
    ("localhost", "::1", True), ("evil.example:8000", "127.0.0.1", False), ("127.0.0.1.nip.io", "127.0.0.1", False),
    ("10.0.0.5:8000", "0.0.0.0", True), ("evil.example", "0.0.0.0", False), (None, "127.0.0.1", False),
    ("[::1", "127.0.0.1", False),
])
def test_only_the_bound_address_or_a_loopback_name_is_served(header, bound, allowed):
    assert serve.host_allowed(header, bound) is allowed


class Bare:
    """A preview server with no renderer: its HTTP side alone, serving a page of a given size."""

    def __init__(self, tmp_path, host: str = "127.0.0.1", page: bytes = b"<html><body>report</body></html>") -> None:
        from dlreport.planning import BuildConfig

        self.server = serve.PreviewServer(BuildConfig(data_dir=tmp_path), host, 0)
        self.server.page = page
        self.thread = threading.Thread(target=self.server.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.host, self.port = self.server.http.server_address[:2]

    def request(self, raw: bytes, timeout: float = 10) -> bytes:
        import socket

        with socket.create_connection((self.host, self.port), timeout=timeout) as conn:
            conn.sendall(raw)
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and len(b"".join(chunks)) > 200:
                    break
            return b"".join(chunks)

    def close(self) -> None:
        self.server.http.shutdown()
        self.server.http.server_close()


def test_a_request_for_another_host_is_refused(tmp_path):
    bare = Bare(tmp_path)
    try:
        ok = bare.request(f"GET / HTTP/1.1\r\nHost: localhost:{bare.port}\r\n\r\n".encode())
        rebound = bare.request(b"GET / HTTP/1.1\r\nHost: attacker.example\r\n\r\n")
    finally:
        bare.close()
    assert ok.startswith(b"HTTP/1.1 200") and b"report" in ok
    assert rebound.startswith(b"HTTP/1.1 421") and b"report" not in rebound


def test_a_connection_that_sends_nothing_is_closed(tmp_path, monkeypatch):
    import socket

    monkeypatch.setattr(serve, "CONNECTION_TIMEOUT_S", 0.5)
    bare = Bare(tmp_path)
    try:
        with socket.create_connection((bare.host, bare.port), timeout=10) as idle:
            started = time.monotonic()
            assert idle.recv(1) == b""  # closed by the server, not left holding a thread
            assert time.monotonic() - started < 5
    finally:
        bare.close()


def test_ipv6_loopback_is_served(tmp_path):
    import socket

    if not socket.has_ipv6:
        pytest.skip("no IPv6 in this Python")
    try:
        bare = Bare(tmp_path, "::1")
    except Exception as exc:  # noqa: BLE001 - a machine without an IPv6 loopback
        pytest.skip(f"no IPv6 loopback here: {exc}")
    try:
        assert bare.server.url.startswith("http://[::1]:")
        assert bare.request(f"GET / HTTP/1.1\r\nHost: [::1]:{bare.port}\r\n\r\n".encode()).startswith(b"HTTP/1.1 200")
    finally:
        bare.close()


def test_a_tab_closed_mid_response_is_silent(tmp_path, capfd):
    import socket
    import struct

    bare = Bare(tmp_path, page=b"x" * (64 << 20))
    try:
        for _ in range(3):
            conn = socket.create_connection((bare.host, bare.port), timeout=10)
            conn.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{bare.port}\r\n\r\n".encode())
            conn.recv(1024)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset, as a closed tab
            conn.close()
        time.sleep(0.5)
        assert bare.request(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{bare.port}\r\n\r\n".encode()).startswith(b"HTTP/1.1 200")
    finally:
        bare.close()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipe" not in err and "ConnectionReset" not in err, err


def test_a_server_on_every_address_warns(tmp_path, caplog):
    bare = Bare(tmp_path, "0.0.0.0")
    bare.close()
    assert any("any machine that can reach this one" in r.getMessage() for r in caplog.records)
