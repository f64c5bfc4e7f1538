"""Part B's trainer: a killed run resumes from its per-epoch checkpoint, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from conftest import KillAfterSave, Killed, small_run_data  # noqa: E402

from dlreport.runs.checkpoints import Checkpoint  # noqa: E402
from experiments import keras_models, networks  # noqa: E402


@pytest.mark.parametrize("batch_norm", [False, True])
def test_resumed_run_is_bit_identical_to_an_uninterrupted_one(tmp_path, batch_norm):
    """Dropout and batch norm included: their random and running state is in the checkpoint."""
    data = small_run_data(1, n_train=300)
    spec = {"hparams": {"hidden": [32, 16], "dropout": [0.4, 0.2], "batch_norm": batch_norm, "learning_rate": 1e-3,
                        "batch_size": 32, "epochs": 4}, "seed": 5}
    seen = []
    whole = keras_models.train(spec, data, lambda *a: seen.append(a), Checkpoint(tmp_path / "unused.npz"))
    assert [s[0] for s in seen] == [1, 2, 3, 4] and set(seen[-1][2]) == set(whole)
    with pytest.raises(Killed):
        keras_models.train(spec, data, lambda *a: None, KillAfterSave(tmp_path / "ck.npz", kill_at=2))
    resumed = keras_models.train(spec, data, lambda *a: None, Checkpoint(tmp_path / "ck.npz"))
    assert resumed == whole  # every value of every curve, bit for bit


def test_fused_adam_applies_keras_adam_formula():
    """Same update as Keras' Adam, step after step (bias correction included), up to rounding."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal((20, 30)).astype(np.float32)
    grads = [rng.standard_normal((20, 30)).astype(np.float32) for _ in range(5)]
    weights = []
    for optimizer in (keras.optimizers.Adam(learning_rate=0.01), keras_models.FusedAdam(learning_rate=0.01)):
        w = keras.Variable(start)
        for g in grads:
            optimizer.apply([g], [w])
        weights.append(np.asarray(w))
    assert not np.allclose(weights[1], start, atol=0.03)  # five steps of 0.01 moved it
    np.testing.assert_allclose(weights[1], weights[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_epoch_loop_gives_fits_numbers_bit_for_bit(tmp_path, batch_norm):
    """Our compiled epoch loop is a speed-up of `fit`, not a change of the study: on the same
    order of examples (a set the batch size does not divide, dropout and batch norm on) every
    training and validation value equals what `fit` reports, to the last bit."""
    data = small_run_data(2, n_train=300)
    hp = {"hidden": [32, 16], "dropout": [0.4, 0.2], "batch_norm": batch_norm, "learning_rate": 1e-3,
          "batch_size": 32, "epochs": 3}
    ours = keras_models.train({"hparams": hp, "seed": 7}, data, lambda *a: None, Checkpoint(tmp_path / "c.npz"))

    keras.utils.set_random_seed(7)
    model = keras_models.build_model(networks.mlp(hp["hidden"], hp["dropout"], batch_norm))
    model.compile(optimizer=keras_models.FusedAdam(learning_rate=hp["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    by_fit: dict[str, list[float]] = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, hp["epochs"] + 1):
        order = np.random.default_rng([7, epoch]).permutation(len(data.y_train))
        logs = model.fit(data.x_train[order], data.y_train[order], batch_size=32, epochs=1, shuffle=False,
                         validation_data=(data.x_val, data.y_val), verbose=0).history
        for name, key in zip(by_fit, ("loss", "accuracy", "val_loss", "val_accuracy")):
            by_fit[name].append(float(logs[key][0]))
    assert len(data.y_train) % 32 and ours["train_loss"][0] != ours["train_loss"][-1]
    assert ours == by_fit


def test_products_match_the_matrix_products_keras_builds():
    """The FLOP count and the benchmark's per-shape floor describe Part B's products as Keras
    makes them: row-major mini-batches, forward and backward in `train_step`, forward only in
    `test_step`, no gradient for the images; batch norm's layers drop only the bias."""
    import tensorflow as tf
    from conftest import matmul_shapes

    from experiments.flops import products_per_step

    hp = {"hidden": [12, 6], "dropout": [0.4, 0.0], "batch_norm": True, "learning_rate": 1e-3, "batch_size": 8,
          "epochs": 1}
    model = keras_models.build_model(networks.of(hp))
    model.compile(optimizer=keras_models.FusedAdam(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    batch = (tf.TensorSpec((8, networks.N_INPUTS)), tf.TensorSpec((8,), tf.int32))
    built = {name: sorted(matmul_shapes(tf.function(step).get_concrete_function(batch).graph))
             for name, step in (("train", model.train_step), ("val", model.test_step))}
    products = products_per_step({"hparams": hp}, n_train=24, n_val=16)  # three training batches, two validation
    train, val = [p for p in products if p.count == 3], [p for p in products if p.count == 2]
    assert len(train) + len(val) == len(products)
    assert built["train"] == sorted((p.m, p.k, p.n) for p in train)
    assert built["val"] == sorted((p.m, p.k, p.n) for p in val)
