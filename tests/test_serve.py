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

from report import serve

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
        code = "import sys; from report.cli import main; sys.exit(main(sys.argv[1:]))"
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
        pytest.skip("no frozen/ results in this checkout")
    root = copy_project(tmp_path_factory.mktemp("serve"))
    (root / "frozen").symlink_to(ROOT / "frozen")  # read only: a preview writes to no store
    s = Served(root)
    try:
        first = s.wait_for(lambda st: st["preview"] >= 1, START_S)
        if first["left_out"]:
            pytest.skip(f"A1's full-profile results are not in frozen/: {first['left_out']}")
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
