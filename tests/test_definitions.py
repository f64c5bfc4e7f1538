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
