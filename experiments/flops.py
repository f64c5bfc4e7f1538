"""The FLOP model of this study's trainers: the matrix products one iteration or epoch
multiplies, in the shapes the trainers use (the runs table's GFLOP/s, the benchmark's
per-shape floor). The engine asks for it through `Study.flops`."""

from __future__ import annotations

from dataclasses import dataclass

from experiments import networks


@dataclass(frozen=True)
class Product:
    """One matrix product of a training step as its trainer multiplies it: an (m × k) by a
    (k × n) matrix, `count` times. Its shape, not only its size, sets how fast a CPU does it."""

    m: int
    k: int
    n: int
    count: float

    @property
    def flops(self) -> float:
        return 2.0 * self.m * self.k * self.n * self.count


def products_per_step(spec: dict, n_train: int, n_val: int) -> list[Product]:
    """The matrix products of one iteration or epoch, in the shapes the trainers use.

    Each training image goes forward through every dense layer (n_in → n_out); backward,
    every layer computes its weight gradient (a product of the same size) and passes a
    gradient to its input (another), except the first layer: nothing needs the gradient
    with respect to the images, and neither GradientTape nor Keras computes it. Validation
    images go forward only. Part A multiplies all images at once, column-major as the
    original did (W @ a, an image per column); Keras multiplies mini-batches of
    `batch_size` row-major (a @ W), and a set the batch size does not divide ends in a
    short batch, counted here as that fraction of a full one.
    """
    if "hidden" not in spec["hparams"]:  # a model that is not one of the study's networks (a test's): not counted
        return []
    batch_size = spec["hparams"].get("batch_size")
    dense = [layer for layer in networks.of(spec["hparams"]).layers if layer.macs]
    products = []
    for images, backward in ((n_train, True), (n_val, False)):
        if not images:
            continue
        b = batch_size or images
        for i, layer in enumerate(dense):
            n_in, n_out = layer.inputs, layer.units
            shapes = [(b, n_in, n_out) if batch_size else (n_out, n_in, b)]  # forward
            if backward:
                shapes.append((n_in, b, n_out) if batch_size else (n_out, b, n_in))  # weight gradient
                if i:
                    shapes.append((b, n_out, n_in) if batch_size else (n_in, n_out, b))  # input gradient
            products += [Product(*shape, images / b) for shape in shapes]
    return products


def flops_per_step(spec: dict, n_train: int, n_val: int) -> float:
    """Floating-point operations of the matrix products of one iteration or epoch.

    A product of (m × k) by (k × n) costs 2·m·k·n. Element-wise work (activations, biases,
    the optimiser) is left out: it is memory traffic, not arithmetic, and is what keeps
    small products below the machine's matmul peak.
    """
    return sum(product.flops for product in products_per_step(spec, n_train, n_val))
