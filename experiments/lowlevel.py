"""Part A: fully connected networks in low-level TensorFlow, trained full-batch.

No Keras: weights and biases are plain `tf.Variable`s, and the forward pass, softmax
cross-entropy, penalties, accuracy and the Adam update are written with `tf.*` ops.
As in the original study the layout is column-major: each column of `x` is one image
and a layer computes `W @ a + b`. One iteration is one pass over all training images.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from experiments import metrics, networks

CHECKPOINT_EVERY = 50  # iterations between saved training states
# What `train` reads from a spec's hyper-parameters, and the values it implements where it
# implements only some: a definition asking for anything else is refused before training.
HYPER_PARAMETERS = ("hidden", "penalty", "alpha", "optimizer", "learning_rate", "iterations", "init")
CHOICES = {"optimizer": ("adam",), "init": ("he_normal",), "penalty": (None, "l1", "l2")}


def init_params(layer_sizes: list[int], seed: int) -> list[tuple[tf.Variable, tf.Variable]]:
    """He-normal weights (std √(2/fan-in), suited to ReLU) and zero biases, one pair per layer."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        w = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_out, n_in)).astype(np.float32)
        params.append((tf.Variable(w), tf.Variable(tf.zeros((n_out, 1)))))
    return params


def forward(params: list[tuple[tf.Variable, tf.Variable]], x: tf.Tensor) -> tf.Tensor:
    """Logits (classes × images): ReLU hidden layers, then a linear output layer."""
    a = x
    for w, b in params[:-1]:
        a = tf.maximum(w @ a + b, 0.0)
    w, b = params[-1]
    return w @ a + b


def log_softmax(logits: tf.Tensor) -> tf.Tensor:
    """Column-wise log of softmax = exp(z) / Σ exp(z), computed so it cannot fail.

    Subtracting each column's maximum first makes every exponent ≤ 0, so exp() cannot
    overflow, and the sum it is divided by is ≥ 1 (the maximum contributes exp(0) = 1),
    so the logarithm is never taken of 0. Working in the log domain (log-sum-exp) also
    avoids the log(0) = -inf that a softmax probability underflowing to 0 would give.
    """
    shifted = logits - tf.reduce_max(logits, axis=0, keepdims=True)
    return shifted - tf.math.log(tf.reduce_sum(tf.exp(shifted), axis=0, keepdims=True))


def cross_entropy(logits: tf.Tensor, onehot: tf.Tensor) -> tf.Tensor:
    """Mean over images of -log p(true class)."""
    return -tf.reduce_mean(tf.reduce_sum(onehot * log_softmax(logits), axis=0))


def penalty(params: list[tuple[tf.Variable, tf.Variable]], kind: str | None, alpha: float) -> tf.Tensor:
    """Weight penalty added to the objective: α·Σw² (L2) or α·Σ|w| (L1); biases are not penalised."""
    if kind == "l2":
        return alpha * tf.add_n([tf.reduce_sum(tf.square(w)) for w, _ in params])
    if kind == "l1":
        return alpha * tf.add_n([tf.reduce_sum(tf.abs(w)) for w, _ in params])
    return tf.constant(0.0)


def accuracy(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Fraction of images whose largest logit is the true class."""
    predicted = tf.argmax(logits, axis=0, output_type=tf.int32)
    return tf.reduce_mean(tf.cast(tf.equal(predicted, labels), tf.float32))


def train(spec: dict, data, progress, checkpoint) -> dict[str, list[float]]:
    """Full-batch Adam; returns per-iteration train and validation loss and accuracy.

    Both are measured on the same parameters, before that iteration's update, so the
    two curves are comparable point by point. Loss is the cross-entropy alone: the
    penalty is optimised but not reported, so regularised and plain runs compare.
    The step is a plain TensorFlow graph, not compiled with XLA: on a CPU, XLA's
    kernels for these product shapes were 11 % slower than TensorFlow's own (oneDNN)
    when runs train side by side, a thread each. Every CHECKPOINT_EVERY iterations
    the weights, Adam's moments and the history are saved, so a killed run resumes
    exactly where it stopped.
    """
    hp = spec["hparams"]
    lr, beta1, beta2, eps = hp["learning_rate"], 0.9, 0.999, 1e-7
    tf.random.set_seed(spec["seed"])
    net = networks.of(hp)
    params = init_params(net.sizes, spec["seed"])
    variables = [v for pair in params for v in pair]
    moments = [(tf.Variable(tf.zeros_like(v)), tf.Variable(tf.zeros_like(v))) for v in variables]
    state = variables + [m for pair in moments for m in pair]

    x_train, y_train = tf.constant(data.x_train.T), tf.constant(data.y_train)
    x_val, y_val = tf.constant(data.x_val.T), tf.constant(data.y_val)
    onehot_train = tf.one_hot(y_train, net.sizes[-1], axis=0)
    onehot_val = tf.one_hot(y_val, net.sizes[-1], axis=0)

    @tf.function
    def step(t: tf.Tensor) -> tuple[tf.Tensor, ...]:
        with tf.GradientTape() as tape:
            logits = forward(params, x_train)
            loss = cross_entropy(logits, onehot_train)
            objective = loss + penalty(params, hp["penalty"], hp["alpha"])
        grads = tape.gradient(objective, variables)
        val_logits = forward(params, x_val)
        metrics = (loss, accuracy(logits, y_train), cross_entropy(val_logits, onehot_val), accuracy(val_logits, y_val))
        step_size = lr * tf.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)
        for v, g, (m, s) in zip(variables, grads, moments):
            m.assign(beta1 * m + (1.0 - beta1) * g)
            s.assign(beta2 * s + (1.0 - beta2) * tf.square(g))
            v.assign_sub(step_size * m / (tf.sqrt(s) + eps))
        return metrics

    history = metrics.empty_history()
    done = 0
    if resumed := checkpoint.load():
        done, history, arrays = resumed
        for variable, array in zip(state, arrays):
            variable.assign(array)
    for t in range(done + 1, hp["iterations"] + 1):
        values = [float(v) for v in step(tf.constant(t, tf.float32))]
        for name, value in zip(history, values):
            history[name].append(value)
        progress(t, hp["iterations"], dict(zip(history, values)))
        if t % CHECKPOINT_EVERY == 0 and t < hp["iterations"]:
            checkpoint.save(t, history, [v.numpy() for v in state])
    return history
