"""The study's networks, described once and without TensorFlow.

A network is a list of layers, each with its kind, its width, its parameters and its
multiply-adds per image. The trainers build their models from it (Part A its weight
matrices, Part B its Keras layers), and the report reads the same description for its
layer tables, the FLOP count, the network diagram and the benchmark, so a shape is
never written twice.
"""

from __future__ import annotations

from dataclasses import dataclass

N_INPUTS, N_CLASSES = 784, 10  # 28 × 28 grey-level images, ten classes in both datasets


@dataclass(frozen=True)
class Layer:
    """One layer. `kind` is dense, batch_norm, relu, dropout or softmax."""

    kind: str
    units: int  # width of its output
    inputs: int = 0  # width of its input (dense layers)
    bias: bool = True  # dense layers: whether a bias is added
    rate: float = 0.0  # dropout layers: the fraction of units dropped in training

    @property
    def params(self) -> int:
        """Trainable numbers: weights and biases, or batch norm's γ and β."""
        if self.kind == "dense":
            return self.inputs * self.units + (self.units if self.bias else 0)
        return 2 * self.units if self.kind == "batch_norm" else 0

    @property
    def statistics(self) -> int:
        """Numbers kept but not trained: batch norm's moving mean and variance."""
        return 2 * self.units if self.kind == "batch_norm" else 0

    @property
    def macs(self) -> int:
        """Multiply-adds of the forward pass for one image (the matrix product dominates)."""
        return self.inputs * self.units if self.kind == "dense" else 0


@dataclass(frozen=True)
class Network:
    layers: tuple[Layer, ...]

    @property
    def sizes(self) -> list[int]:
        """Widths from input to output through the dense layers: [784, *hidden, 10]."""
        dense = [layer for layer in self.layers if layer.kind == "dense"]
        return [dense[0].inputs, *(layer.units for layer in dense)]

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)


def mlp(hidden: list[int], dropout: list[float] | None = None, batch_norm: bool = False) -> Network:
    """ReLU hidden layers, each optionally normalised before its ReLU (Ioffe and Szegedy's
    place, and then without a bias, which the normalisation would cancel) and optionally
    followed by dropout; then a dense layer to the ten classes and a softmax."""
    layers: list[Layer] = []
    width = N_INPUTS
    for units, rate in zip(hidden, dropout or [0.0] * len(hidden)):
        layers.append(Layer("dense", units, width, bias=not batch_norm))
        if batch_norm:
            layers.append(Layer("batch_norm", units))
        layers.append(Layer("relu", units))
        if rate:
            layers.append(Layer("dropout", units, rate=rate))
        width = units
    layers += [Layer("dense", N_CLASSES, width), Layer("softmax", N_CLASSES)]
    return Network(tuple(layers))


def of(hparams: dict) -> Network:
    """The network a run's hyper-parameters describe."""
    return mlp(hparams["hidden"], hparams.get("dropout"), hparams.get("batch_norm", False))
