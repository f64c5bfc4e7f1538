"""Figures and equations are drawn only when shown, and drawn once per content and drawing code."""

from __future__ import annotations

import sys
import textwrap

import pytest

from dlreport.document import equations, figure_cache, figures

HISTORY = {"train_loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "train_acc": [0.5, 0.8], "val_acc": [0.45, 0.7]}
RUNS = [("A1", [HISTORY], "#0072B2", {})]  # one run: its label, histories over seeds, colour, the original's values


def _counting(monkeypatch) -> list:
    calls = []
    real = figures.panel
    monkeypatch.setattr(figures, "panel", lambda *a: calls.append(a) or real(*a))
    return calls


def test_same_figure_is_drawn_once_and_changed_data_draws_afresh(tmp_path, monkeypatch):
    calls = _counting(monkeypatch)
    cache = figure_cache.FigureCache(tmp_path)
    first = cache.svg("panel", RUNS, "epoch", "acc")
    assert figure_cache.FigureCache(tmp_path).svg("panel", RUNS, "epoch", "acc") == first and len(calls) == 1
    changed = {**HISTORY, "val_acc": [0.45, 0.71]}
    assert cache.svg("panel", [("A1", [changed], "#0072B2", {})], "epoch", "acc") != first and len(calls) == 2
    assert first.startswith("<?xml") and "<svg" in first


def test_an_edit_of_the_drawing_code_draws_afresh_and_a_comment_edit_too(tmp_path, monkeypatch):
    """The cache's salt is the drawing module's file: editing it (here a toy module written to
    disk, imported as the build imports report.figures) redraws every figure."""
    module = tmp_path / "toy_drawing.py"
    module.write_text(textwrap.dedent("""
        def line(n):
            return f"<svg>{n}</svg>"
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    store = tmp_path / "store"
    first = figure_cache.FigureCache(store, "toy_drawing", "matplotlib").svg("line", 1)
    module.write_text(module.read_text().replace("<svg>", "<svg width='1'>"))
    sys.modules.pop("toy_drawing", None)
    second = figure_cache.FigureCache(store, "toy_drawing", "matplotlib").svg("line", 1)
    assert first == "<svg>1</svg>" and second == "<svg width='1'>1</svg>"


def test_a_figure_no_template_shows_is_never_drawn(tmp_path, monkeypatch):
    calls = _counting(monkeypatch)
    fig = figure_cache.Figure(figure_cache.FigureCache(tmp_path), "panel", RUNS, "epoch", "acc")
    assert not fig.drawn and calls == []
    assert str(fig).startswith("data:image/svg+xml;base64,") and fig.drawn and len(calls) == 1
    str(fig)
    assert len(calls) == 1


def test_figure_labels_are_text_a_reader_can_search(tmp_path):
    svg = figure_cache.FigureCache(tmp_path).svg("panel", RUNS, "epoch", "acc")
    assert ">epoch</text>" in svg and ">accuracy</text>" in svg
    assert "font-family: 'DejaVu Sans'" in svg and "sans-serif" in svg  # a browser without DejaVu falls back to a sans


def test_equations_are_drawn_once_and_kept_with_the_same_markup(tmp_path, monkeypatch):
    calls = []
    real = equations.draw
    monkeypatch.setattr(equations, "draw", lambda tex: calls.append(tex) or real(tex))

    def kept(tex: str) -> str:  # as the build draws them: through a cache of dlreport.document.equations
        return figure_cache.FigureCache(tmp_path, "dlreport.document.equations", "ziamath").svg("draw", tex)

    tex = r"\hat{x} = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}"
    first = equations.math(tex, svg_of=kept)
    assert equations.math(tex, svg_of=kept) == first and calls == [tex]
    assert equations.math(tex) == first  # drawn directly, uncached: the very same <img>
    assert equations.math(r"x^2", svg_of=kept) != first and calls == [tex, r"x^2"]


@pytest.mark.parametrize("how", ["truncated", "empty", "flipped"])
def test_a_damaged_drawing_is_reported_and_drawn_again_never_used(tmp_path, caplog, how):
    tex = r"\sigma^2"
    store = tmp_path / "equations"
    first = figure_cache.FigureCache(store, "dlreport.document.equations", "ziamath").svg("draw", tex)
    path = next(store.rglob("*.svg"))
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"",
                      "flipped": data[:-40] + bytes([data[-40] ^ 1]) + data[-39:]}[how])
    with caplog.at_level("WARNING"):
        again = figure_cache.FigureCache(store, "dlreport.document.equations", "ziamath").svg("draw", tex)
    assert again == first and f"damaged cache entry {path}" in caplog.text
    assert figure_cache.FigureCache(store, "dlreport.document.equations", "ziamath").svg("draw", tex) == first


def test_each_experiment_one_colour_distinct_from_those_it_is_drawn_with():
    from dlreport.document import palette

    order = ["A", "B", "C", "D", "E"]
    groups = [["A", "B", "C"], ["C", "D"], ["B", "D", "E"]]
    got = palette.colours(order, groups)
    assert set(got) == set(order) and set(got.values()) <= set(palette.PALETTE)
    for group in groups:
        assert len({got[e] for e in group}) == len(group), group
    assert got == palette.colours(order, list(reversed(groups)))  # the order of the study decides, not of the groups
    with pytest.raises(ValueError, match="palette has"):
        palette.colours(list("abcdefghi"), [list("abcdefghi")])
