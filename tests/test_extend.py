"""A new part of the study is three files: its definitions, its trainer and its template.

The test adds a toy Part D — a nearest-centroid classifier trained on the quick slice of
Fashion-MNIST — to a scratch copy of the project, touching exactly those three files, and
checks that the real build puts it in the report as a part of its own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
from conftest import DATA, copy_project

pytestmark = pytest.mark.e2e

TRAINER = '''
"""Part D (a toy): nearest class centroids, each moved towards its class mean a step at a time."""

import numpy as np

from experiments import metrics

FRAMEWORK = "numpy"  # its runs are keyed by NumPy's version, not TensorFlow's


def scores(centroids, x):
    """Minus the squared distance of every image to every centroid (images × classes)."""
    return 2 * x @ centroids.T - (centroids ** 2).sum(axis=1)


def train(spec, data, progress, checkpoint):
    hp = spec["hparams"]
    centroids = np.random.default_rng(spec["seed"]).random((10, data.x_train.shape[1]), dtype=np.float32)
    means = np.stack([data.x_train[data.y_train == c].mean(axis=0) for c in range(10)])
    history = metrics.empty_history()
    for step in range(1, hp["iterations"] + 1):
        centroids += hp["learning_rate"] * (means - centroids)
        for split, x, y in (("train", data.x_train, data.y_train), ("val", data.x_val, data.y_val)):
            s = scores(centroids, x)
            s = s - s.max(axis=1, keepdims=True)
            log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
            history[f"{split}_loss"].append(float(-log_p[np.arange(len(y)), y].mean()))
            history[f"{split}_acc"].append(float((s.argmax(axis=1) == y).mean()))
        progress(step, hp["iterations"], {m: v[-1] for m, v in history.items()})
    return history
'''

TEMPLATE = '''
<h2 id="part-d">Part D — {{ part.title }}</h2>
<p>A classifier without a network: each class is a point, moved towards its class mean at every step.</p>
{% set e = runs.D1 %}
<h3 id="{{ e.anchor }}">{{ e.id }}: {{ e.title }}</h3>
{{ m.experiment_body(e) }}
'''


def test_a_toy_part_d_in_three_files_gets_sections_contents_figures_table_and_pdf_piece(tmp_path):
    if not (DATA / "fashion-mnist").is_dir():
        pytest.skip(f"real data not found in {DATA}: set REPORT_DATA_DIR")
    root = copy_project(tmp_path / "project")
    before = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    definitions = root / "experiments" / "definitions.py"
    text = definitions.read_text()
    start = text.index("PARTS: tuple[Part, ...] = (")
    end = text.index("\n)\n", start)  # the tuple's closing line: Part D goes last
    text = text[:end] + '\n    Part("D", "Nearest centroids on Fashion-MNIST", "part_d.html.j2"),' + text[end:]
    text += textwrap.dedent('''
        EXPERIMENTS.append(Experiment("D1", "D", "Ten moving centroids", "centroids", "fashion-mnist",
                                      {"learning_rate": 0.2, "iterations": 12}))
    ''')
    definitions.write_text(text)
    (root / "experiments" / "centroids.py").write_text(TRAINER.lstrip())
    (root / "templates" / "part_d.html.j2").write_text(TEMPLATE.lstrip())
    after = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    touched = {p for p in after if before.get(p) != after[p]}
    assert len(touched) == 3, touched

    env = {**os.environ, "REPORT_DATA_DIR": str(DATA), "SOURCE_DATE_EPOCH": "1790000000"}
    result = subprocess.run([sys.executable, "build.py", "--profile", "quick", "--only", "D1", "--seeds", "2", "--publish"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "D1 seed 1 12/12" in result.stderr
    html = (root / "build" / "report.html").read_text()
    assert re.search(r'<h2 id="part-d"><span class="secnum">\d+</span> Part D — Nearest centroids', html)
    assert re.search(r'<h3 id="d1"><span class="secnum">\d+\.1</span> D1: Ten moving centroids', html)
    assert '<a href="#part-d">' in html and '<a href="#d1">' in html  # in the contents
    assert re.search(r'<figure id="fig-d1" class="curves">\s*<div class="panels"><img src="data:image/svg\+xml;base64,', html)
    assert "GFLOP/s)" not in html  # no arithmetic rate in its text: it multiplies no matrices the FLOP model knows
    assert re.search(r"<tr><td>D1</td>(?:(?!</tr>).)*<td class=\"n\">—</td>", html, re.S)  # nor in the runs table
    assert re.search(r'<table id="tab-d1-results">\s*<caption><span class="capnum">Table \d+\.</span>', html)
    rec = json.loads((root / "build" / "record.json").read_text())
    assert rec["experiments"]["D1"]["n"] == 2
    for run in rec["runs"]:  # each stored with its key's components: keyed by its own framework's libraries
        entry = json.loads(next((root / ".cache" / "results").glob(f"*/{run['key']}.json")).read_text())
        assert set(entry["components"]["versions"]) == {"python", "numpy"} and entry["components"]["engine"] == {}
        assert entry["result"]["versions"] == entry["components"]["versions"]
    assert "TensorFlow" not in rec["versions"] and "tensorflow" not in rec["versions"]

    from pypdf import PdfReader

    pdf = PdfReader(root / "build" / "report.pdf")
    def titles(items) -> list[str]:
        return [t for item in items for t in (titles(item) if isinstance(item, list) else [item.title])]

    outline = titles(pdf.outline)
    assert any(title.endswith("Part D — Nearest centroids on Fashion-MNIST") for title in outline), outline
    pages = [page.extract_text() for page in pdf.pages]
    start = next(i for i, text in enumerate(pages) if "Part D — Nearest centroids" in text and "Contents" not in text)
    assert "A classifier without a network" in pages[start]  # the part starts a page of its own (its own piece)
    assert "A classifier without a network" not in pages[start - 1]
