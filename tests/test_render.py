"""Rendering: numbers over seeds as the text prints them, and template mistakes as one-line errors."""

from __future__ import annotations

import pytest

from dlreport.document.render import render_html
from dlreport.errors import ReportError
from dlreport.facts import stats


def _templates(tmp_path, body: str):
    (tmp_path / "report.css").write_text("body {}")
    (tmp_path / "report.html.j2").write_text(body)
    return tmp_path


def test_estimates_print_with_their_spread_and_a_single_seed_without_one(tmp_path):
    t = _templates(tmp_path, "{{ a | num }}|{{ b | num }}|{{ a | interval }}|{{ b | interval }}|{{ g | pp }}|{{ s | steps }}")
    a, b = stats.summary([0.91, 0.92, 0.93]), stats.summary([0.9])
    html = render_html({"a": a, "b": b, "g": stats.summary([0.02, 0.04]), "s": stats.summary([6, 6, 6])}, t)
    assert html == f"0.9200 ± 0.0100|0.9000|[{a.lo:.4f}, {a.hi:.4f}]|one seed: spread unknown|3.0 ± 1.4 pp|6"


def test_differences_print_with_a_sign_and_none_when_they_round_to_zero(tmp_path):
    t = _templates(tmp_path, "{{ a | signed }}|{{ b | signed(3) }}|{{ c | signed(3) }}|{{ d | signed }}|{{ e | signed }}")
    html = render_html({"a": 0.0088, "b": -0.0193, "c": -0.0003, "d": 0.00004, "e": None}, t)
    assert html == "+0.0088|−0.019|0.000|0.0000|—"


@pytest.mark.parametrize("body, message", [
    ("{% if x %}unclosed", "report.html.j2:1"),
    ("{{ missing_variable }}", "'missing_variable' is undefined"),
    ("line one\n{{ 1 / 0 }}", "report.html.j2:2: ZeroDivisionError"),
    ("{{ 'text' | num }}", "report.html.j2:1: ValueError"),
])
def test_template_mistakes_are_one_line_errors(tmp_path, body, message):
    with pytest.raises(ReportError) as exc:
        render_html({"x": 1}, _templates(tmp_path, body))
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_compiled_templates_are_kept_reused_recompiled_after_an_edit_and_a_damaged_one_is_compiled_again(tmp_path,
                                                                                                          monkeypatch):
    import jinja2

    (tmp_path / "t").mkdir()
    t = _templates(tmp_path / "t", "{{ x }} one")
    compiled = tmp_path / "compiled"
    compiles = []
    real = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile", lambda self, *a, **k: compiles.append(a) or real(self, *a, **k))
    assert render_html({"x": 1}, t, compiled=compiled) == "1 one" and len(compiles) == 1
    assert render_html({"x": 2}, t, compiled=compiled) == "2 one" and len(compiles) == 1  # read back, not compiled
    (t / "report.html.j2").write_text("{{ x }} two")
    assert render_html({"x": 3}, t, compiled=compiled) == "3 two" and len(compiles) == 2  # the edit is seen
    [kept] = compiled.iterdir()
    kept.write_bytes(kept.read_bytes()[:20])  # cut short, as a full disk might leave it
    assert render_html({"x": 4}, t, compiled=compiled) == "4 two" and len(compiles) == 3
    assert [p.name for p in compiled.iterdir()] == [kept.name]  # one file per template, replaced
