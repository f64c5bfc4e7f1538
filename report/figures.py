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

STYLE = {
    "font.family": ["DejaVu Sans", "sans-serif"],
    "font.size": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.prop_cycle": matplotlib.cycler(color=["#1f5fa8", "#d1495b", "#2e933c", "#edae49", "#66456e", "#00798c"]),
    "legend.frameon": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "dlreport",
    "lines.linewidth": 1.4,
}
TRAIN, VAL = "-", "--"
REFERENCE_COLOR = "#888888"


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


def overlay(runs: list[tuple[str, dict[str, list[float]]]], unit: str) -> str:
    """Several runs in one figure: one colour per run, training solid, validation dashed."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(6.4, 2.7))
        for i, (label, history) in enumerate(runs):
            steps = range(1, len(history["train_loss"]) + 1)
            for ax, metric in ((axes[0], "loss"), (axes[1], "acc")):
                ax.plot(steps, history[f"train_{metric}"], TRAIN, color=f"C{i}", linewidth=1.1)
                ax.plot(steps, history[f"val_{metric}"], VAL, color=f"C{i}", linewidth=1.1, label=label)
        for ax, label in ((axes[0], "cross-entropy loss"), (axes[1], "accuracy")):
            ax.set_xlabel(unit)
            ax.set_ylabel(label)
        _focus(axes[0], axes[1], [h for _, h in runs])
        axes[1].plot([], [], TRAIN, color="#444444", label="train (solid)")
        axes[1].plot([], [], VAL, color="#444444", label="validation (dashed)")
        # below the panels, so that no curve is hidden behind it
        handles, labels = axes[1].get_legend_handles_labels()
        fig.tight_layout(rect=(0, 0.1, 1, 1))
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=7)
        return _svg(fig)


def curves(history: dict[str, list[float]], unit: str, reference: dict[str, float | None]) -> str:
    """Loss and accuracy, train (solid) and validation (dashed), side by side.

    The original report's final values are drawn as grey dotted lines where it gave them,
    so a reader sees at a glance where our run ends relative to it.
    """
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(6.4, 2.5))
        steps = range(1, len(history["train_loss"]) + 1)
        for ax, metric, label in ((axes[0], "loss", "cross-entropy loss"), (axes[1], "acc", "accuracy")):
            ax.plot(steps, history[f"train_{metric}"], TRAIN, color="C0", label="train")
            ax.plot(steps, history[f"val_{metric}"], VAL, color="C1", label="validation")
            for split, style in (("train", (0, (1, 2))), ("val", (0, (1, 1)))):
                ref = reference.get(f"{split}_{metric}")
                if ref is not None:
                    ax.axhline(ref, color=REFERENCE_COLOR, linestyle=style, linewidth=0.9)
            ax.set_xlabel(unit)
            ax.set_ylabel(label)
        _focus(axes[0], axes[1], [history])
        axes[1].plot([], [], color=REFERENCE_COLOR, linestyle=(0, (1, 1)), label="original (final)")
        axes[1].legend(loc="lower right")
        fig.tight_layout()
        return _svg(fig)


def network(hidden: list[int], batch_norm: bool, dropout: list[float]) -> str:
    """The network as a chain of operations, hidden layers bracketed, batch norm highlighted,
    so the diagram shows exactly where the normalisation sits in the model that ran."""
    ops: list[tuple[str, str | None]] = [("input\n784", None)]
    for n, (units, rate) in enumerate(zip(hidden, dropout), start=1):
        group = f"hidden layer {n}"
        ops.append((f"Dense\n{units}" + ("\nno bias" if batch_norm else ""), group))
        if batch_norm:
            ops.append(("Batch\nNorm\nγ, β", group))
        ops.append(("ReLU", group))
        if rate:
            ops.append((f"Dropout\n{rate:g}", group))
    ops += [("Dense\n10", None), ("soft-\nmax", None)]
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
            ax.text(x + w / 2, h / 2, label, ha="center", va="center", fontsize=6.4, linespacing=1.1)
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
