"""Part B: fully connected networks as `keras.Sequential` models, trained with `fit`.

Speed: the data goes to Keras as in-memory arrays and `steps_per_execution` runs many
mini-batch steps per call into the compiled graph, which removes most of Keras' fixed
per-step overhead at batch size 32 without changing a single number. Adam's update runs
as TensorFlow's fused kernel (see `FusedAdam`), which changes the rounding.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

N_INPUTS, N_CLASSES = 784, 10
STEPS_PER_EXECUTION = 64


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


def build_model(hidden: list[int], dropout: list[float], batch_norm: bool) -> keras.Sequential:
    """ReLU hidden layers, each optionally followed by dropout, then a softmax output.

    With `batch_norm`, each hidden layer normalises its pre-activations before the ReLU,
    where Ioffe and Szegedy put it; the Dense layer's bias is dropped because the
    normalisation would cancel it (its shift β takes that role).
    """
    layers: list[keras.layers.Layer] = [keras.Input((N_INPUTS,))]
    for units, rate in zip(hidden, dropout):
        if batch_norm:
            layers += [keras.layers.Dense(units, use_bias=False),
                       keras.layers.BatchNormalization(),
                       keras.layers.Activation("relu")]
        else:
            layers.append(keras.layers.Dense(units, activation="relu"))
        if rate:
            layers.append(keras.layers.Dropout(rate))
    layers.append(keras.layers.Dense(N_CLASSES, activation="softmax"))
    return keras.Sequential(layers)


def train(spec: dict, data, progress, checkpoint) -> dict[str, list[float]]:
    """Per-epoch loss and accuracy: training values are averages over the epoch (with
    dropout active), as `fit` reports them; validation values are measured after it.

    Each epoch is one `fit` call on the training set in an order drawn from (seed, epoch),
    and ends with a checkpoint of the weights, the optimiser's state, the dropout
    generator's state and the history. A run killed part-way therefore resumes at the
    next epoch and finishes exactly as an uninterrupted one would.
    """
    hp = spec["hparams"]
    keras.utils.set_random_seed(spec["seed"])
    model = build_model(hp["hidden"], hp["dropout"], hp["batch_norm"])
    model.compile(
        optimizer=FusedAdam(learning_rate=hp["learning_rate"]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    model.optimizer.build(model.trainable_variables)
    state = [*model.variables, *model.optimizer.variables]
    history: dict[str, list[float]] = {
        "train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    done = 0
    if resumed := checkpoint.load():
        done, history, arrays = resumed
        for variable, array in zip(state, arrays, strict=True):
            variable.assign(array)
    for epoch in range(done + 1, hp["epochs"] + 1):
        order = np.random.default_rng([spec["seed"], epoch]).permutation(len(data.y_train))
        logs = model.fit(
            data.x_train[order], data.y_train[order], batch_size=hp["batch_size"],
            epochs=1, shuffle=False, validation_data=(data.x_val, data.y_val), verbose=0,
        ).history
        values = dict(zip(history, (logs["loss"][0], logs["accuracy"][0],
                                    logs["val_loss"][0], logs["val_accuracy"][0])))
        for name, value in values.items():
            history[name].append(float(value))
        progress(epoch, hp["epochs"], values)
        if epoch < hp["epochs"]:
            checkpoint.save(epoch, history, [np.asarray(v) for v in state])
    return history
