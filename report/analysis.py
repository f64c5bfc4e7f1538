"""Facts computed from a run's curves, for the sentences of the report.

Every number a sentence states comes from here, recomputed on each build, so the
prose can never drift from the runs it describes.
"""

from __future__ import annotations

from dataclasses import dataclass

PLATEAU_TOLERANCE = 0.005  # accuracy within half a point of its best counts as "plateaued"
OVERFIT_MARGIN = 0.01  # final validation loss ≥ 1 % above its minimum counts as overfitting


@dataclass(frozen=True)
class Facts:
    steps: int
    best_val_loss: float
    best_val_loss_step: int  # where validation loss bottoms out
    overfits: bool  # validation loss ends clearly above its minimum
    plateau_step: int  # first step within PLATEAU_TOLERANCE of the best validation accuracy
    best_val_acc: float
    final_gap: float  # train accuracy - validation accuracy at the end
    final_val_acc: float


def facts(history: dict[str, list[float]]) -> Facts:
    val_loss, val_acc = history["val_loss"], history["val_acc"]
    best_loss_at = min(range(len(val_loss)), key=val_loss.__getitem__)
    best_acc = max(val_acc)
    plateau_at = next(i for i, a in enumerate(val_acc) if a >= best_acc - PLATEAU_TOLERANCE)
    return Facts(
        steps=len(val_loss),
        best_val_loss=val_loss[best_loss_at],
        best_val_loss_step=best_loss_at + 1,
        overfits=val_loss[-1] > val_loss[best_loss_at] * (1 + OVERFIT_MARGIN),
        plateau_step=plateau_at + 1,
        best_val_acc=best_acc,
        final_gap=history["train_acc"][-1] - val_acc[-1],
        final_val_acc=val_acc[-1],
    )


def flops_per_step(spec: dict, n_train: int, n_val: int) -> float:
    """Floating-point operations of the matrix products of one iteration or epoch.

    A product of (m × n_in) by (n_in × n_out) costs 2·m·n_in·n_out. Each training image
    goes forward through every layer; backward, every layer computes its weight gradient
    (a product of the same size) and passes a gradient to its input (another), except
    the first layer: nothing needs the gradient with respect to the images, and neither
    GradientTape nor Keras computes it. Validation images go forward only. Element-wise
    work (activations, biases, the optimiser) is left out: it is memory traffic, not
    arithmetic, and is what keeps small products below the machine's matmul peak.
    """
    sizes = [784, *spec["hparams"]["hidden"], 10]
    macs = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    forward, backward = sum(macs), 2 * sum(macs) - macs[0]
    return 2.0 * (forward * (n_train + n_val) + backward * n_train)


def achieved_gflops(spec: dict, result: dict) -> float:
    """Average arithmetic throughput of a finished run."""
    steps = len(result["history"]["val_loss"])
    flops = flops_per_step(spec, result["data"]["n_train"], result["data"]["n_val"]) * steps
    return flops / max(result["train_seconds"], 1e-9) / 1e9


def first_reaching(values: list[float], target: float) -> int | None:
    """The first step (1-based) at which `values` reaches `target`, or None if it never does."""
    return next((i + 1 for i, v in enumerate(values) if v >= target), None)


def best_of(facts_by_id: dict[str, Facts]) -> str:
    """The experiment whose final validation accuracy is highest (first on ties)."""
    return max(facts_by_id, key=lambda i: facts_by_id[i].final_val_acc)
