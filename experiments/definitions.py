"""What the study runs: every experiment as data, with the original report's numbers.

An experiment is declared once here; `resolve` turns it, for a profile and a notMNIST
split, into the *run spec* — the complete, plain-data description of one training run.
The spec is what the cache key hashes and what the trainer receives, so a run is a
pure function of it (plus the code and library versions, which the key also covers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from experiments.profiles import Profile
from report.splits import data_spec

SEED = 0


@dataclass(frozen=True)
class Reference:
    """The original report's final numbers (None where it gave none)."""

    train_acc: float | None = None
    train_loss: float | None = None
    val_acc: float | None = None
    val_loss: float | None = None


@dataclass(frozen=True)
class Experiment:
    id: str
    part: str
    title: str
    trainer: str  # module in experiments/ whose `train(spec, data, progress)` runs it
    dataset: str
    hparams: dict = field(hash=False)
    reference: Reference = Reference()
    seed: int = SEED


def _lowlevel(hidden: list[int], penalty: str | None = None, alpha: float = 0.0) -> dict:
    """Part A's hyper-parameters: full-batch Adam, He-normal initialisation."""
    return {
        "hidden": hidden,
        "penalty": penalty,
        "alpha": alpha,
        "optimizer": "adam",
        "learning_rate": 1e-3,
        "iterations": 600,
        "init": "he_normal",
    }


def _keras(hidden: list[int], dropout: list[float] | None = None, epochs: int = 10) -> dict:
    """Part B's hyper-parameters: Adam at Keras' defaults, batch size 32 as `fit` defaults to."""
    return {
        "hidden": hidden,
        "dropout": dropout or [0.0] * len(hidden),
        "optimizer": "adam",
        "learning_rate": 1e-3,
        "batch_size": 32,
        "epochs": epochs,
    }


EXPERIMENTS: list[Experiment] = [
    Experiment(
        "A1", "A", "Softmax regression (784 → 10)", "lowlevel", "fashion-mnist", _lowlevel([]),
        Reference(train_acc=0.8471, train_loss=0.4622, val_acc=0.83, val_loss=0.4986),
    ),
    Experiment(
        "B1", "B", "Softmax regression (784 → 10)", "keras_models", "notmnist", _keras([]),
        Reference(train_loss=0.6235, train_acc=0.8346, val_loss=0.5514, val_acc=0.8569),
    ),
]


def by_id() -> dict[str, Experiment]:
    return {e.id: e for e in EXPERIMENTS}


def resolve(exp: Experiment, profile: Profile, notmnist_split: str | None) -> dict:
    """The run spec of `exp` under `profile`: everything the run depends on, as plain data."""
    hp = dict(exp.hparams)
    if "iterations" in hp and profile.max_iterations:
        hp["iterations"] = min(hp["iterations"], profile.max_iterations)
    if "epochs" in hp and profile.max_epochs:
        hp["epochs"] = min(hp["epochs"], profile.max_epochs)
    n_train, n_val = profile.data_limits.get(exp.dataset, (None, None))
    split = notmnist_split if exp.dataset == "notmnist" else None
    return {
        "trainer": exp.trainer,
        "hparams": hp,
        "data": data_spec(exp.dataset, split, n_train, n_val),
        "profile": profile.name,
        "seed": exp.seed,
    }
