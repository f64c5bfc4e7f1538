"""What this study's templates are told besides the engine's context: how its
hyper-parameters read in a set-up table, and the few settings its text states."""

from __future__ import annotations

import inspect
from dataclasses import asdict

from dlreport.study import Profile
from experiments import networks
from experiments.data.files import LETTERS
from experiments.data.specs import ORIGINAL_TRAIN_PER_LETTER, SUBSTITUTE_TEST_FRACTION
from experiments.definitions import DROPOUT_EPOCHS

ORIGINAL_TRAIN = ORIGINAL_TRAIN_PER_LETTER * len(LETTERS)  # the original's notMNIST training images

HPARAM_LABELS = {
    "hidden": "hidden layers (ReLU units)",
    "dropout": "dropout after each hidden layer",
    "batch_norm": "batch normalisation before each ReLU",
    "penalty": "weight penalty",
    "alpha": "penalty rate α",
    "optimizer": "optimiser",
    "learning_rate": "learning rate",
    "iterations": "iterations (full batch)",
    "epochs": "epochs",
    "batch_size": "batch size",
    "init": "weight initialisation",
}
SPLIT_LABELS = {
    "original": f"Original split: {ORIGINAL_TRAIN:,} training images from notMNIST_large, validation on notMNIST_small "
                "without unreadable files and duplicates of training images",
    "substitute": f"Substitute split of notMNIST_small (de-duplicated, {(1 - SUBSTITUTE_TEST_FRACTION) * 100:.0f} % train / "
                  f"{SUBSTITUTE_TEST_FRACTION * 100:.0f} % validation per letter); notMNIST_large was not available, so these "
                  "numbers are not comparable with the original's",
}


def describe(hparams: dict) -> list[tuple[str, str]]:
    """A run's hyper-parameters as the set-up table shows them: label and value, without a
    penalty rate where there is no penalty."""
    return [(HPARAM_LABELS.get(k, k), hparam_text(k, v)) for k, v in hparams.items()
            if not (k == "alpha" and not hparams.get("penalty"))]


def hparam_text(name: str, value: object) -> str:
    """A hyper-parameter's value in words."""
    if name == "hidden":
        return " → ".join(map(str, value)) if value else "none (softmax only)"
    if name == "dropout":
        return ", ".join(f"{r:g}" for r in value) if any(value) else "none"
    if name == "penalty":
        return {"l1": "L1 (α·Σ|w|)", "l2": "L2 (α·Σw²)"}.get(value, "none")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "init":
        return {"he_normal": "He normal"}.get(value, str(value))
    if name == "optimizer":
        return {"adam": "Adam"}.get(value, str(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _batch_norm_settings() -> dict:
    """Momentum and ε of batch normalisation as our runs use it: the defaults of the
    step-by-step version, which a test checks against Keras' layer."""
    from experiments import batchnorm

    params = inspect.signature(batchnorm.batch_norm).parameters
    return {"momentum": params["momentum"].default, "epsilon": params["eps"].default}


def extra(profile: Profile, split: str | None) -> dict:
    return {
        "dropout_epochs": min(DROPOUT_EPOCHS, profile.max_epochs or DROPOUT_EPOCHS),
        "split_label": SPLIT_LABELS.get(split or "", ""),
        "original_train": ORIGINAL_TRAIN,
        "bn_layer": _batch_norm_settings(),
    }


def diagram(spec: dict) -> tuple[str, tuple] | None:
    """A network with batch normalisation, as Part C draws it (`figures.network`, from its layers);
    the others need no picture."""
    hparams = spec["hparams"]
    if not hparams.get("batch_norm"):
        return None
    return "experiments.figures:network", ([asdict(layer) for layer in networks.of(hparams).layers],)
