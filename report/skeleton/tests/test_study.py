"""The study's own checks, run with `pytest` here: its experiments resolve to specs its trainer
reads, and the trainer learns on the generated data."""

from study import STUDY, data, softmax


def test_every_experiment_resolves_to_a_spec_its_trainer_reads():
    for exp in STUDY.experiments:
        spec = STUDY.resolve(exp, STUDY.profiles["quick"], 0, STUDY.data.spec(exp.dataset, None, None, None))
        assert set(spec["hparams"]) <= set(softmax.HYPER_PARAMETERS)
        assert spec["hparams"]["epochs"] <= STUDY.profiles["quick"].max_epochs


def test_the_trainer_learns_well_above_chance_and_reports_every_epoch():
    spec = {"hparams": {"learning_rate": 0.5, "epochs": 20}, "seed": 0}
    arrays = data.blobs(STUDY.data.spec("blobs", None, None, None), None, None)
    seen = []
    history = softmax.train(spec, arrays, lambda step, total, metrics: seen.append(step), None)
    assert seen == list(range(1, 21)) and all(len(v) == 20 for v in history.values())
    assert history["val_acc"][-1] > 2 / data.CLASSES and history["train_loss"][-1] < history["train_loss"][0]
