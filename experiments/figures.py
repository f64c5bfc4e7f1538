"""This study's own drawing: the network diagram of Part C, drawn from the layers `context.diagram`
gives, in the engine's figure style. The engine draws it as any figure (`Figure`, kept on disk
under a key that holds this module's source) by the name `experiments.figures:network`."""

from __future__ import annotations

import matplotlib.patches

from dlreport.document import figures  # its import chooses matplotlib's non-interactive backend before pyplot


def network(layers: list[dict]) -> str:
    """The network as a chain of operations, hidden layers bracketed, batch norm highlighted,
    drawn from the layers the study gives (`Study.diagram`), so the diagram shows exactly
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
    with figures.plt.rc_context(figures.STYLE):
        fig, ax = figures.plt.subplots(figsize=(6.4, 1.5))
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
        return figures.svg(fig)
