"""End to end: the real `build.py`, quick profile, real data, in a copy of the project.

The copy lets the tests edit templates and training code the way a user would and
watch what the next build retrains, without touching the checkout.
"""

from __future__ import annotations

import base64
import contextlib
import html as html_module
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, copy_project

from experiments.definitions import EXPERIMENTS

pytestmark = pytest.mark.e2e
# One seed for most checks (every experiment, fast); multi-seed behaviour has its own test.
QUICK = ["--profile", "quick", "--notmnist-split", "substitute", "--seeds", "1"]
N = len(EXPERIMENTS)


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.out = root / "build"

    def build(self, *args: str, data: Path = DATA) -> subprocess.CompletedProcess:
        """Run build.py through dlreport.cli.main and report whether TensorFlow and NumPy got imported."""
        code = (
            "import sys; from dlreport.cli import main; rc = main(sys.argv[1:]); "
            "print('TENSORFLOW_IMPORTED=%s' % ('tensorflow' in sys.modules)); "
            "print('NUMPY_IMPORTED=%s' % ('numpy' in sys.modules)); sys.exit(rc)"
        )
        env = {**os.environ, "REPORT_DATA_DIR": str(data), "SOURCE_DATE_EPOCH": "1790000000"}
        return subprocess.run([sys.executable, "-c", code, *args], cwd=self.root, env=env,
                              capture_output=True, text=True, timeout=900)

    def record(self) -> dict:
        return json.loads((self.out / "record.json").read_text())

    @contextlib.contextmanager
    def edited(self, *edits: tuple[str, str, str]):
        """Files edited as (path, old, new) for the duration of a `with`, restored however it ends
        (a file that did not exist is created from "" and removed again)."""
        saved: dict[Path, str | None] = {}
        try:
            for relpath, old, new in edits:
                path = self.root / relpath
                saved.setdefault(path, path.read_text() if path.exists() else None)
                current = path.read_text() if path.exists() else ""
                assert old in current, f"{old!r} not in {relpath}"
                path.write_text(current.replace(old, new, 1))
            yield
        finally:
            for path, text in saved.items():
                if text is None:
                    path.unlink()
                else:
                    path.write_text(text)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    if not (DATA / "fashion-mnist").is_dir():
        pytest.skip(f"real data not found in {DATA}: set REPORT_DATA_DIR")
    p = Project(copy_project(tmp_path_factory.mktemp("project")))
    first = p.build(*QUICK)
    assert first.returncode == 0, first.stderr
    p.first = first
    return p


def _visible_text(path: Path) -> str:
    """The HTML's text as a reader sees it (tags dropped, entities decoded)."""
    return html_module.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def _pdf_text(path: Path, mode: str = "plain") -> str:
    """The PDF's text; in "layout" mode with what the page draws beside it, such as list numbers."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text(extraction_mode=mode) for page in PdfReader(path).pages)


def test_first_build_trains_both_parts_and_reports_progress(project):
    err = project.first.stderr
    rec = project.record()
    assert set(rec["experiments"]) == {e.id for e in EXPERIMENTS}
    assert [(r["id"], r["seed"]) for r in rec["runs"]] == [(e.id, 0) for e in EXPERIMENTS]
    assert "A1 seed 0 running" in err and "B1 seed 0 running" in err
    assert "A1 seed 0 60/60" in err  # progress inside the run
    distinct = len({r["key"] for r in rec["runs"]})  # C-plain-lr1e-3 is B4 under another name
    assert distinct == N - 1
    assert f"{distinct} trained, 1 cached" in err and "C-plain-lr1e-3 seed 0 is the same run as B4 seed 0" in err
    assert rec["profile"] == "quick" and rec["data_choice"] == "substitute"
    for r in rec["runs"]:
        if r["id"] in ("A1", "A3-L1-0.0003", "B1", "B3-d0.4/0.2"):
            assert r["source"] == "run" and len(r["key"]) == 64
            assert set(r["final"]) == {"train_loss", "train_acc", "val_loss", "val_acc"}
            assert r["data"]["n_train"] == 3000 and r["data"]["n_val"] == 1000
    assert "20 undecided" in next(ln for ln in err.splitlines() if ln.startswith("findings:"))


def test_html_is_self_contained_with_sections_figures_and_numbers(project):
    html = (project.out / "report.html").read_text()
    rec = project.record()
    assert "Quick build" in html and "not the study" in html
    assert "Substitute data for Part B" in html and "Single seed" in html
    # curves of B3-d0.4/0.2 alone (in no comparison; every other run is drawn only in its comparison, with
    # the original's values as markers), the 6 comparisons of Parts A and B, the second set-up's, Part C's 3
    # comparisons and its network diagram, a row of sample images of each dataset, and the forest plot
    shown = len({"B3-d0.4/0.2"} & set(rec["experiments"]))
    figures = re.findall(r'<figure([^>]*)>(.*?)</figure>', html, re.S)
    assert len(figures) == shown + 6 + 1 + 4 + 2 + 1
    assert all('<img src="data:image/svg+xml;base64,' in f for _, f in figures)
    curves = [f for tag, f in figures if 'class="curves"' in tag]
    assert len(curves) == shown + 6 + 1 + 3 and all(f.count("<img") == 2 for f in curves)  # loss and accuracy, apart
    assert html.count('class="math') >= 10  # equations, drawn as SVG too
    refs = re.findall(r'<a class="ref" href="#[^"]+">([^<]*)</a>', html)
    assert len(refs) > 12 and all(r and r != "??" for r in refs)  # every cross-reference numbered
    assert "discussion" in html and 'id="limitations"' in html and 'id="tab-compute"' in html
    assert "http://" not in html.split("<body>")[0] and "<link" not in html  # nothing fetched
    for anchor in ("key-findings", "part-a", "part-b", "part-c", "a1", "a3-l2", "a3-l1", "b1", "b3-d04-02", "b-dropout",
                   "c-transform", "fig-c-network", "tab-a-findings", "tab-b-findings", "tab-c-findings",
                   "why-findings-differ", "conclusions",
                   "references", "appendix"):
        assert f'id="{anchor}"' in html
    for exp, ref in (("A1", "0.8300"), ("B1", "0.8569")):
        assert f"{rec['experiments'][exp]['final']['val_acc']:.4f}" in html
        assert ref in html
    # listings from the live source
    assert "experiments.lowlevel.forward" in html and "experiments.keras_models.build_model" in html
    assert "reduce_max" in html and "over_batches" in html
    assert '<span class="capnum">Figure 1.</span>' in html and '<span class="capnum">Table 1.</span>' in html


def test_every_finding_is_judged_and_shown_with_its_verdict(project):
    from experiments.claims import CLAIMS

    rec = project.record()
    assert [c["id"] for c in rec["claims"]] == [c.id for c in CLAIMS]
    assert {c["verdict"] for c in rec["claims"]} == {"undecided"}  # one seed: no spread, nothing decided
    text = _visible_text(project.out / "report.html")
    assert f"0 confirmed, 0 partly reproduced, 0 not reproduced and {len(CLAIMS)} undecided" in text
    assert "one seed: spread unknown" in text
    import pandas as pd

    table = pd.read_csv(project.out / "results.csv", keep_default_na=False)
    assert list(table.columns) == ["experiment", "part", "seed", "step", "step_unit", "metric", "value", "build", "profile",
                                   "overrides"]
    assert set(table["experiment"]) == set(rec["experiments"])
    assert set(table["build"]) == {rec["id"]} and set(table["profile"]) == {"quick"} and set(table["overrides"]) == {""}
    assert dict(table.groupby("part")["step_unit"].unique().map(list)) == {"A": ["iteration"], "B": ["epoch"], "C": ["epoch"]}
    a1 = table[(table["experiment"] == "A1") & (table["metric"] == "val_acc")].sort_values("step")
    assert a1["step"].tolist() == list(range(1, 61)) and a1["value"].iloc[-1] == rec["experiments"]["A1"]["final"]["val_acc"]


def test_the_python_api_reads_builds_as_tables(project):
    """`dlreport.results()` and friends in a fresh process, as a notebook calls them: the tidy
    schema, two builds stacked, the verdicts table against the record."""
    partial = project.build(*QUICK, "--only", "B1", "--set", "B1.epochs=2")
    assert partial.returncode == 0, partial.stderr
    code = f"""
import json
import dlreport
out = {str(project.out)!r}
one = dlreport.results(out=out, build="previous")
both = dlreport.results(["previous", "latest"], out=out)
found = dlreport.findings(out=out, build="previous")
print(json.dumps({{
    "columns": list(one.columns), "dtypes": {{c: str(t) for c, t in one.dtypes.items()}}, "rows": len(one),
    "builds": both.groupby("build", observed=True).size().to_dict(), "overrides": sorted(set(both["overrides"])),
    "findings": found[["id", "verdict", "tests"]].to_dict("records"), "log": len(dlreport.log(out=out)),
}}))
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=project.root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["columns"] == ["experiment", "part", "seed", "step", "step_unit", "metric", "value", "build", "profile",
                              "overrides"]
    assert got["dtypes"]["value"] == "float64" and got["dtypes"]["seed"] == "int64" and got["dtypes"]["metric"] == "category"
    *_, previous, latest = sorted((project.out / "builds").iterdir())
    old, new = (json.loads((e / "record.json").read_text()) for e in (previous, latest))
    assert got["rows"] == (previous / "results.csv").read_text().count("\n") - 1  # every row, the header aside
    # stacked, each build's rows under its own id: B1 alone, 2 epochs × 4 metrics
    assert got["builds"] == {old["id"]: got["rows"], new["id"]: 8} and got["overrides"] == ["", "B1.epochs=2"]
    assert got["findings"] == [{"id": c["id"], "verdict": c["verdict"], "tests": len(c["tests"])} for c in old["claims"]]
    assert got["log"] == len(list((project.out / "builds").iterdir()))

def test_several_seeds_give_intervals_bands_and_verdicts(project, tmp_path):
    out = tmp_path / "seeds"
    result = project.build(*QUICK[:-2], "--seeds", "2", "--only", "A1,A2a,A2b", "--out", str(out), "--publish")
    assert result.returncode == 0, result.stderr
    rec = json.loads((out / "record.json").read_text())
    assert sorted((r["id"], r["seed"]) for r in rec["runs"]) == [(e, s) for e in ("A1", "A2a", "A2b") for s in (0, 1)]
    assert "3 trained, 3 cached" in result.stderr  # seed 0 of each is the main build's run
    assert {e["n"] for e in rec["experiments"].values()} == {2}
    judged = {c["id"] for c in rec["claims"]}
    assert judged == {"1", "2", "3", "4", "5", "6"}  # the findings these three experiments can test
    html = (out / "report.html").read_text()
    assert "range over 2 seeds" in html and "one seed: spread unknown" not in html
    a1 = rec["experiments"]["A1"]
    assert f"{a1['final']['val_acc']:.4f} ± {a1['sd']['val_acc']:.4f}" in html
    assert "Partial build" in html


def test_pdf_has_title_contents_with_page_numbers_and_results(project):
    text = _pdf_text(project.out / "report.pdf")
    rec = project.record()
    assert "Quick build" in text
    assert "Contents" in text and "Appendix" in text
    lines = [ln for ln in text.splitlines() if "Part A" in ln and "Low-level" in ln]
    assert any(ln.rstrip()[-1].isdigit() for ln in lines), lines  # TOC entry ends with its page number
    assert f"{rec['experiments']['A1']['final']['val_acc']:.4f}" in text
    assert rec["id"] in text


def test_each_citation_is_the_number_its_reference_carries_in_the_pdf(project):
    """The references start at [0], the original study. WeasyPrint ignores <ol start>, so the PDF
    numbered them from 1 and every citation in print named the reference after the one it meant."""
    html = (project.out / "report.html").read_text()
    cited = dict(re.findall(r'href="#(ref-[\w-]+)">\[(\d+)\]', html))
    first_words = {ref: " ".join(html_module.unescape(re.sub(r"<[^>]+>", "", text)).split()[:3])
                   for ref, text in re.findall(r'<li id="(ref-[\w-]+)">(.*?)</li>', html, re.S)}
    laid_out = _pdf_text(project.out / "report.pdf", mode="layout")
    numbered = {" ".join(text.split()[:3]): n for n, text in re.findall(r"(?m)^\s*(\d+)\.\s+(.+)$", laid_out)}
    assert "0" in cited.values() and len(cited) >= 5, cited
    assert {ref: numbered.get(first_words[ref]) for ref in cited} == cited


def test_second_build_is_a_no_op_without_tensorflow(project):
    before = project.record()
    again = project.build(*QUICK)
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stderr
    # a no-op costs the planning alone: not even NumPy (nor the executor's worker machinery, which imports it)
    assert "TENSORFLOW_IMPORTED=False" in again.stdout and "NUMPY_IMPORTED=False" in again.stdout
    assert project.record() == before


def test_template_edit_rerenders_without_training(project):
    with project.edited(("templates/intro.html.j2", "This report reruns", "This freshly edited report reruns")):
        result = project.build(*QUICK)
        assert result.returncode == 0, result.stderr
        assert f"0 trained, {N} cached" in result.stderr and "TENSORFLOW_IMPORTED=False" in result.stdout
        assert "freshly edited" in (project.out / "report.html").read_text()


def test_status_names_the_exact_cause_without_tensorflow(project):
    clean = project.build("status", *QUICK)
    assert clean.returncode == 0 and f"0 of {N} runs" in clean.stdout
    with project.edited(("experiments/definitions.py", "_lowlevel([]),", '_lowlevel([], "l2", 0.001),'),
                        ("experiments/lowlevel.py", "tf.maximum(w @ a + b, 0.0)", "tf.nn.relu(w @ a + b)")):
        result = project.build("status", *QUICK)
    assert result.returncode == 0, result.stderr
    a1 = next(ln for ln in result.stdout.splitlines() if ln.startswith("A1 "))
    assert "stale" in a1 and "penalty None → l2" in a1 and "alpha 0.0 → 0.001" in a1 and "forward() changed" in a1
    assert "-        a = tf.maximum(w @ a + b, 0.0)" in result.stdout and "+        a = tf.nn.relu(w @ a + b)" in result.stdout
    assert next(ln for ln in result.stdout.splitlines() if ln.startswith("B1 ")).endswith("cached (local)")
    assert "TENSORFLOW_IMPORTED=False" in result.stdout
    assert f"{len(PART_A)} of {N} runs" in result.stdout  # every Part A run uses forward()


def _stale(project: Project, *edits: tuple[str, str, str]) -> set[str]:
    with project.edited(*edits):
        result = project.build("status", *QUICK)
    assert result.returncode == 0, result.stderr
    return {ln.split()[0] for ln in result.stdout.splitlines() if " stale: " in ln}


PART_A = {e.id for e in EXPERIMENTS if e.dataset == "fashion-mnist"}
NOTMNIST = {e.id for e in EXPERIMENTS if e.dataset == "notmnist"}


def test_the_key_follows_code_into_other_modules_and_into_the_data_stage(project):
    """What a trainer imports from another project module, and the decoding of each dataset,
    are in the keys of exactly the runs that reach them; a comment edit anywhere is in none."""
    helper = ("experiments/networks.py", "def of(hparams: dict) -> Network:",
              "def unused_helper():\n    return 1\n\n\ndef of(hparams: dict) -> Network:")
    assert _stale(project, helper) == set()  # a definition nothing reaches
    assert _stale(project, ("experiments/networks.py", "layers += [", "layers = layers + [")) == PART_A | NOTMNIST
    assert _stale(project, ("experiments/data/datasets.py", 'np.frombuffer(content, np.uint8, offset=offset)',
                            'np.frombuffer(content, dtype=np.uint8, offset=offset)')) == PART_A
    assert _stale(project, ("experiments/data/datasets.py", 'img.shape != (28, 28)', 'img.shape[:2] != (28, 28)')) == NOTMNIST
    assert _stale(project, ("experiments/lowlevel.py", "from experiments import metrics, networks",
                            "from experiments import metrics, networks\nfrom experiments.steps import half"),
                  ("experiments/lowlevel.py", "lr, beta1, beta2, eps = hp[", "lr, beta1, beta2, eps = half(2) * hp["),
                  ("experiments/steps.py", "", "def half(x):\n    return x / 2\n")) == PART_A
    comments = [("experiments/data/datasets.py", "    ndim = content[3]\n", "    ndim = content[3]  # the dimensions follow\n"),
                ("experiments/data/splits.py", "    keep = np.array(sorted(",
                 "    # first copies only\n    keep = np.array(sorted("),
                ("experiments/networks.py", "    width = N_INPUTS\n", "    width = N_INPUTS  # of the first layer's input\n")]
    assert _stale(project, *comments) == set()


def test_comment_edit_retrains_nothing_and_forward_edit_retrains_part_a_only(project):
    with project.edited(("experiments/lowlevel.py", "    a = x\n", "    a = x  # the input images are the first activations\n")):
        result = project.build(*QUICK)
        assert f"0 trained, {N} cached" in result.stderr, result.stderr
    old_keys = {r["id"]: r["key"] for r in project.record()["runs"]}
    with project.edited(("experiments/lowlevel.py", "tf.maximum(w @ a + b, 0.0)", "tf.nn.relu(w @ a + b)")):
        result = project.build(*QUICK)
        assert result.returncode == 0, result.stderr
        assert "tf.nn.relu(w @ a + b)" in _visible_text(project.out / "report.html")
    for r in project.record()["runs"]:  # every Part A run uses forward(), no Part B run does
        assert (r["source"] == "run") == r["id"].startswith("A"), r["id"]
        assert (r["key"] != old_keys[r["id"]]) == r["id"].startswith("A"), r["id"]


def test_changing_one_rate_retrains_only_that_run(project):
    with project.edited(("experiments/definitions.py", "(0.001, 0.003, 0.006)", "(0.001, 0.003, 0.007)"),
                        ("experiments/definitions.py", "(0.6, _ref(", "(0.5, _ref(")):
        result = project.build(*QUICK)
    assert result.returncode == 0, result.stderr
    runs = {r["id"]: r["source"] for r in project.record()["runs"]}
    assert runs.pop("A3-L2-0.007") == "run" and runs.pop("B3-d0.5") == "run"
    assert set(runs.values()) == {"cache"}, runs


def test_frozen_store_renders_a_fresh_clone_without_training(project):
    project.build(*QUICK)  # the study as defined, after the edits of the tests above
    frozen = project.build("freeze")
    distinct = len({r["key"] for r in project.record()["runs"]})
    assert frozen.returncode == 0 and "froze" in frozen.stderr, frozen.stderr
    result = project.build(*QUICK, "--cache-dir", str(project.root / "fresh-cache"), "--out", str(project.root / "o2"),
                           data=project.root / "no-data-here")
    assert result.returncode == 0, result.stderr
    assert f"0 trained, {N} cached" in result.stderr and "TENSORFLOW_IMPORTED=False" in result.stdout
    rec = json.loads((project.root / "o2" / "record.json").read_text())
    assert {r["source"] for r in rec["runs"]} == {"frozen"} and len({r["key"] for r in rec["runs"]}) == distinct


def test_one_hparam_change_status_diff_ledger_and_changes_section(project):
    """The issue's scenario: change one experiment's learning rate; status names the cause,
    the rebuild trains only it, diff names it with its cause (the rest identical cache
    hits), and the report shows the change."""
    before = project.record()
    with project.edited(("experiments/definitions.py", '"notmnist", _keras([]),', '"notmnist", _keras([], learning_rate=1e-4),')):
        stale = project.build("status", *QUICK)
        assert "B1 seed 0" in stale.stdout and "stale: learning_rate 0.001 → 0.0001" in stale.stdout
        assert f"1 of {len(before['runs'])} runs" in stale.stdout
        result = project.build(*QUICK, "--changes-since", "latest")
    assert result.returncode == 0, result.stderr
    runs = {r["id"]: r["source"] for r in project.record()["runs"]}
    assert runs.pop("B1") == "run" and set(runs.values()) == {"cache"}

    diff = project.build("diff", "--fail-on-change", "--all")
    assert diff.returncode == 1, diff.stderr  # something changed
    lines = diff.stdout.splitlines()
    short = project.build("diff").stdout
    assert not [ln for ln in short.splitlines() if ln.endswith("identical (cache hit)")]
    assert f"{len(runs)} identical rows hidden" in short
    assert "B1             changed: learning_rate 0.001 → 0.0001" in lines
    assert any("noise unknown" in ln for ln in lines)  # one seed on each side
    others = [ln for ln in lines if re.match(r"^[ABC]\S* +", ln) and not ln.startswith("B1 ")]
    assert len(others) == len(runs) and all(ln.endswith("identical (cache hit)") for ln in others), others
    as_json = json.loads(project.build("diff", "--json").stdout.split("TENSORFLOW_IMPORTED")[0])
    b1 = next(r for r in as_json["experiments"] if r["id"] == "B1")
    assert b1["metrics"]["val_acc"]["old"] == before["experiments"]["B1"]["final"]["val_acc"]
    loose = project.build("diff", "--atol", "1", "--rtol", "10", "--fail-on-change", "--format", "markdown")
    assert loose.returncode == 0 and "| B1 | within tolerance | learning_rate 0.001 → 0.0001 |" in loose.stdout

    html = _visible_text(project.out / "report.html")
    assert "Changes since build #" in html and "learning_rate 0.001 → 0.0001" in html
    assert 'id="fig-chg-b1"' in (project.out / "report.html").read_text()  # old-vs-new overlay of B1
    listing = project.build("builds")
    assert listing.returncode == 0 and project.record()["id"] in listing.stdout
    kept = sorted((project.out / "builds").iterdir())
    assert (kept[-1] / "report.pdf").read_bytes() == (project.out / "report.pdf").read_bytes()
    series = json.loads((kept[-1] / "series.json").read_text())["B1"]["histories"]["0"]
    assert series["val_acc"][-1] == b1["metrics"]["val_acc"]["new"]
    pruned = project.build("prune", "--keep", "2")
    assert pruned.returncode == 0 and len(list((project.out / "builds").iterdir())) == 2
    # the drawings and laid-out pieces left are exactly those the two kept builds used
    used = {entry for path in (project.out / "builds").iterdir()
            for entry in json.loads((path / "record.json").read_text())["render_cache"]}
    assert _render_cache(project) == used and int(re.search(r"removed (\d+) figure", pruned.stderr)[1]) > 0


def _render_cache(project: Project) -> set[str]:
    from dlreport.cachedir import CacheDir

    cache = CacheDir(project.root / ".cache")
    return {str(p.relative_to(cache.root)) for p in cache.render_entries()}


@pytest.mark.parametrize("bad, message", [
    ("_keras([], learning_rate=-0.001)", "experiment B1: learning_rate must be a positive number, not -0.001"),
    ("_keras([], epochs=0)", "experiment B1: epochs must be a positive whole number, not 0"),
])
def test_invalid_hyper_parameter_is_one_line_before_anything_runs(project, bad, message):
    before = (project.out / "report.pdf").read_bytes()
    with project.edited(("experiments/definitions.py", '"notmnist", _keras([]),', f'"notmnist", {bad},')):
        result = project.build(*QUICK)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [f"error: {message}"], result.stderr
    assert (project.out / "report.pdf").read_bytes() == before


def test_diverging_run_stops_in_one_line_or_is_shown_as_failed_with_keep_going(project):
    with project.edited(("experiments/definitions.py", '"fashion-mnist", _lowlevel([]),',
                         '"fashion-mnist", {**_lowlevel([]), "learning_rate": 1e38},')):
        stopped = project.build(*QUICK)
        status = project.build("status", *QUICK)
        kept = project.build(*QUICK, "--keep-going")
    assert kept.returncode == 0, kept.stderr
    failure = next(r for r in project.record()["runs"] if r["id"] == "A1")["failed"]
    assert failure["step"] >= 2 and project.record()["counts"]["failed"] == 1
    assert stopped.returncode == 2 and "Traceback" not in stopped.stderr
    last = stopped.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: A1 seed 0 diverged at step {failure['step']} of 60") and "--keep-going" in last, last
    a1 = next(ln for ln in status.stdout.splitlines() if ln.startswith("A1 "))
    assert f"failed: diverged at step {failure['step']} of 60" in a1, a1
    assert "A1 seed 0 FAILED" in kept.stderr and "0 trained" in kept.stderr  # the failure itself was cached
    html, text = (project.out / "report.html").read_text(), _visible_text(project.out / "report.html")
    assert "Failed runs" in text and "1 run failed" in text
    assert 'id="failed"' in html and 'id="a2a"' in html
    assert 'id="a1"' not in html and 'id="a-depth"' not in html  # left out, nothing stands in for it


@pytest.mark.parametrize("args, message", [
    (["--profile", "nope"], "invalid choice: 'nope'"),
    (["--only", "Z9"], "unknown experiment 'Z9'"),
    (["--profile", "quick", "--out", "elsewhere"], "--notmnist-split substitute"),  # no build there to remember it
])
def test_bad_input_is_one_line_and_exit_2(project, args, message, monkeypatch):
    monkeypatch.delenv("REPORT_NOTMNIST_SPLIT", raising=False)
    before = (project.out / "report.pdf").read_bytes()
    result = project.build(*args, "--out", str(project.out)) if "--out" not in args else project.build(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert (project.out / "report.pdf").read_bytes() == before


def test_truncated_data_file_is_refused_in_one_line(project, tmp_path):
    data = tmp_path / "data" / "fashion-mnist"
    data.mkdir(parents=True)
    for f in (DATA / "fashion-mnist").glob("*.gz"):
        shutil.copy(f, data / f.name)
    labels = data / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:1000])
    result = project.build(*QUICK, "--only", "A1", "--rerun", "--cache-dir", str(tmp_path / "cache"),
                           "--out", str(tmp_path / "out"), data=tmp_path / "data")
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: data file") and "train-labels-idx1-ubyte.gz" in last and "truncated" in last
    assert "Traceback" not in result.stderr


def test_same_results_render_to_identical_bytes(project, tmp_path):
    """With SOURCE_DATE_EPOCH set, two renders of the same results are byte-identical, the
    second with a cache of its own holding only those results: every figure, equation,
    compiled template and PDF piece made afresh, so a layout or drawing that varied from
    one making to the next would show."""
    env = {**os.environ, "REPORT_DATA_DIR": str(DATA), "SOURCE_DATE_EPOCH": "1790000000"}
    shutil.copytree(project.root / ".cache" / "results", tmp_path / "cache-two" / "results")
    outputs = []
    for name, cache in (("one", project.root / ".cache"), ("two", tmp_path / "cache-two")):
        subprocess.run([sys.executable, "build.py", *QUICK, "-q", "--cached-only", "--out", str(tmp_path / name),
                        "--cache-dir", str(cache)], cwd=project.root, env=env, check=True, timeout=300)
        outputs.append([(tmp_path / name / f).read_bytes() for f in ("report.html", "report.pdf")])
    made = tmp_path / "cache-two"
    assert any(made.glob("pdf/*/*.k.pdf")) and any(made.glob("figures/*/*.k.svg"))  # laid out and drawn afresh
    assert outputs[0] == outputs[1]


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.parametrize("width", [390, 1280])
def test_the_html_in_a_real_browser_has_no_page_overflow_loaded_figures_and_working_links(project, width):
    """Headless Chromium (Debian's, driven by Playwright) at a phone's and a desktop's width."""
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install .[test])")
    if not CHROMIUM.exists():
        pytest.skip(f"no browser at {CHROMIUM}: install Debian's chromium (.ci/run does)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto((project.out / "report.html").resolve().as_uri())
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            images = page.evaluate("[...document.images].map(i => i.complete && i.naturalWidth > 0)")
            broken = page.evaluate("""[...document.querySelectorAll('a[href^="#"]')]
                .map(a => decodeURIComponent(a.getAttribute('href').slice(1)))
                .filter(id => !document.getElementById(id))""")
            # every table that scrolls sideways, scrolled to its end: its caption still lies on the screen,
            # and the box shows that it scrolls (a shadow drawn by its background)
            scrolled = page.evaluate("""[...document.querySelectorAll('table')]
                .filter(t => t.scrollWidth > t.clientWidth + 1)
                .map(t => { t.scrollLeft = t.scrollWidth; const c = t.querySelector('caption');
                            const r = c ? c.getBoundingClientRect() : null;
                            return {id: t.id, left: r && r.left, right: r && r.right,
                                    cue: getComputedStyle(t).backgroundImage.includes('gradient')}; })""")
            # every drawing in a figure: its smallest label's size on the screen (its size in the SVG, scaled as the
            # image is), and where the figure's caption lies
            drawings = page.evaluate("""[...document.querySelectorAll('figure img')].map(i => ({
                figure: i.closest('figure').id, src: i.getAttribute('src'), width: i.getBoundingClientRect().width,
                box: i.closest('figure').getBoundingClientRect().width}))""")
            captions = page.evaluate("""[...document.querySelectorAll('figure figcaption')].map(c => {
                const r = c.getBoundingClientRect(); return {left: r.left, right: r.right}; })""")
            beside = page.evaluate("[...document.querySelectorAll('a[href=\"results.csv\"], a[href=\"record.json\"]')]"
                                   ".map(a => a.getAttribute('href'))")
        finally:
            browser.close()
    assert overflow <= 0, f"the page is {overflow} px wider than a {width} px screen"
    assert len(images) >= 20 and all(images), f"{images.count(False)} of {len(images)} images did not load"
    assert broken == [], broken
    if width == 390:
        assert scrolled, "no table scrolls at a phone's width: nothing was checked"
    hidden = [t for t in scrolled if t["left"] is not None and (t["left"] < -1 or t["right"] > width + 1)]
    assert hidden == [] and all(t["cue"] for t in scrolled), (hidden, scrolled)
    assert sorted(beside) == ["record.json", "results.csv"] and all((project.out / b).is_file() for b in beside)
    assert captions and all(c["left"] >= -1 and c["right"] <= width + 1 for c in captions), captions
    if width == 390:  # on a phone, panels stack at the column's width and every label reads at 10 px or more
        sizes = {}
        for d in drawings:
            svg = base64.b64decode(d["src"].split(",", 1)[1]).decode()
            view = float(re.search(r'viewBox="0 0 ([\d.]+)', svg)[1])
            smallest = min(float(x) for x in re.findall(r"font-size: ([\d.]+)px", svg))
            sizes.setdefault(d["figure"], []).append(round(smallest * d["width"] / view, 1))
            if d["figure"] != "fig-c-network" and "samples" not in d["figure"]:  # those two scroll sideways instead
                assert d["width"] >= 0.95 * d["box"], d["figure"]
        assert len(sizes) >= 10 and all(min(s) >= 10 for s in sizes.values()), sizes


def test_each_experiment_keeps_one_colour_in_every_figure(project):
    """The figures as drawn (the SVGs in the HTML): an experiment's curves are in its colour
    of the declared palette wherever they appear, alone or beside others."""
    from dlreport.document import context, palette

    groups = {g for e in EXPERIMENTS for g in e.groups}
    members = {g: [e.id for e in EXPERIMENTS if g in e.groups] for g in groups}
    colour = palette.colours([e.id for e in EXPERIMENTS], list(members.values()))
    html = (project.out / "report.html").read_text()
    drawn = {}
    for fid, body in re.findall(r'<figure id="fig-([^"]+)"[^>]*>(.*?)</figure>', html, re.S):
        svg = "".join(base64.b64decode(d).decode() for d in re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)"', body))
        drawn[fid] = {c.upper() for c in re.findall(r"(?:stroke|fill):\s*(#[0-9a-fA-F]{6})", svg)} & set(palette.PALETTE)
        keyed = {c.upper() for c in re.findall(r'class="k-swatch" style="background: (#[0-9a-fA-F]{6})"', body)}
        assert not keyed & set(palette.PALETTE) or keyed == drawn[fid], (fid, keyed, drawn[fid])  # the key says the same
    alone = {e.id: context._anchor(e.id) for e in EXPERIMENTS}  # the figure of one experiment: fig-<its anchor>
    covered = set()
    for e, anchor in alone.items():
        if anchor in drawn:
            assert drawn[anchor] == {colour[e]}, (e, drawn[anchor])
            covered.add(e)
    for g, ids in members.items():
        if len(ids) > 1 and g.lower() in drawn:
            assert drawn[g.lower()] == {colour[i] for i in ids} and len({colour[i] for i in ids}) == len(ids), g
            covered.update(ids)
    # the current report's experiments with a finished run (an earlier test may have left one out or failed it)
    shown = {r["id"] for r in project.record()["runs"] if r["final"]}
    assert len(shown) > 10 and covered == shown, sorted(shown - covered)  # every experiment checked in some figure


def test_a_partial_build_is_kept_but_does_not_replace_the_study_and_overrides_are_said(project):
    before = project.record()
    partial = project.build(*QUICK, "--only", "B1", "--set", "B1.epochs=2")
    assert partial.returncode == 0, partial.stderr
    assert "not published" in partial.stderr and project.record() == before  # the current report is the whole study
    kept = sorted((project.out / "builds").iterdir())[-1]
    rec = json.loads((kept / "record.json").read_text())
    assert rec["only"] == ["B1"] and rec["overrides"] == ["B1.epochs=2"]
    assert "Built with overrides" in (kept / "report.html").read_text() and "B1.epochs=2" in (kept / "report.html").read_text()
    status = project.build("status", *QUICK)
    assert f"0 of {N} runs" in status.stdout  # still knows the whole study's runs
    listing = project.build("builds").stdout
    assert "(--only)" in listing


def test_each_command_has_its_own_options(project):
    assert project.build("builds", "--keep", "3").returncode == 2
    wrong = project.build("log", "--fail-on-change")
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and "has no option '--fail-on-change'" in wrong.stderr
    helped = project.build("diff", "--help")
    assert helped.returncode == 0 and "--fail-on-change" in helped.stdout and "--keep-going" not in helped.stdout
    assert "130" not in helped.stdout and "130" in project.build("--help").stdout  # the exit codes: once, at the top


def test_cached_only_renders_what_the_stores_hold_and_names_the_missing_runs(project, tmp_path):
    # B2 has its seed 0 stored; B3 with another epoch count has no run stored at all
    result = project.build(*QUICK[:-2], "--seeds", "3", "--only", "B2,B3", "--set", "B3.epochs=2", "--cached-only",
                           "--publish", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert ("5 of 6 runs are not in the cache and are left out (--cached-only): B3 seed 0, B2 seed 1, B3 seed 1, "
            "B2 seed 2, B3 seed 2") in result.stderr  # in the order they would train: seed by seed
    assert "running" not in result.stderr and "TENSORFLOW_IMPORTED=False" in result.stdout
    rec = json.loads((tmp_path / "record.json").read_text())
    assert sorted((m["id"], m["seed"]) for m in rec["missing"]) == [("B2", 1), ("B2", 2), ("B3", 0), ("B3", 1), ("B3", 2)]
    assert [(r["id"], r["seed"]) for r in rec["runs"]] == [("B2", 0)]
    banner = " ".join(_visible_text(tmp_path / "report.html").split())
    assert "Not every run is trained yet. 5 runs of the quick profile are not in the cache" in banner
    assert "B3 has no stored run and is missing from this report." in banner
    assert "B2 has fewer seeds than the profile asks, so its spread is less certain." in banner


def test_settings_are_remembered_and_status_compares_like_with_like(project, monkeypatch):
    """The first build named its split: later commands on its folder need not (and `config`
    says so); a run of another profile is explained against builds of that profile alone."""
    monkeypatch.delenv("REPORT_NOTMNIST_SPLIT", raising=False)
    shown = project.build("config")
    assert shown.returncode == 0, shown.stderr
    split = next(line for line in shown.stdout.splitlines() if line.startswith("notmnist-split"))
    assert split.split()[1] == "substitute" and f"the last build in {project.out}" in split
    status = project.build("status", "--profile", "full", "--only", "A1,B1", "--seeds", "1", "--set", "A1.learning_rate=0.5")
    assert status.returncode == 0, status.stderr  # no --notmnist-split: remembered
    assert "A1 seed 0  never run" in status.stdout, status.stdout  # the ledger holds quick builds only
    assert "profile quick" not in status.stdout and "None" not in status.stdout


def _screen(raw: str) -> list[str]:
    """The lines a terminal shows after `raw`: carriage returns, line erases and cursor-ups
    applied (with colours and cursor hiding, all rich's live display writes)."""
    lines, row, col = [""], 0, 0
    for token in re.findall(r"\x1b\[[0-9;?]*[A-Za-z]|\r|\n|[^\x1b\r\n]+", raw):
        if token == "\n":
            row, col = row + 1, 0
            lines += [""] * (row + 1 - len(lines))
        elif token == "\r":
            col = 0
        elif token == "\x1b[2K":
            lines[row] = ""
        elif token.startswith("\x1b[") and token.endswith("A"):
            row -= int(token[2:-1] or 1)
        elif not token.startswith("\x1b"):
            lines[row] = lines[row][:col].ljust(col) + token + lines[row][col + len(token):]
            col += len(token)
    return lines


def test_on_a_terminal_log_lines_are_printed_above_the_bars_never_onto_them(project, tmp_path):
    """A build on a real pseudo-terminal (live bars while training and laying out the PDF):
    every log line stands on a line of its own, and no bar is left on the screen."""
    import pty  # noqa: F401 - Linux only, as the suite is
    master, slave = os.openpty()
    env = {**os.environ, "REPORT_DATA_DIR": str(DATA), "SOURCE_DATE_EPOCH": "1790000100", "COLUMNS": "2000", "TERM": "xterm"}
    proc = subprocess.Popen([sys.executable, "build.py", *QUICK, "--only", "A1", "--rerun", "--publish", "--out",
                             str(tmp_path / "out")],
                            cwd=project.root, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    raw = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the build closed the terminal
            break
        if not chunk:
            break
        raw += chunk
    assert proc.wait(timeout=600) == 0, raw.decode(errors="replace")[-2000:]
    text = raw.decode()
    assert "━" in text  # bars were drawn live
    screen = [line.rstrip() for line in _screen(text) if line.strip()]
    assert not [line for line in screen if "━" in line], screen
    done = [line for line in screen if "done in" in line]
    assert len(done) == 1 and done[0].startswith("A1 seed 0 done in"), screen
    assert screen[-1].startswith("built #1 ") and "report.html" in screen[-1] and "report.pdf" in screen[-1], screen
    assert not [line for line in screen if "pikepdf" in line or "logger bridge" in line], screen  # our logger only


def test_no_table_row_of_the_report_is_split_across_pages(project):
    """Read from the PDF's structure tree (`conftest.body_rows`): as many body rows as the
    HTML has, so no page break cut a row in two (its verdict on one page, its words on the next)."""
    from conftest import body_rows

    html = re.sub(r"<style>.*?</style>", "", (project.out / "report.html").read_text(), flags=re.S)
    rows = len(re.findall(r"<tr[\s>]", html)) - sum(len(re.findall(r"<tr[\s>]", head))
                                                    for head in re.findall(r"<thead>(.*?)</thead>", html, re.S))
    assert rows > 100 and body_rows((project.out / "report.pdf").read_bytes()) == rows
