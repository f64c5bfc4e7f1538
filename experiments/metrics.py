"""The four numbers every run reports at each step (iteration or epoch), named once.

Loss is the mean cross-entropy; accuracy the fraction of images classified right.
"""

from __future__ import annotations

TRAIN_LOSS, TRAIN_ACC, VAL_LOSS, VAL_ACC = "train_loss", "train_acc", "val_loss", "val_acc"
METRICS = (TRAIN_LOSS, TRAIN_ACC, VAL_LOSS, VAL_ACC)
LOSSES, ACCURACIES = (TRAIN_LOSS, VAL_LOSS), (TRAIN_ACC, VAL_ACC)


def empty_history() -> dict[str, list[float]]:
    return {name: [] for name in METRICS}
