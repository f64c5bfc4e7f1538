"""End to end: the real `build.py`, quick profile, real data, in a copy of the project.

The copy lets the tests edit templates and training code the way a user would and
watch what the next build retrains, without touching the checkout.
"""

from __future__ import annotations

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
QUICK = ["--profile", "quick", "--notmnist-split", "substitute"]


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.out = root / "build"

    def build(self, *args: str, data: Path = DATA) -> subprocess.CompletedProcess:
        """Run build.py through report.cli.main and report whether TensorFlow got imported."""
        code = (
            "import sys; from report.cli import main; rc = main(sys.argv[1:]); "
            "print('TENSORFLOW_IMPORTED=%s' % ('tensorflow' in sys.modules)); sys.exit(rc)"
        )
        env = {**os.environ, "REPORT_DATA_DIR": str(data), "SOURCE_DATE_EPOCH": "1790000000"}
        return subprocess.run([sys.executable, "-c", code, *args], cwd=self.root, env=env,
                              capture_output=True, text=True, timeout=900)

    def record(self) -> dict:
        return json.loads((self.out / "record.json").read_text())

    def edit(self, relpath: str, old: str, new: str) -> None:
        path = self.root / relpath
        text = path.read_text()
        assert old in text, f"{old!r} not in {relpath}"
        path.write_text(text.replace(old, new, 1))


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


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_first_build_trains_both_parts_and_reports_progress(project):
    err = project.first.stderr
    rec = project.record()
    assert set(rec["experiments"]) == {e.id for e in EXPERIMENTS}
    assert "A1     running" in err and "B1     running" in err
    assert "A1 60/60" in err  # progress inside the run
    distinct = len({e["key"] for e in rec["experiments"].values()})  # C-plain-lr1e-3 is B4 under another name
    assert distinct == len(EXPERIMENTS) - 1
    assert f"{distinct} trained, 1 cached" in err and "same run as an experiment above" in err
    assert rec["profile"] == "quick" and rec["notmnist_split"] == "substitute"
    for exp in ("A1", "A3-L1-0.0003", "B1", "B3-d0.4/0.2"):
        e = rec["experiments"][exp]
        assert e["source"] == "run" and len(e["key"]) == 64
        assert set(e["final"]) == {"train_loss", "train_acc", "val_loss", "val_acc"}
        assert e["data"]["n_train"] == 3000 and e["data"]["n_val"] == 1000


def test_html_is_self_contained_with_sections_figures_and_numbers(project):
    html = (project.out / "report.html").read_text()
    rec = project.record()
    assert "Quick build" in html and "not the study" in html
    assert "Substitute data for Part B" in html
    # curves of each Part A and B run outside the A3 sweeps (those are shown overlaid), the 5
    # comparisons of Parts A and B, and Part C's 3 comparisons and its network diagram
    shown = sum(not i.startswith(("C", "A3")) for i in rec["experiments"])
    figures = re.findall(r'<figure[^>]*>\s*<img src="data:image/svg\+xml;base64,', html)
    assert len(figures) == html.count("<figure") == shown + 5 + 4
    assert html.count('class="math') >= 10  # equations, drawn as SVG too
    assert "http://" not in html.split("<body>")[0] and "<link" not in html  # nothing fetched
    for anchor in ("part-a", "part-b", "part-c", "a1", "a3-l2", "a3-l1", "b1", "b3-d04-02", "b-dropout", "c-transform",
                   "fig-c-network", "appendix"):
        assert f'id="{anchor}"' in html
    for exp, ref in (("A1", "0.8300"), ("B1", "0.8569")):
        assert f"{rec['experiments'][exp]['final']['val_acc']:.4f}" in html
        assert ref in html
    # listings from the live source
    assert "experiments.lowlevel.forward" in html and "experiments.keras_models.build_model" in html
    assert "reduce_max" in html and "over_batches" in html
    assert '<span class="capnum">Figure 1.</span>' in html and '<span class="capnum">Table 1.</span>' in html


def test_contradicted_claims_are_warned_about_and_marked_in_the_report(project):
    rec = project.record()
    contradicted = [c["claim"] for c in rec["claims"] if not c["holds"]]
    assert len(rec["claims"]) >= 10
    assert project.first.stderr.count("CLAIM CONTRADICTED") == len(contradicted)
    assert (project.out / "report.html").read_text().count('class="contradicted"') == len(contradicted)


def test_pdf_has_title_contents_with_page_numbers_and_results(project):
    text = _pdf_text(project.out / "report.pdf")
    rec = project.record()
    assert "Quick build" in text
    assert "Contents" in text and "Appendix" in text
    lines = [ln for ln in text.splitlines() if "Part A" in ln and "Low-level" in ln]
    assert any(ln.rstrip()[-1].isdigit() for ln in lines), lines  # TOC entry ends with its page number
    assert f"{rec['experiments']['A1']['final']['val_acc']:.4f}" in text
    assert rec["id"] in text


def test_second_build_is_a_no_op_without_tensorflow(project):
    before = project.record()
    again = project.build(*QUICK)
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stderr
    assert "TENSORFLOW_IMPORTED=False" in again.stdout
    assert project.record() == before


def test_template_edit_rerenders_without_training(project):
    project.edit("templates/intro.html.j2", "This report reruns", "This freshly edited report reruns")
    result = project.build(*QUICK)
    assert result.returncode == 0, result.stderr
    assert f"0 trained, {len(EXPERIMENTS)} cached" in result.stderr and "TENSORFLOW_IMPORTED=False" in result.stdout
    assert "freshly edited" in (project.out / "report.html").read_text()


def test_status_names_the_exact_cause_without_tensorflow(project):
    clean = project.build("status", *QUICK)
    assert clean.returncode == 0 and f"0 of {len(EXPERIMENTS)} to run" in clean.stdout
    project.edit("experiments/definitions.py", "_lowlevel([]),", '_lowlevel([], "l2", 0.001),')
    project.edit("experiments/lowlevel.py", "tf.maximum(w @ a + b, 0.0)", "tf.nn.relu(w @ a + b)")
    result = project.build("status", *QUICK)
    assert result.returncode == 0, result.stderr
    a1 = next(ln for ln in result.stdout.splitlines() if ln.startswith("A1 "))
    assert "stale" in a1 and "penalty None → l2" in a1 and "alpha 0.0 → 0.001" in a1 and "forward() changed" in a1
    assert "-        a = tf.maximum(w @ a + b, 0.0)" in result.stdout and "+        a = tf.nn.relu(w @ a + b)" in result.stdout
    assert next(ln for ln in result.stdout.splitlines() if ln.startswith("B1 ")).endswith("cached (local)")
    assert "TENSORFLOW_IMPORTED=False" in result.stdout
    assert f"9 of {len(EXPERIMENTS)} to run" in result.stdout  # every Part A run uses forward()
    project.edit("experiments/definitions.py", '_lowlevel([], "l2", 0.001),', "_lowlevel([]),")
    project.edit("experiments/lowlevel.py", "tf.nn.relu(w @ a + b)", "tf.maximum(w @ a + b, 0.0)")


def test_comment_edit_retrains_nothing_and_forward_edit_retrains_part_a_only(project):
    project.edit("experiments/lowlevel.py", "    a = x\n", "    a = x  # the input images are the first activations\n")
    result = project.build(*QUICK)
    assert f"0 trained, {len(EXPERIMENTS)} cached" in result.stderr, result.stderr
    old_keys = {k: v["key"] for k, v in project.record()["experiments"].items()}
    project.edit("experiments/lowlevel.py", "tf.maximum(w @ a + b, 0.0)", "tf.nn.relu(w @ a + b)")
    result = project.build(*QUICK)
    assert result.returncode == 0, result.stderr
    new = project.record()["experiments"]
    for exp, e in new.items():  # every Part A run uses forward(), no Part B run does
        assert (e["source"] == "run") == exp.startswith("A"), exp
        assert (e["key"] != old_keys[exp]) == exp.startswith("A"), exp
    assert "tf.nn.relu(w @ a + b)" in _visible_text(project.out / "report.html")


def test_changing_one_rate_retrains_only_that_run(project):
    project.edit("experiments/definitions.py", "(0.001, 0.003, 0.006)", "(0.001, 0.003, 0.007)")
    project.edit("experiments/definitions.py", "(0.6, Reference(", "(0.5, Reference(")
    result = project.build(*QUICK)
    assert result.returncode == 0, result.stderr
    runs = {i: e["source"] for i, e in project.record()["experiments"].items()}
    assert runs.pop("A3-L2-0.007") == "run" and runs.pop("B3-d0.5") == "run"
    assert set(runs.values()) == {"cache"}, runs


def test_frozen_store_renders_a_fresh_clone_without_training(project):
    frozen = project.build("freeze")
    distinct = len({e["key"] for e in project.record()["experiments"].values()})
    assert frozen.returncode == 0 and f"froze {distinct} new results" in frozen.stderr
    result = project.build(*QUICK, "--cache-dir", str(project.root / "fresh-cache"), "--out", str(project.root / "o2"),
                           data=project.root / "no-data-here")
    assert result.returncode == 0, result.stderr
    assert f"0 trained, {len(EXPERIMENTS)} cached" in result.stderr and "TENSORFLOW_IMPORTED=False" in result.stdout
    rec = json.loads((project.root / "o2" / "record.json").read_text())
    assert {e["source"] for e in rec["experiments"].values()} == {"frozen"}


def test_one_hparam_change_status_diff_ledger_and_changes_section(project):
    """The issue's scenario: change one experiment's learning rate; status names the cause,
    the rebuild trains only it, diff names it with its cause (the rest identical cache
    hits) and the claim it makes false, and the report shows the change."""
    before = project.record()
    claim = "B1 to settle after about one epoch, as in the original"
    assert {c["claim"]: c["holds"] for c in before["claims"]}[claim]  # holds for B1 at 1e-3 (quick profile)
    original = (project.root / "experiments/definitions.py").read_text()
    project.edit("experiments/definitions.py", '"notmnist", _keras([]),', '"notmnist", _keras([], learning_rate=1e-4),')
    try:
        stale = project.build("status", *QUICK)
        assert "B1             stale: learning_rate 0.001 → 0.0001" in stale.stdout
        assert f"1 of {len(before['experiments'])} to run" in stale.stdout
        result = project.build(*QUICK, "--changes-since", "latest")
    finally:
        (project.root / "experiments/definitions.py").write_text(original)
    assert result.returncode == 0, result.stderr
    runs = {i: e["source"] for i, e in project.record()["experiments"].items()}
    assert runs.pop("B1") == "run" and set(runs.values()) == {"cache"}
    assert f"CLAIM CONTRADICTED: expected {claim}" in result.stderr

    diff = project.build("diff", "--fail-on-change")
    assert diff.returncode == 1, diff.stderr  # something changed
    lines = diff.stdout.splitlines()
    assert "B1             changed: learning_rate 0.001 → 0.0001" in lines
    others = [ln for ln in lines if re.match(r"^[ABC]\S* +", ln) and not ln.startswith("B1 ")]
    assert len(others) == len(runs) and all(ln.endswith("identical (cache hit)") for ln in others), others
    assert f"claim holds → contradicted: {claim}" in lines
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
    assert json.loads((kept[-1] / "series.json").read_text())["B1"]["history"]["val_acc"][-1] == b1["metrics"]["val_acc"]["new"]
    pruned = project.build("prune", "--keep", "2")
    assert pruned.returncode == 0 and len(list((project.out / "builds").iterdir())) == 2
    # the drawings and laid-out pieces left are exactly those the two kept builds used
    used = {entry for path in (project.out / "builds").iterdir()
            for entry in json.loads((path / "record.json").read_text())["render_cache"]}
    assert _render_cache(project) == used and int(re.search(r"removed (\d+) figure", pruned.stderr)[1]) > 0


def _render_cache(project: Project) -> set[str]:
    cache = project.root / ".cache"
    return {str(p.relative_to(cache)) for name in ("figures", "equations", "pdf") for p in (cache / name).rglob("*")
            if p.is_file()}


@pytest.mark.parametrize("bad, message", [
    ("_keras([], learning_rate=-0.001)", "experiment B1: learning_rate must be a positive number, not -0.001"),
    ("_keras([], epochs=0)", "experiment B1: epochs must be a positive whole number, not 0"),
])
def test_invalid_hyper_parameter_is_one_line_before_anything_runs(project, bad, message):
    original = (project.root / "experiments/definitions.py").read_text()
    before = (project.out / "report.pdf").read_bytes()
    project.edit("experiments/definitions.py", '"notmnist", _keras([]),', f'"notmnist", {bad},')
    try:
        result = project.build(*QUICK)
    finally:
        (project.root / "experiments/definitions.py").write_text(original)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [f"error: {message}"], result.stderr
    assert (project.out / "report.pdf").read_bytes() == before


def test_diverging_run_stops_in_one_line_or_is_shown_as_failed_with_keep_going(project):
    original = (project.root / "experiments/definitions.py").read_text()
    project.edit("experiments/definitions.py", '"fashion-mnist", _lowlevel([]),',
                 '"fashion-mnist", {**_lowlevel([]), "learning_rate": 1e38},')
    try:
        stopped = project.build(*QUICK)
        status = project.build("status", *QUICK)
        kept = project.build(*QUICK, "--keep-going")
    finally:
        (project.root / "experiments/definitions.py").write_text(original)
    assert kept.returncode == 0, kept.stderr
    failure = project.record()["experiments"]["A1"]["failed"]
    assert failure["step"] >= 2 and project.record()["counts"]["failed"] == 1
    assert stopped.returncode == 2 and "Traceback" not in stopped.stderr
    last = stopped.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: A1 diverged at step {failure['step']} of 60") and "--keep-going" in last, last
    a1 = next(ln for ln in status.stdout.splitlines() if ln.startswith("A1 "))
    assert f"failed: diverged at step {failure['step']} of 60" in a1, a1
    assert "A1     FAILED" in kept.stderr and "0 trained" in kept.stderr  # the failure itself was cached
    html, text = (project.out / "report.html").read_text(), _visible_text(project.out / "report.html")
    assert "Failed runs" in text and "1 run failed" in text
    assert 'id="failed"' in html and 'id="a2a"' in html
    assert 'id="a1"' not in html and 'id="a-depth"' not in html  # left out, nothing stands in for it


@pytest.mark.parametrize("args, message", [
    (["--profile", "nope"], "unknown profile 'nope'"),
    (["--only", "Z9"], "unknown experiment Z9"),
    (["--profile", "quick"], "--notmnist-split substitute"),
])
def test_bad_input_is_one_line_and_exit_2(project, args, message, monkeypatch):
    monkeypatch.delenv("REPORT_NOTMNIST_SPLIT", raising=False)
    before = (project.out / "report.pdf").read_bytes()
    result = project.build(*args, "--out", str(project.out))
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
    """With SOURCE_DATE_EPOCH set, two renders of the same cached results are byte-identical."""
    env = {**os.environ, "REPORT_DATA_DIR": str(DATA), "SOURCE_DATE_EPOCH": "1790000000"}
    outputs = []
    for name in ("one", "two"):
        subprocess.run([sys.executable, "build.py", *QUICK, "-q", "--out", str(tmp_path / name)],
                       cwd=project.root, env=env, check=True, timeout=300)
        outputs.append([(tmp_path / name / f).read_bytes() for f in ("report.html", "report.pdf")])
    assert outputs[0] == outputs[1]
