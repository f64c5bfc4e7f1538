"""Experiment definitions: every shipped one is valid, bad hyper-parameters are named."""

from __future__ import annotations

import dataclasses

import pytest

from experiments.definitions import EXPERIMENTS, problems

B1 = next(e for e in EXPERIMENTS if e.id == "B1")
A3 = next(e for e in EXPERIMENTS if e.id.startswith("A3-L2"))


def test_every_shipped_definition_is_valid():
    assert {e.id: problems(e) for e in EXPERIMENTS if problems(e)} == {}


@pytest.mark.parametrize("base, change, words", [
    (B1, {"learning_rate": -0.001}, "learning_rate must be a positive number, not -0.001"),
    (B1, {"epochs": 0}, "epochs must be a positive whole number, not 0"),
    (B1, {"epochs": 2.5}, "epochs must be a positive whole number"),
    (B1, {"batch_size": True}, "batch_size must be a positive whole number"),
    (B1, {"learning_rate": float("nan")}, "learning_rate must be a positive number"),
    (B1, {"hidden": [300], "dropout": [1.0]}, "dropout needs one rate in [0, 1)"),
    (B1, {"hidden": [0], "dropout": [0.0]}, "hidden layer sizes must be positive"),
    (A3, {"alpha": -1.0}, "penalty must be none, l1 or l2 with a rate α ≥ 0"),
    (A3, {"penalty": "l3"}, "penalty must be none, l1 or l2"),
])
def test_bad_hyper_parameters_are_named(base, change, words):
    bad = dataclasses.replace(base, hparams={**base.hparams, **change})
    found = problems(bad)
    assert len(found) == 1 and words in found[0], found


@pytest.mark.parametrize("base, change, words", [
    (B1, {"hidden": 300}, "hidden must be a list of layer sizes, not 300"),
    (B1, {"hidden": [300], "dropout": 0.2}, "dropout must be a list of rates"),
    (B1, {"optimizer": "sgd"}, "optimizer 'sgd' is not implemented by its trainer 'keras_models' (it has 'adam')"),
    (B1, {"momentum": 0.9}, "'momentum' is not a hyper-parameter its trainer 'keras_models' reads"),
    (A3, {"init": "glorot"}, "init 'glorot' is not implemented by its trainer 'lowlevel'"),
    (A3, {"dropout": []}, "'dropout' is not a hyper-parameter its trainer 'lowlevel' reads"),
    (B1, {"batch_norm": "yes"}, "batch_norm must be true or false"),
])
def test_what_a_trainer_does_not_read_or_implement_is_refused(base, change, words):
    from dlreport.runs.runner import honoured

    bad = dataclasses.replace(base, hparams={**base.hparams, **change})
    found = problems(bad, honoured(bad.trainer))
    assert any(words in f for f in found), found


def test_the_shipped_trainers_declare_what_they_read_and_every_definition_keeps_to_it():
    from dlreport.runs.runner import honoured

    for e in EXPERIMENTS:
        names, _ = honoured(e.trainer)
        assert set(e.hparams) <= set(names) and problems(e, honoured(e.trainer)) == [], e.id
