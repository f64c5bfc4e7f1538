"""Stale causes are named at the level of the change."""

from __future__ import annotations

import copy

from dlreport.builds import status

OLD = {
    "scheme": 1,
    "spec": {"trainer": "lowlevel", "hparams": {"learning_rate": 0.001, "epochs": 10, "hidden": [300]},
             "data": {"dataset": "notmnist", "n_train": 3000, "sources": {"a.tar.gz": "abc"}},
             "profile": "quick", "seed": 0},
    "code": {"experiments.lowlevel:forward": "1111", "experiments.lowlevel:train": "2222"},
    "versions": {"tensorflow": "2.20.0", "numpy": "2.4.6"},
}


def _causes(new):
    return [c["cause"] for c in status.explain(OLD, new, {})]


def test_no_change_no_cause():
    assert _causes(copy.deepcopy(OLD)) == []


def test_each_kind_of_change_is_named():
    new = copy.deepcopy(OLD)
    new["spec"]["hparams"]["learning_rate"] = 0.01
    new["spec"]["hparams"]["hidden"] = [300, 100]
    new["spec"]["data"]["sources"]["a.tar.gz"] = "def"
    new["spec"]["profile"] = "full"
    new["code"]["experiments.lowlevel:forward"] = "3333"
    new["versions"]["tensorflow"] = "2.21.0"
    new["engine"] = {"onednn": "on"}
    causes = _causes(new)
    assert "learning_rate 0.001 → 0.01" in causes
    assert "hidden [300] → [300, 100]" in causes
    assert "data checksum changed" in causes and not any("sources" in c for c in causes)
    assert "profile quick → full" in causes
    assert "forward() changed" in causes and "train() changed" not in causes
    assert "onednn (absent) → on" in causes
    assert "tensorflow 2.20.0 → 2.21.0" in causes


def test_a_run_whose_result_went_missing_is_stale_for_a_reason_that_is_said():
    from types import SimpleNamespace

    planned = [SimpleNamespace(experiment=SimpleNamespace(id="A1"), seed=0, key="k", components=OLD, stored=None,
                               spec=OLD["spec"])]
    previous = {"profile": "quick", "sources": {},
                "runs": [{"id": "A1", "seed": 0, "key": "k", "components": OLD, "train_seconds": 3.0}]}
    report = status.survey(planned, previous)
    assert report.runs[0].causes[0]["cause"].startswith("same key, but its result is missing") and report.runs[0].to_run
    assert report.estimate_s == 3.0
    other_profile = status.survey(planned, {**previous, "profile": "full"})
    assert other_profile.estimate_s == 0.0 and other_profile.without_estimate == 1  # no full durations for quick


def test_a_build_records_each_trainers_train_apart_so_a_diff_shows_the_right_one():
    """Part A's and Part B's trainers each define `train`: a record keeping sources by name kept
    only one of them, and `status` then diffed Part A's new `train` against Part B's."""
    from pathlib import Path

    from dlreport import planning

    cfg = planning.BuildConfig(data_dir=Path("/nonexistent"), profile="quick", data_choice="substitute")
    planned = planning.plan(cfg).runs
    a1, b1 = (next(p for p in planned if p.experiment.id == i) for i in ("A1", "B1"))
    assert a1.components["code"]["train"] != b1.components["code"]["train"]
    recorded = {**status.sources_of(a1.components), **status.sources_of(b1.components)}  # as a record merges them
    edited = copy.deepcopy(a1.components)
    edited["code"]["train"] = "0" * 16
    edited_source = recorded[a1.components["code"]["train"]].replace("Full-batch Adam", "Full-batch Adam, edited")
    causes = status.explain(a1.components, edited, recorded, {"0" * 16: edited_source})
    (train,) = [c for c in causes if c["cause"] == "train() changed"]
    assert "+    \"\"\"Full-batch Adam, edited" in train["diff"]
    assert train["diff"].count("\n") < 6  # one line changed, not one trainer against another
