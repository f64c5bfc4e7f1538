"""Batch normalisation written out by hand, step by step as Ioffe and Szegedy give it.

Not used for training (Part C trains with `keras.layers.BatchNormalization`); it is
the readable version shown in the report, and a test checks it against the Keras
layer in both modes on the same input.
"""

from __future__ import annotations

import numpy as np


def batch_norm(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    moving_mean: np.ndarray,
    moving_var: np.ndarray,
    training: bool,
    momentum: float = 0.99,
    eps: float = 1e-3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalise a mini-batch x (examples × features); returns (y, moving_mean, moving_var).

    In training the statistics are those of the batch itself, and the moving averages
    are updated from them; at inference the moving averages replace them, so that a
    prediction does not depend on which other examples share its batch. γ and β are
    learned by gradient descent; μ and σ² are statistics, never trained.
    """
    if training:
        mu = x.mean(axis=0)  # 1. mini-batch mean
        var = ((x - mu) ** 2).mean(axis=0)  # 2. mini-batch variance
        moving_mean = momentum * moving_mean + (1 - momentum) * mu
        moving_var = momentum * moving_var + (1 - momentum) * var
    else:
        mu, var = moving_mean, moving_var
    x_hat = (x - mu) / np.sqrt(var + eps)  # 3. normalise
    y = gamma * x_hat + beta  # 4. scale and shift
    return y, moving_mean, moving_var
