"""The hand-written batch norm of the report matches Keras' layer in both modes."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from experiments.batchnorm import batch_norm  # noqa: E402


def test_hand_written_batch_norm_matches_keras_in_training_and_inference():
    rng = np.random.default_rng(0)
    x = (rng.normal(3.0, 2.0, size=(64, 5))).astype(np.float32)
    layer = keras.layers.BatchNormalization()
    layer.build(x.shape)
    gamma = rng.normal(1.0, 0.2, 5).astype(np.float32)
    beta = rng.normal(0.0, 0.5, 5).astype(np.float32)
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    mean0, var0 = np.zeros(5, np.float32), np.ones(5, np.float32)

    y_train, mean1, var1 = batch_norm(x, gamma, beta, mean0, var0, training=True)
    np.testing.assert_allclose(y_train, np.asarray(layer(x, training=True)), atol=1e-5)
    np.testing.assert_allclose(mean1, np.asarray(layer.moving_mean), rtol=1e-5)
    np.testing.assert_allclose(var1, np.asarray(layer.moving_variance), rtol=1e-5)

    x_new = rng.normal(3.0, 2.0, size=(8, 5)).astype(np.float32)
    y_infer, mean2, var2 = batch_norm(x_new, gamma, beta, mean1, var1, training=False)
    np.testing.assert_allclose(y_infer, np.asarray(layer(x_new, training=False)), atol=1e-5)
    assert (mean2 == mean1).all() and (var2 == var1).all()  # inference leaves the statistics alone


def test_training_mode_output_has_the_learned_mean_and_scale():
    rng = np.random.default_rng(1)
    x = rng.normal(10.0, 5.0, size=(1000, 3))
    y, _, _ = batch_norm(x, np.full(3, 2.0), np.full(3, -1.0), np.zeros(3), np.ones(3), training=True, eps=0.0)
    np.testing.assert_allclose(y.mean(axis=0), -1.0, atol=1e-9)
    np.testing.assert_allclose(y.std(axis=0), 2.0, rtol=1e-9)
