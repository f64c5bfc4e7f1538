"""The study, as dlreport reads it: its experiments, the numbers it compares with, its data,
and one finding to judge. Edit freely; `dlreport status` says what an edit would retrain."""

from dlreport.claims import Claim, Reading, Test
from dlreport.study import (
    ACCURACY,
    LOSS,
    TRAIN,
    TRAIN_ACC,
    TRAIN_LOSS,
    VAL,
    VAL_ACC,
    VAL_LOSS,
    Experiment,
    Metric,
    Part,
    Profile,
    Reference,
    Study,
)
from study import data

EXPERIMENTS = (
    Experiment("slow", "A", "Softmax regression, learning rate 0.05", "softmax", "blobs",
               {"learning_rate": 0.05, "epochs": 40}, Reference({VAL_ACC: 0.80}), groups=("rates",)),
    Experiment("fast", "A", "Softmax regression, learning rate 0.5", "softmax", "blobs",
               {"learning_rate": 0.5, "epochs": 40}, Reference({VAL_ACC: 0.85}), groups=("rates",)),
)


def resolve(exp: Experiment, profile: Profile, seed: int, data_spec: dict) -> dict:
    """A run spec: everything the run depends on, as plain data (its cache key hashes it)."""
    hparams = dict(exp.hparams)
    if profile.max_epochs:
        hparams["epochs"] = min(hparams["epochs"], profile.max_epochs)
    return {"trainer": exp.trainer, "hparams": hparams, "data": data_spec, "profile": profile.name, "seed": seed}


CLAIMS = (
    Claim("1", "A", "the larger learning rate ends higher", False,
          "after 40 epochs the larger learning rate reaches a higher validation accuracy",
          (Test("fast minus slow: final validation accuracy", Reading("fast", "value"), Reading("slow", "value"),
                above=0.0, why="higher: a positive difference"),)),
)

STUDY = Study(
    title="__TITLE__",
    subtitle="Two learning rates of softmax regression on generated data: a study made by dlreport init",
    parts=(Part("A", "Learning rate", "part_a.html.j2"),),
    experiments=EXPERIMENTS,
    profiles={
        "full": Profile("full", "the study's settings", seeds={"A": 5}),
        "quick": Profile("quick", "a smoke test: 10 epochs, 3 seeds", max_epochs=10, seeds={"A": 3}),
    },
    metrics=(Metric(TRAIN_ACC, "train acc", TRAIN, ACCURACY), Metric(TRAIN_LOSS, "train loss", TRAIN, LOSS),
             Metric(VAL_ACC, "val acc", VAL, ACCURACY), Metric(VAL_LOSS, "val loss", VAL, LOSS)),
    data=data.DATA,
    resolve=resolve,
    claims=CLAIMS,
    causes={"seed noise": "our seeds spread too much to tell", "our set-up": "a choice of ours"},
    framework="numpy",
    unit=lambda spec: "epoch",
    steps=lambda spec: spec["hparams"]["epochs"],
    chance=1 / data.CLASSES,
)
