"""What keeps the everyday commands' cost from growing with the number of runs: keys that do
not move however they are computed, a no-op and a `status` that read no stored result, and
code read once (and, across processes, by its content digest). Figures are the benchmark's
(`benchmarks/scale.py`); these tests check the behaviour the figures rest on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

CONFIGURATIONS = [(profile, split) for profile in ("full", "quick") for split in ("substitute", "original")]
KEYS = f"CONFIGURATIONS = {CONFIGURATIONS!r}\n" + """
import json, sys
from pathlib import Path
from dlreport import planning
from dlreport.cachedir import CacheDir
cache = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/nonexistent-cache")  # a cache of the tool's keeps summaries
if len(sys.argv) > 1:
    CacheDir(cache).claim()
out = {}
for profile, split in CONFIGURATIONS:
    cfg = planning.BuildConfig(data_dir=Path("/nonexistent"), profile=profile, data_choice=split, cache_dir=cache)
    out[profile + "/" + split] = [[p.experiment.id, p.seed, p.key] for p in planning.plan(cfg).runs]
print(json.dumps(out))
"""


def _keys(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", KEYS, *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_every_planned_key_is_the_same_however_the_code_is_read(tmp_path):
    fresh = _keys()  # parsed from the files, in this process only
    filled = _keys(str(tmp_path / "cache"))  # summaries made and kept in the cache
    kept = _keys(str(tmp_path / "cache"))  # summaries read back: no file parsed again
    assert fresh == filled == kept
    assert len(list((tmp_path / "cache" / "fingerprints").glob("*.json"))) >= 5  # the modules the keys read
    assert sum(len(v) for v in fresh.values()) > 300 and len(fresh["full/substitute"]) == len(set(
        k for _, _, k in fresh["full/substitute"])) + 5  # C-plain-lr1e-3 is B4: its five seeds share their keys


def test_the_committed_frozen_store_holds_every_run_of_the_full_profile():
    """The safety net for keys: any change that moves a full-profile key fails here, before a
    user's fresh clone would retrain it."""
    if not (ROOT / "frozen").is_dir():
        pytest.fail("no frozen/ in this checkout: the committed study is missing")
    done = subprocess.run([sys.executable, "build.py", "status", "--exit-code", "--notmnist-split", "substitute",
                           "--cache-dir", "/nonexistent-cache", "--out", "/nonexistent-out"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "\n0 of " in done.stdout and "to run" in done.stdout


def test_a_summary_of_a_file_is_found_by_its_content(tmp_path, monkeypatch):
    from dlreport import project
    from dlreport.runs import source

    (tmp_path / "experiments").mkdir()
    module = tmp_path / "experiments" / "toy.py"
    module.write_text("def helper(x):\n    return x + 1\n\n\ndef train(spec):\n    '''Doc.'''\n    return helper(spec)\n")
    monkeypatch.setattr(project, "current", lambda: project.Project(tmp_path, "experiments"))
    source.use_cache(tmp_path / "summaries")
    try:
        source.forget()
        first = source.fingerprints(source.reachable("experiments.toy", "train"))
        parsed, real = [], source.Summary.of.__func__
        monkeypatch.setattr(source.Summary, "of", classmethod(lambda cls, text: parsed.append(text) or real(cls, text)))
        source.forget()
        assert source.fingerprints(source.reachable("experiments.toy", "train")) == first and parsed == []
        module.write_text(module.read_text().replace("x + 1", "x + 2"))
        source.forget()
        edited = source.fingerprints(source.reachable("experiments.toy", "train"))
        assert len(parsed) == 1 and edited["helper"] != first["helper"] and edited["train"] == first["train"]
    finally:
        source.use_cache(None)
        source.forget()
    assert set(first) == {"helper", "train"}


def test_planning_and_status_read_no_stored_result_once_the_index_knows_them(tmp_path, monkeypatch):
    from dlreport import commands, planning
    from dlreport.runs.store import ResultStore

    if not (ROOT / "frozen").is_dir():
        pytest.fail("no frozen/ in this checkout: the committed study is missing")
    cfg = planning.BuildConfig(data_dir=Path("/nonexistent"), data_choice="substitute", cache_dir=tmp_path / "cache",
                               out_dir=tmp_path / "out")
    cfg.cache.claim()
    first = commands.status(cfg)  # reads every entry once, and indexes it
    reads = []
    real = ResultStore._read
    monkeypatch.setattr(ResultStore, "_read", lambda self, path, key: reads.append(path) or real(self, path, key))
    planning.plan(cfg)
    assert reads == []  # planning reads no result
    again = commands.status(cfg)
    assert reads == [] and again == first and {r.state for r in again.runs} == {"cached"}
