"""A study unlike the first in every way the engine could have assumed: a model fitted once (no
per-step history), a metric of its own kind ("error", lower is better) and no loss or accuracy,
a trainer on NumPy alone, data generated in the study. Built for real (HTML and PDF), it gets a
table where there are no steps, curves where there are, a finding judged on its own metric and
keys that name NumPy only."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

STUDY = '''
import numpy as np

from dlreport.claims import Claim, Reading, Test
from dlreport.data.interface import Data
from dlreport.data.rundata import RunData
from dlreport.study import LOWER, PROPORTION, TRAIN, VAL, Experiment, Metric, Part, Profile, Reference, Study

ERRORS = (Metric("train_error", "train error", TRAIN, "error", LOWER, PROPORTION),
          Metric("val_error", "val error", VAL, "error", LOWER, PROPORTION))


def points(spec, data_dir, cache):
    rng = np.random.default_rng(7)
    centres = rng.normal(0, 1.2, (2, 4))
    def draw(n):
        y = rng.integers(0, 2, n)
        return (centres[y] + rng.normal(0, 1, (n, 4))).astype(np.float32), y.astype(np.int32)
    return RunData(*draw(spec["n_train"]), *draw(spec["n_val"]))


class Points(Data):
    def spec(self, dataset, choice, n_train, n_val):
        return {"dataset": dataset, "n_train": n_train or 400, "n_val": n_val or 200, "sources": {}}

    def loader(self, spec):
        return __name__, "points"

    def load(self, spec, data_dir, cache):
        return points(spec, data_dir, cache)


def resolve(exp, profile, seed, data):
    return {"trainer": exp.trainer, "hparams": dict(exp.hparams), "data": data, "profile": profile.name, "seed": seed}


STUDY = Study(
    title="Own metrics",
    parts=(Part("A", "Fitted once or step by step", "part_a.html.j2"),),
    experiments=(
        Experiment("centroid", "A", "Nearest centroid, fitted once", "models", "points", {"steps": 1},
                   Reference({"val_error": 0.2}), groups=("all",)),
        Experiment("perceptron", "A", "A perceptron, ten passes", "models", "points", {"steps": 10}, groups=("all",)),
    ),
    profiles={"full": Profile("full", "everything", seeds={"A": 3})},
    metrics=ERRORS,
    primary="val_error",
    data=Points(),
    resolve=resolve,
    claims=(Claim("1", "A", "the centroids err less", False, "the nearest-centroid model errs less than the perceptron",
                  (Test("perceptron minus centroid: validation error", Reading("perceptron", "value"),
                        Reading("centroid", "value"), above=0.0, why="errs less: a positive difference"),)),
            Claim("2", "A", "the perceptron once errs under a fifth", False, "at some pass its validation error is below 0.2",
                  (Test("perceptron: lowest validation error", Reading("perceptron", "lowest", "val_error"), below=0.2,
                        why="a fact of the study's own"),))),
    facts={"lowest": lambda result, metric, at: min(result.history[metric][:at])},
    causes={"seed noise": "our seeds spread too much to tell", "our set-up": "a choice of ours"},
    framework="numpy",
    unit=lambda spec: "pass",
    steps=lambda spec: spec["hparams"]["steps"],
)
'''

MODELS = '''
import numpy as np


def _error(predict, x, y):
    return float((predict(x) != y).mean())


def train(spec, data, progress, checkpoint):
    rng = np.random.default_rng(spec["seed"])
    keep = rng.permutation(len(data.y_train))[: len(data.y_train) * 3 // 4]  # each seed fits on its own subsample
    x, y = data.x_train[keep], data.y_train[keep]
    history = {"train_error": [], "val_error": []}
    if spec["hparams"]["steps"] == 1:
        centres = np.stack([x[y == c].mean(axis=0) for c in (0, 1)])
        predict = lambda z: ((z[:, None, :] - centres) ** 2).sum(axis=2).argmin(axis=1)  # noqa: E731
        history["train_error"].append(_error(predict, x, y))
        history["val_error"].append(_error(predict, data.x_val, data.y_val))
        progress(1, 1, {k: v[-1] for k, v in history.items()})
        return history
    w = np.zeros(x.shape[1] + 1)
    for step in range(1, spec["hparams"]["steps"] + 1):
        for i in rng.permutation(len(y)):
            xi = np.append(x[i], 1.0)
            if (xi @ w > 0) != y[i]:
                w += (1 if y[i] else -1) * xi
        predict = lambda z: (np.c_[z, np.ones(len(z))] @ w > 0).astype(int)  # noqa: E731
        history["train_error"].append(_error(predict, x, y))
        history["val_error"].append(_error(predict, data.x_val, data.y_val))
        progress(step, spec["hparams"]["steps"], {k: v[-1] for k, v in history.items()})
    return history
'''

TEMPLATE = '''
<h2 id="part-a">{{ part.title }}</h2>
<p>The nearest-centroid model errs {{ runs.centroid.final.val_error | num(3) }} of the time on validation points, the
perceptron {{ runs.perceptron.final.val_error | num(3) }}; that the centroids err less is {{ m.verdict("1") }}.</p>
{{ m.metrics_table(members("all"), "a-numbers", "Both models.") }}
{{ m.curves(runs.centroid, "The centroids, fitted once.") }}
{{ m.curves(runs.perceptron, "The perceptron, pass by pass.") }}
{{ m.against_original(members("all"), "a-results", "Against the original.") }}
'''


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("own")
    (root / "pyproject.toml").write_text('[tool.dlreport]\nstudy = "own"\n')
    (root / "own").mkdir()
    (root / "own" / "__init__.py").write_text(textwrap.dedent(STUDY).lstrip())
    (root / "own" / "models.py").write_text(textwrap.dedent(MODELS).lstrip())
    (root / "templates").mkdir()
    (root / "templates" / "part_a.html.j2").write_text(TEMPLATE.lstrip())
    env = {**os.environ, "PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "1790000000"}
    code = ("import sys; from dlreport.cli import main; rc = main(sys.argv[1:]); "
            "print('TENSORFLOW_IMPORTED=%s' % ('tensorflow' in sys.modules)); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code, "build"], cwd=root, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "TENSORFLOW_IMPORTED=False" in result.stdout and "6 trained" in result.stderr
    return root


def test_a_model_fitted_once_gets_a_table_and_no_curve_and_a_stepped_one_gets_its_metrics_panel(built):
    html = (built / "build" / "report.html").read_text()
    table = re.search(r'<table id="tab-a-numbers".*?</table>', html, re.S)[0]
    assert "<th class=\"n\">train error</th><th class=\"n\">val error</th>" in table
    assert re.search(r"<td>centroid</td><td class=\"n\">3</td><td class=\"n\">0\.\d{4} ± 0\.\d{4}</td>", table)
    assert 'id="fig-centroid"' not in html  # one step: nothing to draw
    figure = re.search(r'<figure id="fig-perceptron" class="curves">.*?</figure>', html, re.S)[0]
    assert figure.count("<img ") == 1 and 'alt="Curves of perceptron: error"' in figure
    assert "lowest validation loss" not in figure  # no loss panel, so no ring in the key
    assert "??" not in html and 'id="finding-1"' in html


def test_its_finding_is_judged_on_its_own_metric_and_its_keys_name_numpy_only(built):
    record = json.loads((built / "build" / "record.json").read_text())
    claims = {c["id"]: c for c in record["claims"]}
    assert claims["1"]["verdict"] in ("confirmed", "undecided", "not reproduced")
    lowest = claims["2"]["tests"][0]  # read with the study's own fact: the minimum over the passes, per seed
    assert claims["2"]["verdict"] == "confirmed" and lowest["estimate"] < 0.2, lowest
    assert set(record["versions"]) == {"python", "numpy"}
    for run in record["runs"]:
        entry = json.loads(next((built / ".cache" / "results").glob(f"*/{run['key']}.json")).read_text())
        assert set(entry["components"]["versions"]) == {"python", "numpy"}
        assert entry["result"]["unit"] == "pass"
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(built / "build" / "report.pdf").pages)
    assert "Fitted once or step by step" in text and "val error" in text
