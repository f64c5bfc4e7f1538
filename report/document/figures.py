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
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

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
REFERENCE_COLOR = "#777777"
REFERENCE_STYLES = {"train": (0, (1, 1.5)), "val": (0, (4, 1.5, 1, 1.5))}  # the original's values: dotted, dash-dotted
KEY_COLOR = "#444444"


def _focus(loss_ax: plt.Axes, acc_ax: plt.Axes, histories: list[dict[str, list[float]]]) -> None:
    """Zoom on where runs end up: the first steps of training would otherwise squeeze the
    part of the curves the text talks about into a few pixels."""
    finals = [h[f"{s}_loss"][-1] for h in histories for s in ("train", "val")]
    peak = max(max(h[f"{s}_loss"]) for h in histories for s in ("train", "val"))
    loss_ax.set_ylim(0, min(peak, 2.5 * max(finals)) * 1.05)
    accs = [a for h in histories for s in ("train", "val") for a in h[f"{s}_acc"]]
    acc_ax.set_ylim(max(min(accs), max(accs) - 0.3), min(1.0, max(accs) + 0.02))


def _svg(fig: plt.Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def _band(ax: plt.Axes, histories: list[dict[str, list[float]]], metric: str, style: str, color: str,
          width: float = 1.4) -> None:
    """The mean over seeds as a line, and the range the seeds span as a light band around it."""
    values = np.array([h[metric] for h in histories])
    steps = np.arange(1, values.shape[1] + 1)
    ax.plot(steps, values.mean(axis=0), style, color=color, linewidth=width)
    if len(values) > 1:
        ax.fill_between(steps, values.min(axis=0), values.max(axis=0), color=color, alpha=0.18, linewidth=0)


def _mark_minimum(ax: plt.Axes, histories: list[dict[str, list[float]]], color: str) -> None:
    """A ring where the mean validation loss is lowest: where overfitting, if any, begins."""
    mean = np.mean([h["val_loss"] for h in histories], axis=0)
    best = int(np.argmin(mean))
    ax.plot([best + 1], [mean[best]], "o", ms=4.5, mfc="white", mec=color, mew=1.2, zorder=5)


MINIMUM_KEY = Line2D([], [], linestyle="none", marker="o", ms=4.5, mfc="white", mec=KEY_COLOR, mew=1.2,
                     label="lowest validation loss")


def _style_key(n_seeds: int) -> list:
    """Legend entries for what line style and band mean, in a neutral colour."""
    handles = [Line2D([], [], linestyle=TRAIN, color=KEY_COLOR, label="training"),
               Line2D([], [], linestyle=VAL, color=KEY_COLOR, label="validation")]
    if n_seeds > 1:
        handles.append(Patch(color=KEY_COLOR, alpha=0.25, label=f"range over {n_seeds} seeds"))
    return handles


def overlay(runs: list[tuple[str, list[dict[str, list[float]]], str]], unit: str) -> str:
    """Several runs in one figure: colour = run (its colour in every figure, `palette`),
    line style = split (training solid, validation dashed); each run's mean over its seeds,
    with the seeds' range as a band."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(6.4, 2.8))
        for _, histories, colour in runs:
            for ax, metric in ((axes[0], "loss"), (axes[1], "acc")):
                _band(ax, histories, f"train_{metric}", TRAIN, colour, 1.1)
                _band(ax, histories, f"val_{metric}", VAL, colour, 1.1)
            _mark_minimum(axes[0], histories, colour)
        for ax, label in ((axes[0], "cross-entropy loss"), (axes[1], "accuracy")):
            ax.set_xlabel(unit)
            ax.set_ylabel(label)
        _focus(axes[0], axes[1], [h for _, hs, _ in runs for h in hs])
        handles = [Patch(color=colour, label=label) for label, _, colour in runs]
        handles += [*_style_key(max(len(hs) for _, hs, _ in runs)), MINIMUM_KEY]
        # below the panels, so that no curve is hidden behind it
        fig.tight_layout(rect=(0, 0.12, 1, 1))
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=7)
        return _svg(fig)


def curves(histories: list[dict[str, list[float]]], unit: str, reference: dict[str, float | None], colour: str) -> str:
    """Loss and accuracy, training (solid) and validation (dashed), side by side, in the
    experiment's colour: the mean over seeds with the seeds' range as a band.

    The original report's values are drawn as grey lines (dotted: training, dash-dotted:
    validation) where it gave them and the data are comparable, so a reader sees at a
    glance where our runs end relative to it.
    """
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(6.4, 2.6))
        for ax, metric, label in ((axes[0], "loss", "cross-entropy loss"), (axes[1], "acc", "accuracy")):
            _band(ax, histories, f"train_{metric}", TRAIN, colour)
            _band(ax, histories, f"val_{metric}", VAL, colour)
            for split in ("train", "val"):
                ref = reference.get(f"{split}_{metric}")
                if ref is not None:  # named in the legend, not beside the line: a label there would cover curves
                    ax.axhline(ref, color=REFERENCE_COLOR, linestyle=REFERENCE_STYLES[split], linewidth=0.9)
            ax.set_xlabel(unit)
            ax.set_ylabel(label)
        _mark_minimum(axes[0], histories, colour)
        _focus(axes[0], axes[1], histories)
        handles = [Line2D([], [], color=colour, label="training"),
                   Line2D([], [], color=colour, linestyle=VAL, label="validation"), *_style_key(len(histories))[2:],
                   MINIMUM_KEY]
        handles += [Line2D([], [], color=REFERENCE_COLOR, linestyle=REFERENCE_STYLES[split], linewidth=0.9,
                           label=f"original {name}") for split, name in (("train", "training"), ("val", "validation"))
                    if any(reference.get(f"{split}_{m}") is not None for m in ("loss", "acc"))]
        rows = 1 if len(handles) <= 4 else 2
        fig.tight_layout(rect=(0, 0.1 + 0.06 * (rows - 1), 1, 1))
        fig.legend(handles=handles, loc="lower center", ncol=-(-len(handles) // rows), fontsize=7)
        return _svg(fig)


def network(layers: list[dict]) -> str:
    """The network as a chain of operations, hidden layers bracketed, batch norm highlighted,
    drawn from its description (`experiments.networks`), so the diagram shows exactly
    where the normalisation sits in the model that ran."""
    labels = {"dense": "Dense\n{units}", "batch_norm": "Batch\nNorm\nγ, β", "relu": "ReLU",
              "dropout": "Dropout\n{rate:g}", "softmax": "soft-\nmax"}
    ops: list[tuple[str, str | None]] = [(f"input\n{layers[0]['inputs']}", None)]
    hidden = 0
    for i, layer in enumerate(layers):
        last_dense = layer["kind"] == "dense" and all(later["kind"] != "dense" for later in layers[i + 1:])
        if layer["kind"] == "dense" and not last_dense:
            hidden += 1
        group = None if last_dense or layer["kind"] == "softmax" else f"hidden layer {hidden}"
        label = labels[layer["kind"]].format(**layer) + ("\nno bias" if layer["kind"] == "dense" and not layer["bias"] else "")
        ops.append((label, group))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 1.5))
        ax.set_axis_off()
        w, h, step = 0.68, 0.8, 0.86
        groups: dict[str, list[float]] = {}
        for i, (label, group) in enumerate(ops):
            x = i * step
            bn = label.startswith("Batch")
            ax.add_patch(matplotlib.patches.FancyBboxPatch(
                (x, 0), w, h, boxstyle="round,pad=0.01,rounding_size=0.06",
                facecolor="#fde9b8" if bn else "#eef2f8", edgecolor="#d1495b" if bn else "#1f5fa8",
                linewidth=1.2 if bn else 0.7))
            ax.text(x + w / 2, h / 2, label, ha="center", va="center", fontsize=7.5, linespacing=1.05)
            if i:
                ax.annotate("", (x, h / 2), (x - step + w, h / 2),
                            arrowprops={"arrowstyle": "-|>", "color": "#5c6470", "lw": 0.7, "shrinkA": 0, "shrinkB": 0})
            if group:
                groups.setdefault(group, []).append(x)
        for group, xs in groups.items():
            left, right = min(xs) - 0.06, max(xs) + w + 0.06
            ax.plot([left, left, right, right], [-0.12, -0.2, -0.2, -0.12], color="#5c6470", lw=0.7)
            ax.text((left + right) / 2, -0.28, group, ha="center", va="top", fontsize=7, color="#5c6470")
        ax.set_xlim(-0.05, len(ops) * step)
        ax.set_ylim(-0.55, h + 0.05)
        ax.set_aspect("equal")
        return _svg(fig)


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
        return _svg(fig)


VERDICT_COLORS = {"confirmed": "#009E73", "not reproduced": "#D55E00", "undecided": "#7F7F7F"}  # Okabe-Ito: colour-blind safe
REGION_COLOR = "#D5E6F3"


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


def forest(rows: list[dict]) -> str:
    """Every sub-test of the findings, each on its own scale: the region the finding claims
    (shaded), our estimate and its 95 % interval, coloured by the sub-test's verdict (hollow:
    not testable on this data). Two columns, findings kept whole, separated by rules."""
    findings = list(dict.fromkeys(r["finding"] for r in rows))
    half, count = [], 0
    for f in findings:  # cut between findings, as near the middle as can be
        n = sum(r["finding"] == f for r in rows)
        if count + n / 2 > len(rows) / 2 and not half:
            half = [f]
        count += n
    cut = next((i for i, r in enumerate(rows) if half and r["finding"] == half[0]), len(rows))
    columns = [rows[:cut], rows[cut:]] if 0 < cut < len(rows) else [rows]
    height = 0.16 * max(len(c) for c in columns) + 0.7
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(columns), figsize=(6.4, height), squeeze=False)
        for ax, column in zip(axes[0], columns):
            ys = list(range(len(column), 0, -1))
            for y, row in zip(ys, column):
                est, lo, hi, r0, r1 = _normalised(row)
                ax.add_patch(matplotlib.patches.Rectangle((r0, y - 0.38), r1 - r0, 0.76, color=REGION_COLOR, lw=0))
                color = VERDICT_COLORS[row["verdict"]] if row["testable"] else "#9A9A9A"
                if lo is not None:
                    ax.plot([lo, hi], [y, y], color=color, lw=1.6, solid_capstyle="butt",
                            linestyle="-" if row["testable"] else (0, (2, 1)))
                ax.plot([est], [y], "o", ms=3.6, color=color, mfc=color if row["testable"] else "white", mew=1.0)
            for y, (a, b) in zip(ys, zip(column, column[1:])):
                if a["finding"] != b["finding"]:
                    ax.axhline(y - 0.5, color="#BBBBBB", lw=0.5)
            ax.set_yticks(ys, [r["label"] for r in column], fontsize=6.5)
            ax.set_ylim(0.4, len(column) + 0.6)
            ax.set_xlim(-0.02, 1.02)
            ax.set_xticks([])
            ax.grid(False)
            for side in ("left", "bottom"):
                ax.spines[side].set_visible(False)
            ax.tick_params(axis="y", length=0)
        handles = [Patch(color=REGION_COLOR, label="claimed region"),
                   *(Line2D([], [], color=c, marker="o", ms=3.6, lw=1.6, label=v) for v, c in VERDICT_COLORS.items()),
                   Line2D([], [], color="#9A9A9A", marker="o", mfc="white", ms=3.6, lw=1.2, linestyle=(0, (2, 1)),
                          label="not testable here")]
        fig.tight_layout(rect=(0, 0.35 / height, 1, 1))
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=6.5)
        return _svg(fig)
