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
    sweep: str | None = None  # experiments of one sweep are compared in one figure and table
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


def _penalty_sweep(kind: str, alphas: tuple[float, ...], references: dict[float, Reference]) -> list[Experiment]:
    """A2b with a weight penalty, one experiment per rate α."""
    name = kind.upper()
    return [
        Experiment(
            f"A3-{name}-{alpha:g}", "A", f"A2b with {name} penalty, α = {alpha:g}", "lowlevel", "fashion-mnist",
            _lowlevel([300, 100], kind, alpha), references.get(alpha, Reference()), sweep=f"A3-{name}",
        )
        for alpha in alphas
    ]


EXPERIMENTS: list[Experiment] = [
    Experiment(
        "A1", "A", "Softmax regression (784 → 10)", "lowlevel", "fashion-mnist", _lowlevel([]),
        Reference(train_acc=0.8471, train_loss=0.4622, val_acc=0.83, val_loss=0.4986), sweep="A-depth",
    ),
    Experiment(
        "A2a", "A", "One hidden layer (784 → 300 → 10)", "lowlevel", "fashion-mnist", _lowlevel([300]),
        Reference(train_acc=0.9321, train_loss=0.1990, val_acc=0.884, val_loss=0.3314), sweep="A-depth",
    ),
    Experiment(
        "A2b", "A", "Two hidden layers (784 → 300 → 100 → 10)", "lowlevel", "fashion-mnist", _lowlevel([300, 100]),
        Reference(train_acc=0.9375, train_loss=0.1811, val_acc=0.8853, val_loss=0.3348), sweep="A-depth",
    ),
    # The original gives approximate final accuracies for the best rate of each sweep,
    # and for the largest L2 rate the level where it plateaus.
    *_penalty_sweep("l2", (0.001, 0.003, 0.006), {
        0.003: Reference(train_acc=0.87, val_acc=0.86),
        0.006: Reference(val_acc=0.83),
    }),
    *_penalty_sweep("l1", (0.0001, 0.0003, 0.0006), {0.0003: Reference(train_acc=0.87, val_acc=0.85)}),
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
