"""`diff` between two build records, and the ledger that keeps the builds."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from dlreport.builds import changes, ledger, record
from dlreport.errors import ReportError
from dlreport.fsutil import TEMP_SUFFIX

COMPONENTS = {
    "scheme": 1,
    "spec": {"trainer": "keras_models", "hparams": {"learning_rate": 0.001, "epochs": 10},
             "data": {"dataset": "notmnist", "sources": {"a": "1"}}, "profile": "quick", "seed": 0},
    "code": {"build_model": "f1"},
    "versions": {"tensorflow": "2.21.0"},
}
FINAL = {"train_acc": 0.9, "train_loss": 0.3, "val_acc": 0.88, "val_loss": 0.4}


def _record(build_id: str, **experiments: list[dict]) -> dict:
    runs = [{**run, "id": exp_id} for exp_id, seeds in experiments.items() for run in seeds]
    return {"format": record.RECORD_FORMAT, "id": build_id, "time": "2026-11-27T10:00:00Z", "profile": "quick",
            "data_choice": "substitute", "git": {"commit": "abc", "dirty": False}, "claims": [],
            "counts": {"run": 0, "cached": len(runs)}, "duration_s": 1.0,
            "sources": {"build_model": "def build_model():\n    return 1\n"}, "runs": runs, "experiments": {}}


def _exp(key: str, source: str = "cache", lr: float = 0.001, seeds: int = 1, spread: float = 0.0, **final: float) -> list[dict]:
    """The runs of one experiment: `seeds` of them, their val_acc `spread` apart around the given value."""
    components = copy.deepcopy(COMPONENTS)
    components["spec"]["hparams"]["learning_rate"] = lr
    out = []
    for seed in range(seeds):
        f = {**FINAL, **final}
        f["val_acc"] += spread * (seed - (seeds - 1) / 2)
        out.append({"seed": seed, "key": f"{key}-{seed}", "source": source,
                    "components": {**components, "spec": {**components["spec"], "seed": seed}}, "final": f})
    return out


def _states(diff: dict) -> dict[str, str]:
    return {r["id"]: r["state"] for r in diff["experiments"]}


def test_same_key_from_cache_is_identical_and_a_changed_rate_is_named_as_cause():
    old = _record("o", B1=_exp("k1"), B2=_exp("k2"), B3=_exp("k3"))
    new = _record("n", B1=_exp("k1"), B2=_exp("k2b", "run", lr=0.01, val_acc=0.85), B4=_exp("k4", "run"))
    diff = changes.compare(old, new, changes.Tolerances(), ("old", "new"))
    assert _states(diff) == {"B1": changes.CACHE_HIT, "B2": "changed", "B3": "removed", "B4": "added"}
    b2 = next(r for r in diff["experiments"] if r["id"] == "B2")
    assert [c["cause"] for c in b2["causes"]] == ["learning_rate 0.001 → 0.01"]
    assert b2["metrics"]["val_acc"]["changed"] and not b2["metrics"]["train_acc"]["changed"]
    assert b2["metrics"]["val_acc"]["change"] == pytest.approx(-0.03)
    assert diff["any_change"]
    text = changes.format_text(diff)
    assert "B2             changed: learning_rate 0.001 → 0.01" in text
    assert f"0.8800 → 0.8500 (-0.0300, {changes.NOISE_UNKNOWN})  *" in text
    assert "| B2 | changed | learning_rate 0.001 → 0.01 |" in changes.format_markdown(diff)
    assert json.loads(changes.format_json(diff))["counts"] == {changes.CACHE_HIT: 1, "changed": 1, "removed": 1, "added": 1}


def test_tolerances_decide_what_counts_as_changed():
    old = _record("o", B2=_exp("k2"))
    new = _record("n", B2=_exp("k2b", "run", lr=0.01, val_acc=0.875, val_loss=0.41))
    loose = changes.parse_tolerances(["val_acc=0.01"], ["val_loss=0.05"])
    assert _states(changes.compare(old, new, loose, ("o", "n"))) == {"B2": "within tolerance"}
    assert not changes.compare(old, new, loose, ("o", "n"))["any_change"]
    tight = changes.parse_tolerances(["0.001"], [])
    assert _states(changes.compare(old, new, tight, ("o", "n"))) == {"B2": "changed"}
    same = _record("n", B2=_exp("k2b", "run", lr=0.01))
    assert _states(changes.compare(old, same, changes.Tolerances(), ("o", "n"))) == {"B2": "identical (retrained)"}


@pytest.mark.parametrize("atol, message", [(["val_acc=-1"], "≥ 0"), (["acc=0.1"], "unknown metric"), (["x"], "≥ 0")])
def test_bad_tolerances_are_refused(atol, message):
    with pytest.raises(ReportError, match=message):
        changes.parse_tolerances(atol, [])


def test_rerun_with_the_same_key_is_compared_not_assumed_identical():
    old = _record("o", B1=_exp("k1"))
    new = _record("n", B1=_exp("k1", "run", val_acc=0.881))
    row = changes.compare(old, new, changes.Tolerances(), ("o", "n"))["experiments"][0]
    assert row["state"] == "changed" and "--rerun" in row["causes"][0]["cause"]


def test_a_change_of_the_mean_is_judged_against_both_builds_seeds():
    old = _record("o", B2=_exp("k2", seeds=5, spread=0.01))
    near = _record("n", B2=_exp("k2b", "run", lr=0.01, seeds=5, spread=0.01, val_acc=0.885))
    far = _record("n", B2=_exp("k2b", "run", lr=0.01, seeds=5, spread=0.001, val_acc=0.92))
    assert changes.compare(old, near, changes.Tolerances(), ("o", "n"))["experiments"][0]["metrics"]["val_acc"]["noise"] \
        == changes.WITHIN_NOISE
    row = changes.compare(old, far, changes.Tolerances(), ("o", "n"))["experiments"][0]
    assert row["metrics"]["val_acc"]["noise"] == changes.BEYOND_NOISE and row["metrics"]["val_acc"]["n"] == [5, 5]
    one = _record("n", B2=_exp("k2b", "run", lr=0.01, val_acc=0.92))
    assert changes.compare(old, one, changes.Tolerances(), ("o", "n"))["experiments"][0]["metrics"]["val_acc"]["noise"] \
        == changes.NOISE_UNKNOWN


def test_more_seeds_are_named_as_the_cause():
    old = _record("o", B2=_exp("k2", seeds=2))
    new = _record("n", B2=[*_exp("k2", seeds=2), *_exp("k2", "run", seeds=3)[2:]])
    row = changes.compare(old, new, changes.Tolerances(), ("o", "n"))["experiments"][0]
    assert [c["cause"] for c in row["causes"]] == ["seeds 2 → 3"]


def test_findings_whose_verdict_changed_are_listed():
    old, new = _record("o"), _record("n")
    old["claims"] = [{"id": "1", "claim": "a", "verdict": "confirmed"}, {"id": "2", "claim": "b", "verdict": "undecided"}]
    new["claims"] = [{"id": "1", "claim": "a", "verdict": "not reproduced"}, {"id": "2", "claim": "b", "verdict": "undecided"},
                     {"id": "3", "claim": "c", "verdict": "confirmed"}]
    claims = changes.compare(old, new, changes.Tolerances(), ("o", "n"))["claims"]
    assert claims == [{"id": "1", "claim": "a", "old": "confirmed", "new": "not reproduced"},
                      {"id": "3", "claim": "c", "old": "absent", "new": "confirmed"}]


def _id(i: int) -> str:
    return f"20261127-10000{i}-abcde{i}"


def _add(book: ledger.Ledger, rec: dict, publish: bool = False) -> ledger.Entry:
    return book.add(rec["id"], lambda seq: {"record.json": record.dumps({**rec, "ledger": seq}).encode(),
                                            "series.json": b"{}"}, publish)


def test_ledger_keeps_numbers_finds_and_prunes_builds(tmp_path):
    book = ledger.Ledger(tmp_path)
    for i in range(4):
        _add(book, _record(_id(i)))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "builds" / f".0005_x.{dead.pid}.abc{TEMP_SUFFIX}").mkdir()  # an interrupted save
    (tmp_path / "builds" / "0006_not-a-build-id").mkdir()  # not of the ledger's format: never touched
    assert [e.seq for e in book.entries()] == [1, 2, 3, 4]
    assert book.find("latest").build_id == _id(3) and book.find("previous").seq == 3
    assert book.find("#2").build_id == _id(1) and book.find(_id(0)).seq == 1
    with pytest.raises(ReportError, match="matches 4 builds"):
        book.find("20261127")
    with pytest.raises(ReportError, match="matches no build"):
        book.find("9")
    assert _id(3) in ledger.format_list([ledger.summary(e) for e in book.entries()])
    _add(book, _record(_id(5)), publish=True)
    assert json.loads((tmp_path / "record.json").read_text())["id"] == _id(5)  # the current build is never pruned
    assert book.prune(1) == [f"0001_{_id(0)}", f"0002_{_id(1)}", f"0003_{_id(2)}", f"0004_{_id(3)}"]
    assert [e.seq for e in book.entries()] == [5] and not list((tmp_path / "builds").glob(".*"))
    assert (tmp_path / "builds" / "0006_not-a-build-id").is_dir()
    assert _add(book, _record(_id(6))).seq == 6


def test_a_damaged_record_is_listed_skipped_by_diff_and_pruned_and_each_profile_keeps_its_newest(tmp_path):
    book = ledger.Ledger(tmp_path)
    for i, profile in enumerate(("full", "quick", "quick", "quick", "quick")):
        _add(book, {**_record(_id(i)), "profile": profile})
    damaged = book.entries()[3].path / "record.json"
    damaged.write_text(damaged.read_text().replace('"quick"', '"edited"', 1))
    rows = [ledger.summary(e) for e in book.entries()]
    assert rows[3] == {"seq": 4, "id": _id(3), "damaged": True} and "record damaged" in ledger.format_list(rows)
    assert book.find("latest").seq == 5 and book.find("previous").seq == 3  # the damaged #4 is passed over
    assert book.prune(1) == [f"0002_{_id(1)}", f"0003_{_id(2)}", f"0004_{_id(3)}"]
    assert [e.seq for e in book.entries()] == [1, 5]  # build 1 is the only full-profile build: kept
