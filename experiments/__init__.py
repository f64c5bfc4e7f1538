"""The study of this project, as the engine reads it (`STUDY`, named in pyproject.toml):
its experiment definitions (`definitions`), profiles (`profiles`), metrics (`metrics`), the
original's findings (`claims`), what its templates are told (`context`), and the training
code its experiments run (`lowlevel` for Part A, `keras_models` for Parts B and C)."""

from dlreport.study import Study
from experiments import claims, context, data, definitions, flops, metrics, networks, profiles

STUDY = Study(
    title="Training fully connected networks",
    subtitle="Low-level TensorFlow on Fashion-MNIST, Keras on notMNIST, batch normalisation — a study regenerated "
             "from its experiments",
    parts=definitions.PARTS,
    experiments=tuple(definitions.EXPERIMENTS),
    profiles=profiles.PROFILES,
    metrics=metrics.DECLARED,
    data=data.DATA,
    primary=metrics.VAL_ACC,
    resolve=definitions.resolve,
    problems=definitions.problems,
    claims=claims.CLAIMS,
    causes=claims.CAUSES,
    second_setup=claims.SECOND_SETUP,
    unmet=claims.SUBSTITUTE_DATA,
    conditions=data.conditions,
    describe=context.describe,
    network=lambda spec: networks.of(spec["hparams"]) if "hidden" in spec["hparams"] else None,
    unit=lambda spec: "iteration" if "iterations" in spec["hparams"] else "epoch",
    steps=lambda spec: spec["hparams"].get("iterations") or spec["hparams"].get("epochs"),
    flops=flops.flops_per_step,
    chance=1 / networks.N_CLASSES,
    diagram=context.diagram,
    figures=("experiments.figures",),
    context=context.extra,
)
