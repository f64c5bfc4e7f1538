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
    )
