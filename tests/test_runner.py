"""`runner.obtain` without TensorFlow or data: the store first, one training per key, and
the failure policy. Training and data loading are replaced by recording stand-ins."""

from __future__ import annotations

import pytest

from dlreport.cachedir import CacheDir
from dlreport.errors import ReportError
from dlreport.runs import runner, training
from dlreport.runs.result import Failure, Result
from dlreport.runs.store import ResultStore
from experiments.definitions import EXPERIMENTS

A1 = next(e for e in EXPERIMENTS if e.id == "A1")


FAILURE = Failure(step=1, total=1, metrics=["val_loss"], reason="diverged at step 1 of 1")


def _result(failed: bool = False) -> Result:
    history = {"train_loss": [1.0], "train_acc": [0.5], "val_loss": [1.0], "val_acc": [0.5]}
    return Result(history=history, final={} if failed else {m: v[-1] for m, v in history.items()}, unit="step",
                  train_seconds=0.1, data={}, hardware={}, failed=FAILURE if failed else None)


@pytest.fixture
def world(tmp_path, monkeypatch):
    trained, loaded = [], []
    outcome = {"failed": False}
    monkeypatch.setattr("experiments.data.splits.load_run_data", lambda spec, data_dir, cache: loaded.append(spec) or "data")
    monkeypatch.setattr(training, "run_spec", lambda spec, data, progress, checkpoint, threads=None:
                        trained.append(spec["seed"]) or _result(outcome["failed"]))
    store = ResultStore(tmp_path / "results", tmp_path / "frozen")
    return store, trained, loaded, outcome, CacheDir(tmp_path / "cache")


def _planned(key: str, seed: int, store: ResultStore, name=A1) -> runner.Planned:
    from dlreport.runs.keys import key_of

    spec = {"seed": seed, "data": {"dataset": "fashion-mnist"}, "trainer": "lowlevel", "hparams": {}}
    components = {"scheme": 0, "spec": spec, "variant": key}
    return runner.Planned(name, seed, spec, components, key_of(components), store)


def test_the_same_key_twice_trains_once_and_data_is_loaded_once(world, tmp_path):
    store, trained, loaded, _, cache = world
    first, second = _planned("x", 0, store), _planned("x", 1, store)
    twin = runner.Planned(first.experiment, 0, first.spec, first.components, first.key, store)  # B4 and C-plain-lr1e-3
    out = runner.obtain([first, twin, second], store, tmp_path, cache)
    assert trained == [0, 1] and len(loaded) == 1
    assert [o.source for o in out] == ["run", "cache", "run"] and out[1].result is out[0].result
    assert store.get(first.key) is not None and store.get(second.key) is not None
    again = runner.obtain([_planned("x", 0, store), _planned("x", 1, store)], store, tmp_path, cache)
    assert trained == [0, 1] and [o.source for o in again] == ["cache", "cache"]  # nothing trained twice


def test_a_diverged_run_stops_the_build_unless_keep_going_and_is_cached_either_way(world, tmp_path):
    store, trained, _, outcome, cache = world
    outcome["failed"] = True
    p = _planned("y", 0, store)
    with pytest.raises(ReportError, match="A1 seed 0 diverged at step 1 of 1: .*--keep-going"):
        runner.obtain([p], store, tmp_path, cache)
    assert store.get(p.key)["result"]["failed"]  # the failure is a result too, cached
    kept = runner.obtain([_planned("y", 0, store)], store, tmp_path, cache, keep_going=True)
    assert trained == [0] and kept[0].source == "cache" and not kept[0].result.ok


@pytest.mark.parametrize(("asked", "gpu", "expected"), [
    ({}, False, (8, None)),  # a run per core, the cores shared out
    ({}, True, (1, None)),  # beside a GPU, one run at a time has it
    ({"cpus_per_run": 2}, False, (4, 2)),
    ({"cpus_per_run": 16}, False, (1, 16)),  # more than the machine: still one
    ({"runs_at_once": 3}, True, (3, None)),  # told: as told, GPU or not
    ({"runs_at_once": 3, "cpus_per_run": 2}, False, (3, 2)),
])
def test_how_many_runs_train_at_once_on_this_machine(monkeypatch, asked, gpu, expected):
    from dlreport.runs import machine
    from dlreport.runs.placement import Placement, local_slots

    monkeypatch.setattr(machine, "has_gpu", lambda: gpu)
    assert local_slots(Placement(**asked), cores=8) == expected
