"""The four numbers every run reports at each step (iteration or epoch), named once.

Loss is the mean cross-entropy; accuracy the fraction of images classified right.
"""

from __future__ import annotations

from dlreport.study import ACCURACY, LOSS, TRAIN, TRAIN_ACC, TRAIN_LOSS, VAL, VAL_ACC, VAL_LOSS, Metric

METRICS = (TRAIN_LOSS, TRAIN_ACC, VAL_LOSS, VAL_ACC)
DECLARED = (  # as the engine reads them (`Study.metrics`), in the order tables show them
    Metric(TRAIN_ACC, "train acc", TRAIN, ACCURACY),
    Metric(TRAIN_LOSS, "train loss", TRAIN, LOSS),
    Metric(VAL_ACC, "val acc", VAL, ACCURACY),
    Metric(VAL_LOSS, "val loss", VAL, LOSS),
)


def empty_history() -> dict[str, list[float]]:
    return {name: [] for name in METRICS}
