"""Axis ranges of the curve panels, shared by the drawing code (`figures`) and by the
choice of panels (`context.panels`), which must not import matplotlib: a render whose
drawings are all cached never loads it."""

from __future__ import annotations

import numpy as np

Run = tuple[str, list[dict[str, list[float]]], str, dict]  # label, histories over seeds, colour, the original's values
ZOOM_BELOW = 0.1  # a rise of the validation loss smaller than this share of its panel's height is shown zoomed


def loss_top(histories: list[dict[str, list[float]]]) -> float:
    """The top of a loss panel: the first steps of training would otherwise squeeze the part of
    the curves the text talks about into a few pixels."""
    finals = [h[f"{s}_loss"][-1] for h in histories for s in ("train", "val")]
    peak = max(max(h[f"{s}_loss"]) for h in histories for s in ("train", "val"))
    return min(peak, 2.5 * max(finals)) * 1.05


def hidden_rise(runs: list[list[dict[str, list[float]]]]) -> bool:
    """Whether some run's mean validation loss rises after its minimum (overfitting) by too
    little to see on the loss panel: then the figure adds the validation loss zoomed."""
    rises = [float(mean[-1] - mean.min()) for mean in (np.mean([h["val_loss"] for h in hs], axis=0) for hs in runs)]
    top = loss_top([h for hs in runs for h in hs])
    return bool(np.isfinite(top) and 0 < max(rises) < ZOOM_BELOW * top)
