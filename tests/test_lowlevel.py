"""Part A's hand-written numerics and its resumable training loop (small generated data)."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
from conftest import KillAfterSave, Killed, small_run_data  # noqa: E402

from dlreport.runs.checkpoints import Checkpoint  # noqa: E402
from experiments import lowlevel, networks  # noqa: E402


def test_log_softmax_is_finite_for_huge_logits_and_matches_the_definition():
    logits = tf.constant([[1000.0, -5.0], [0.0, 3.0], [-1000.0, 4.0]])
    out = lowlevel.log_softmax(logits).numpy()
    assert np.isfinite(out).all()
    small = np.array([[-5.0], [3.0], [4.0]])
    expected = np.log(np.exp(small) / np.exp(small).sum(axis=0))
    np.testing.assert_allclose(out[:, 1:], expected, rtol=1e-6)
    assert out[0, 0] == 0.0 and out[2, 0] < -1999  # no log(0) = -inf even when p underflows


def test_cross_entropy_and_accuracy_on_a_known_case():
    logits = tf.constant([[2.0, 0.0], [0.0, 2.0]])
    onehot = tf.constant([[1.0, 1.0], [0.0, 0.0]])
    expected = -(np.log(np.exp(2) / (np.exp(2) + 1)) + np.log(1 / (np.exp(2) + 1))) / 2
    assert float(lowlevel.cross_entropy(logits, onehot)) == pytest.approx(expected, rel=1e-6)
    assert float(lowlevel.accuracy(logits, tf.constant([0, 0]))) == 0.5


def test_penalties():
    params = [(tf.Variable([[1.0, -2.0]]), tf.Variable([[5.0]]))]
    assert float(lowlevel.penalty(params, "l2", 0.5)) == pytest.approx(2.5)  # biases excluded
    assert float(lowlevel.penalty(params, "l1", 0.5)) == pytest.approx(1.5)
    assert float(lowlevel.penalty(params, None, 0.5)) == 0.0


def test_resumed_run_is_bit_identical_to_an_uninterrupted_one(tmp_path, monkeypatch):
    monkeypatch.setattr(lowlevel, "CHECKPOINT_EVERY", 5)
    data = small_run_data()
    spec = {"hparams": {"hidden": [16], "penalty": "l2", "alpha": 0.001, "learning_rate": 1e-2, "iterations": 17},
            "seed": 3}
    quiet = lambda *a: None  # noqa: E731
    whole = lowlevel.train(spec, data, quiet, Checkpoint(tmp_path / "unused.npz"))
    with pytest.raises(Killed):
        lowlevel.train(spec, data, quiet, KillAfterSave(tmp_path / "ck.npz", kill_at=10))
    resumed = lowlevel.train(spec, data, quiet, Checkpoint(tmp_path / "ck.npz"))
    assert resumed == whole  # every value of every curve, bit for bit


def test_products_match_the_matrix_products_in_the_real_gradient_graph():
    """The benchmark's FLOP floors and the report's GFLOP/s rest on `products_per_step`:
    the shapes of the products TensorFlow builds for a training step plus a validation pass."""
    from conftest import matmul_shapes

    from experiments.flops import flops_per_step, products_per_step

    hidden, n_train, n_val = [7, 5], 11, 3
    params = lowlevel.init_params(networks.mlp(hidden).sizes, 0)
    variables = [v for pair in params for v in pair]
    x, xv = tf.zeros((networks.N_INPUTS, n_train)), tf.zeros((networks.N_INPUTS, n_val))
    onehot = tf.one_hot(tf.zeros(n_train, tf.int32), networks.N_CLASSES, axis=0)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = lowlevel.cross_entropy(lowlevel.forward(params, x), onehot)
        return tape.gradient(loss, variables), lowlevel.forward(params, xv)

    products = products_per_step({"hparams": {"hidden": hidden}}, n_train, n_val)
    assert sorted(matmul_shapes(step.get_concrete_function().graph)) == sorted((p.m, p.k, p.n) for p in products)
    assert all(p.count == 1 for p in products)
    macs = 784 * 7 + 7 * 5 + 5 * 10  # multiply-adds per image forward
    # forward for every image; backward a weight gradient per layer and an input gradient above the first
    assert flops_per_step({"hparams": {"hidden": hidden}}, n_train, n_val) == pytest.approx(
        2 * macs * (n_train + n_val) + 2 * macs * n_train + 2 * (7 * 5 + 5 * 10) * n_train)
