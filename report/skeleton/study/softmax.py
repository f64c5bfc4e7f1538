"""Softmax regression by full-batch gradient descent, in NumPy: a trainer reads its run spec
and data, reports each epoch's metrics through `progress`, and returns the histories."""

import numpy as np

FRAMEWORK = "numpy"  # its runs are keyed by NumPy's version
HYPER_PARAMETERS = ("learning_rate", "epochs")


def train(spec, data, progress, checkpoint):
    hp = spec["hparams"]
    rng = np.random.default_rng(spec["seed"])
    classes = int(data.y_train.max()) + 1
    w = rng.normal(0.0, 0.01, (data.x_train.shape[1], classes))
    b = np.zeros(classes)
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, hp["epochs"] + 1):
        p = _softmax(data.x_train @ w + b)
        grad = p - np.eye(classes)[data.y_train]
        w -= hp["learning_rate"] * data.x_train.T @ grad / len(grad)
        b -= hp["learning_rate"] * grad.mean(axis=0)
        for split, x, y in (("train", data.x_train, data.y_train), ("val", data.x_val, data.y_val)):
            q = _softmax(x @ w + b)
            history[f"{split}_loss"].append(float(-np.log(q[np.arange(len(y)), y] + 1e-12).mean()))
            history[f"{split}_acc"].append(float((q.argmax(axis=1) == y).mean()))
        progress(epoch, hp["epochs"], {m: v[-1] for m, v in history.items()})
    return history


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
