"""Figures: training curves drawn fresh from stored histories, as SVG.

One style for every figure (`STYLE`); SVG so figures stay vector in the HTML and in
the PDF; a fixed id salt and no date so the same histories give byte-identical files.
Labels stay text (in DejaVu Sans, the report's font, with sans-serif fallbacks for a
browser without it): a reader can select and search them, and WeasyPrint draws a figure
about a third faster than when every glyph is a path of its own.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dlreport.document import palette, scales  # noqa: E402

STYLE = {
    "font.family": ["DejaVu Sans", "sans-serif"],
    "font.size": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "dlreport",
    "lines.linewidth": 1.4,
}
TRAIN, VAL = "-", "--"


PANELS = {"loss": "cross-entropy loss", "acc": "accuracy"}
PANEL_SIZE = (3.2, 1.85)  # inches: two side by side fill a printed page's width; alone, a phone's


def _limits(ax: plt.Axes, kind: str, histories: list[dict[str, list[float]]]) -> None:
    """Zoom on where runs end up (`kind` loss or acc); the inset ("zoom") on the validation
    losses from the first minimum on, where overfitting shows as a rise."""
    if kind == "loss":
        ax.set_ylim(0, scales.loss_top(histories))
    elif kind == "acc":
        accs = [a for h in histories for s in ("train", "val") for a in h[f"{s}_acc"]]
        ax.set_ylim(max(min(accs), max(accs) - 0.3), min(1.0, max(accs) + 0.02))
    else:  # only the runs whose validation loss rises after its minimum: the others would flatten the view
        rising = [h for h in histories if h["val_loss"][-1] > min(h["val_loss"])] or histories
        first = min(int(np.argmin(h["val_loss"])) for h in rising)
        start = max(0, first - max(2, len(histories[0]["val_loss"]) // 10))
        tail = [v for h in rising for v in h["val_loss"][start:]]
        pad = (max(tail) - min(tail)) * 0.08
        ax.set_xlim(start + 1, len(histories[0]["val_loss"]))
        ax.set_ylim(min(tail) - pad, max(tail) + pad)


def svg(fig: plt.Figure) -> str:
    """A figure as SVG text, without a date, closed (a study's own drawings end the same way)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


BUCKET = 8  # steps of a long curve drawn as one bucket's extremes: about a millimetre of a printed panel


def _extremes(*series: np.ndarray) -> np.ndarray:
    """The steps to draw of a long curve: in each bucket of `BUCKET` steps, where each series
    (the mean, the band's floor, its ceiling) is lowest and highest, in order. A spike of one
    step keeps its full depth; what is left out lies between points drawn less than a
    millimetre apart. It spares the PDF's layout most of the cost of drawing every step of
    600 (a long curve has ten thousand points a panel)."""
    n = len(series[0])
    if n <= 25 * BUCKET:
        return np.arange(n)
    kept = {0, n - 1}
    for start in range(0, n, BUCKET):
        for s in series:
            chunk = s[start:start + BUCKET]
            kept.update((start + int(np.argmin(chunk)), start + int(np.argmax(chunk))))
    return np.array(sorted(kept))


def _band(ax: plt.Axes, histories: list[dict[str, list[float]]], metric: str, style: str, color: str,
          width: float = 1.4) -> None:
    """The mean over seeds as a line, and the range the seeds span as a light band around it."""
    values = np.array([h[metric] for h in histories])
    mean, low, high = values.mean(axis=0), values.min(axis=0), values.max(axis=0)
    at = _extremes(mean, low, high) if len(values) > 1 else _extremes(mean)
    ax.plot(at + 1, mean[at], style, color=color, linewidth=width)
    if len(values) > 1:
        ax.fill_between(at + 1, low[at], high[at], color=color, alpha=0.18, linewidth=0)


def _mark_minimum(ax: plt.Axes, histories: list[dict[str, list[float]]], color: str) -> None:
    """A ring where the mean validation loss is lowest: where overfitting, if any, begins."""
    mean = np.mean([h["val_loss"] for h in histories], axis=0)
    best = int(np.argmin(mean))
    ax.plot([best + 1], [mean[best]], "o", ms=4.5, mfc="white", mec=color, mew=1.2, zorder=5)


REFERENCE_MARKERS = {"train": "^", "val": "D"}  # the original's values: a triangle (training), a diamond (validation)


def _mark_reference(ax: plt.Axes, reference: dict, names: dict[str, str], colour: str, steps: int) -> None:
    """The original's single-run values, where it gave them and the data are comparable: a
    marker in the run's colour at the step where it read them (`names`: split -> metric)."""
    at = min(reference.get("at") or steps, steps)
    for split, marker in REFERENCE_MARKERS.items():
        value = reference.get(names.get(split, ""))
        if value is not None:
            ax.plot([at], [value], marker, ms=5, color=colour, mec="white", mew=0.8, zorder=6, clip_on=False)


def _curves(ax: plt.Axes, runs: list[scales.Run], names: dict[str, str], loss: bool = False) -> None:
    """Every run's curves of the metrics `names` gives by split, training solid and validation
    dashed; on a loss panel, a ring where the validation loss is lowest."""
    for _, hs, colour, _ in runs:
        for split, name in names.items():
            _band(ax, hs, name, TRAIN if split == "train" else VAL, colour, 1.1)
        if loss:
            _mark_minimum(ax, hs, colour)


def _standard(kind: str, splits: tuple[str, ...] = ("train", "val")) -> dict[str, str]:
    """The engine's own metrics of a kind (loss or acc), by split."""
    return {split: f"{split}_{kind}" for split in splits}


def panel(runs: list[scales.Run], unit: str, kind: str, zoom: bool = False) -> str:
    """One panel of a figure (`kind`: loss or accuracy): every run in its colour (the same in
    every figure, `palette`), training solid and validation dashed, each the mean over its
    seeds with the seeds' range as a band; a ring where the mean validation loss is lowest;
    the original's values as markers. `zoom`: an inset of the validation losses from their
    first minimum on, where a rise too small for the panel shows. Panels are separate
    drawings, keyed in the HTML, so that a narrow screen stacks them at a legible size."""
    histories = [h for _, hs, _, _ in runs for h in hs]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=PANEL_SIZE)
        _curves(ax, runs, _standard(kind), kind == "loss")
        for _, hs, colour, reference in runs:
            _mark_reference(ax, reference, _standard(kind), colour, len(hs[0][f"val_{kind}"]))
        ax.set_xlabel(unit)
        ax.set_ylabel(PANELS[kind])
        _limits(ax, kind, histories)
        if zoom:
            inset = ax.inset_axes((0.44, 0.63, 0.54, 0.31))  # above where the curves end, its labels clear of them
            _curves(inset, runs, _standard("loss", ("val",)), True)
            _limits(inset, "zoom", histories)
            inset.tick_params(labelsize=7.5, length=2, pad=1.5)
            inset.set_title("validation loss, enlarged", fontsize=7.5, pad=2)
        fig.tight_layout()
        return svg(fig)


def metric_panel(runs: list[scales.Run], unit: str, names: dict[str, str], label: str) -> str:
    """A panel of a metric of the study's own kind (`names`: split -> metric): every run in its
    colour, training solid and validation dashed, the seeds' mean with their range as a band,
    and the original's values as markers; the axis fits the curves."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=PANEL_SIZE)
        _curves(ax, runs, names)
        for _, hs, colour, reference in runs:
            _mark_reference(ax, reference, names, colour, len(hs[0][next(iter(names.values()))]))
        ax.set_xlabel(unit)
        ax.set_ylabel(label)
        fig.tight_layout()
        return svg(fig)


def samples(classes: list[str], images: list[list[list[int]]]) -> str:
    """One image per class in a row, each under its class name, drawn pixel for pixel as
    ink on paper (darker = a higher grey level, as the networks read them)."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(images), figsize=(6.4, 0.95), dpi=300)  # dpi: crisp pixels in the SVG
        for ax, name, image in zip(axes, classes, images):
            ax.imshow(np.asarray(image, np.uint8), cmap="gray_r", vmin=0, vmax=255, interpolation="nearest")
            ax.set_title(name, fontsize=7, pad=3)
            ax.set_axis_off()
        fig.subplots_adjust(left=0, right=1, bottom=0, top=0.8, wspace=0.12)
        return svg(fig)


def _normalised(row: dict) -> tuple[float, float | None, float | None, float, float]:
    """A row's numbers mapped onto [0, 1] on its own scale: estimate, interval, region."""
    bounds = [b for b in (row["above"], row["below"]) if b is not None]
    points = [row["estimate"], *bounds, *(v for v in (row["lo"], row["hi"]) if v is not None)]
    low, high = min(points), max(points)
    pad = (high - low) * 0.18 or max(abs(high), 1.0) * 0.1
    low, high = low - pad, high + pad

    def x(v: float) -> float:
        return (v - low) / (high - low)

    region = (x(row["above"]) if row["above"] is not None else 0.0, x(row["below"]) if row["below"] is not None else 1.0)
    lo = x(row["lo"]) if row["lo"] is not None else None
    hi = x(row["hi"]) if row["hi"] is not None else None
    return x(row["estimate"]), lo, hi, *region


def forest(column: list[dict], slots: int) -> str:
    """One column of the forest plot: each sub-test on its own scale, the region the finding
    claims (shaded), our estimate and its 95 % interval coloured by the sub-test's verdict
    (hollow and dashed: not testable on this data), findings separated by rules. `slots`:
    the rows of the longest column, so that every column is drawn to one scale; the key is
    text in the HTML."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(2.1, 0.135 * slots + 0.15))
        ys = list(range(len(column), 0, -1))
        for y, row in zip(ys, column):
            est, lo, hi, r0, r1 = _normalised(row)
            ax.add_patch(matplotlib.patches.Rectangle((r0, y - 0.38), r1 - r0, 0.76, color=palette.REGION, lw=0))
            color = palette.VERDICTS[row["verdict"]] if row["testable"] else palette.NOT_TESTABLE
            if lo is not None:
                ax.plot([lo, hi], [y, y], color=color, lw=1.6, solid_capstyle="butt",
                        linestyle="-" if row["testable"] else (0, (2, 1)))
            ax.plot([est], [y], "o", ms=3.6, color=color, mfc=color if row["testable"] else "white", mew=1.0)
        for y, (a, b) in zip(ys, zip(column, column[1:])):
            if a["finding"] != b["finding"]:
                ax.axhline(y - 0.5, color="#BBBBBB", lw=0.5)
        ax.set_yticks(ys, [r["label"] for r in column], fontsize=7)
        ax.set_ylim(len(column) - slots + 0.4, len(column) + 0.6)
        ax.set_xlim(-0.02, 1.02)
        ax.set_xticks([])
        ax.grid(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        fig.tight_layout(pad=0.2)
        return svg(fig)
