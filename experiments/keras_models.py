"""Part B: fully connected networks as `keras.Sequential` models, trained by Keras' own step.

Speed: an epoch is one compiled loop that slices mini-batches from tensors and calls the
model's `train_step`, the very step `fit` runs. `fit` drives that step through a
`tf.data` iterator, an optional-valued `while_loop` and a nested function call per step;
at batch size 32 that machinery cost more than the step's arithmetic, and leaving it out
changes no number: the histories are bit-identical to `fit`'s. Adam's update runs as
TensorFlow's fused kernel (see `FusedAdam`), which does change the rounding.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from experiments import metrics, networks

# What `train` reads from a spec's hyper-parameters, and the values it implements where it
# implements only some: a definition asking for anything else is refused before training.
HYPER_PARAMETERS = ("hidden", "dropout", "batch_norm", "optimizer", "learning_rate", "batch_size", "epochs")
CHOICES = {"optimizer": ("adam",)}


class FusedAdam(keras.optimizers.Adam):
    """Keras' Adam, with each weight's update done by TensorFlow's fused Adam kernel.

    The formula is Keras' own, ε outside the square root included. Keras applies it as
    five element-wise kernels, each a pass over a weight matrix and its two moments; at
    batch size 32 these passes took about 40 % of a B4 step on the CPU the study was
    built on, the fused kernel makes one. The floating-point rounding differs, so a run's
    numbers drift away from those Keras' Adam would give, as any rounding change makes them.
    """

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=self._momentums[index].value.handle,
            v=self._velocities[index].value.handle,
            beta1_power=tf.pow(tf.cast(self.beta_1, dtype), step),
            beta2_power=tf.pow(tf.cast(self.beta_2, dtype), step),
            lr=tf.cast(learning_rate, dtype),
            beta1=tf.cast(self.beta_1, dtype),
            beta2=tf.cast(self.beta_2, dtype),
            epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype),
        )


def build_model(net: networks.Network) -> keras.Sequential:
    """The Keras layers of a network description, a dense layer and the activation right
    after it as one `Dense(activation=…)` as Keras examples write it."""
    layers: list[keras.layers.Layer] = [keras.Input((net.sizes[0],))]
    todo = list(net.layers)
    while todo:
        layer = todo.pop(0)
        if layer.kind == "dense":
            activation = todo.pop(0).kind if todo and todo[0].kind in ("relu", "softmax") else None
            layers.append(keras.layers.Dense(layer.units, activation=activation, use_bias=layer.bias))
        elif layer.kind == "batch_norm":
            layers.append(keras.layers.BatchNormalization())
        elif layer.kind == "dropout":
            layers.append(keras.layers.Dropout(layer.rate))
        else:
            layers.append(keras.layers.Activation(layer.kind))
    return keras.Sequential(layers)


def over_batches(step, batch_size: int):
    """A compiled loop that calls `step` on each consecutive mini-batch of `(x, y)`, the
    last one short when the batch size does not divide the set, as `fit` batches it."""

    @tf.function
    def run(x: tf.Tensor, y: tf.Tensor) -> None:
        def body(start):
            step((x[start:start + batch_size], y[start:start + batch_size]))
            return (start + batch_size,)

        tf.while_loop(lambda start: start < tf.shape(x)[0], body, (tf.constant(0),))

    return run


def train(spec: dict, data, progress, checkpoint) -> dict[str, list[float]]:
    """Per-epoch loss and accuracy: training values are averages over the epoch (with
    dropout active), as `fit` reports them; validation values are measured after it.

    Each epoch runs Keras' `train_step` over the training set in an order drawn from
    (seed, epoch), then `test_step` over the validation set, and ends with a checkpoint
    of the weights, the optimiser's state, the dropout generator's state and the history.
    A run killed part-way therefore resumes at the next epoch and finishes exactly as an
    uninterrupted one would.
    """
    hp = spec["hparams"]
    keras.utils.set_random_seed(spec["seed"])
    model = build_model(networks.of(hp))
    model.compile(optimizer=FusedAdam(learning_rate=hp["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.optimizer.build(model.trainable_variables)
    state = [*model.variables, *model.optimizer.variables]
    history = metrics.empty_history()
    done = 0
    if resumed := checkpoint.load():
        done, history, arrays = resumed
        for variable, array in zip(state, arrays, strict=True):
            variable.assign(array)
    x_train, y_train = tf.constant(data.x_train), tf.constant(data.y_train)
    x_val, y_val = tf.constant(data.x_val), tf.constant(data.y_val)
    train_epoch = over_batches(model.train_step, hp["batch_size"])
    validate = over_batches(model.test_step, hp["batch_size"])
    for epoch in range(done + 1, hp["epochs"] + 1):
        order = np.random.default_rng([spec["seed"], epoch]).permutation(len(data.y_train))
        model.reset_metrics()
        train_epoch(tf.gather(x_train, order), tf.gather(y_train, order))
        trained = model.get_metrics_result()
        model.reset_metrics()
        validate(x_val, y_val)
        validated = model.get_metrics_result()
        values = dict(zip(history, map(float, (trained["loss"], trained["accuracy"],
                                               validated["loss"], validated["accuracy"]))))
        for name, value in values.items():
            history[name].append(value)
        progress(epoch, hp["epochs"], values)
        if epoch < hp["epochs"]:
            checkpoint.save(epoch, history, [np.asarray(v) for v in state])
    return history
