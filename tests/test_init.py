"""`dlreport init DIR`, then the everyday commands, as a new user runs them: a study of their own,
outside this project, on the engine alone (NumPy, generated data, no TensorFlow, no files).

It checks the real outputs: an HTML and a PDF with the study's title, part, figure, findings and
listing; a no-op second build; `status --exit-code`; `diff` naming the edited experiment; `serve`
answering with the report; the study's own tests passing; and that outside a project every
command stops in one line having made nothing."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from html import escape
from pathlib import Path

import pytest

from dlreport.builds.changes import CACHE_HIT

HARNESS = ("import sys; from dlreport.cli import main; rc = main(sys.argv[1:]); "
           "print('TENSORFLOW_IMPORTED=%s' % ('tensorflow' in sys.modules)); sys.exit(rc)")


def _run(where: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "1790000000"}
    env.pop("REPORT_DATA_DIR", None)
    return subprocess.run([sys.executable, "-c", HARNESS, *args], cwd=where, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mine") / "leaf-study"
    made = _run(folder.parent, "init", folder.name)
    assert made.returncode == 0, made.stderr
    assert "wrote a study" in made.stderr
    return folder


def test_init_writes_six_files_of_the_users_own_and_refuses_a_folder_with_anything_in_it(study, tmp_path):
    written = sorted(str(p.relative_to(study)) for p in study.rglob("*") if p.is_file())
    assert written == ["pyproject.toml", "study/__init__.py", "study/data.py", "study/softmax.py",
                       "templates/part_a.html.j2", "tests/test_study.py"]
    assert 'study = "study"' in (study / "pyproject.toml").read_text()
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    refused = _run(tmp_path, "init", "taken")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "not an empty folder" in refused.stderr
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]


def test_the_new_study_builds_html_and_pdf_without_tensorflow_then_a_second_build_is_a_no_op(study):
    first = _run(study, "build", "--profile", "quick")
    assert first.returncode == 0, first.stderr
    assert "TENSORFLOW_IMPORTED=False" in first.stdout and "6 trained" in first.stderr
    html = (study / "build" / "report.html").read_text()
    assert "<h1>Leaf study</h1>" in html
    assert re.search(r'<h2 id="part-a"><span class="secnum">\d+</span> Learning rate', html)
    assert re.search(r'<figure id="fig-rates" class="curves">\s*<div class="panels"><img src="data:image/svg\+xml;base64,', html)
    assert 'id="finding-1"' in html and "study.softmax.train" in html and "??" not in html
    from dlreport.runs import machine

    assert f"<dt>trained on</dt><dd>{escape(machine.host()['cpu'])} (every run)</dd>" in html  # as each run recorded it
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(study / "build" / "report.pdf").pages)
    assert "Leaf study" in text and "Learning rate" in text and "How a finding is judged" in text
    record = json.loads((study / "build" / "record.json").read_text())
    assert set(record["experiments"]) == {"slow", "fast"} and record["experiments"]["fast"]["n"] == 3
    assert set(record["versions"]) == {"python", "numpy"}  # keyed by its own framework's libraries

    again = _run(study, "build", "--profile", "quick")
    assert again.returncode == 0 and "up to date" in again.stderr and "TENSORFLOW_IMPORTED=False" in again.stdout
    status = _run(study, "status", "--profile", "quick", "--exit-code")
    assert status.returncode == 0 and "0 of 6 runs" in status.stdout


def test_an_edit_retrains_only_its_runs_and_diff_names_them(study):
    definitions = study / "study" / "__init__.py"
    text = definitions.read_text()
    definitions.write_text(text.replace('{"learning_rate": 0.05, "epochs": 40}', '{"learning_rate": 0.1, "epochs": 40}'))
    try:
        status = _run(study, "status", "--profile", "quick", "--exit-code")
        assert status.returncode == 1 and "3 of 6 runs" in status.stdout
        rebuilt = _run(study, "build", "--profile", "quick")
        assert rebuilt.returncode == 0 and "3 trained, 3 cached" in rebuilt.stderr, rebuilt.stderr
        diff = _run(study, "diff", "--format", "json")
        assert diff.returncode == 0, diff.stderr
        rows = {r["id"]: r for r in json.loads(diff.stdout.split("TENSORFLOW_IMPORTED")[0])["experiments"]}
        assert rows["slow"]["state"] != CACHE_HIT and rows["fast"]["state"] == CACHE_HIT
        assert any("learning_rate" in c["cause"] for c in rows["slow"]["causes"])
    finally:
        definitions.write_text(text)


def test_serve_answers_with_the_studys_report(study):
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    code = "import sys; from dlreport.cli import main; sys.exit(main(sys.argv[1:]))"
    server = subprocess.Popen([sys.executable, "-c", code, "serve", "--port", "0", "--profile", "quick"], cwd=study,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(ln) for ln in server.stdout], daemon=True).start()
        url = lines.get(timeout=60).split("serving the report at ")[1].split()[0]
        deadline, page = time.monotonic() + 120, ""
        while "<h1>" not in page and time.monotonic() < deadline:  # a "rendering…" page until the first render is done
            with urllib.request.urlopen(url, timeout=60) as response:
                page = response.read().decode()
            time.sleep(0.2)
        assert "<h1>Leaf study</h1>" in page and 'id="part-a"' in page
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_studys_own_tests_pass(study):
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts="], cwd=study,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_outside_a_project_every_command_stops_in_one_line_and_makes_nothing(tmp_path):
    for command in (["build"], ["status"], ["diff"], ["serve"], ["fetch"], ["config"]):
        result = _run(tmp_path, *command)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, (command, result.stderr)
        assert "is not inside a dlreport project" in result.stderr
    assert list(tmp_path.iterdir()) == []
