"""Rendering: checked claims, and template mistakes as one-line errors."""

from __future__ import annotations

import pytest

from report.errors import ReportError
from report.render import render_html


def _templates(tmp_path, body: str):
    (tmp_path / "report.css").write_text("body {}")
    (tmp_path / "report.html.j2").write_text(body)
    return tmp_path


def test_a_contradicted_claim_is_marked_next_to_the_text_and_reported(tmp_path):
    t = _templates(tmp_path, "<p>A{{ expect(x > 2, 'x to exceed two') }}B{{ expect(x > 0, 'x to be positive') }}</p>")
    html, claims = render_html({"x": 1}, t)
    assert claims.contradicted == ["x to exceed two"]
    assert html.count('class="contradicted"') == 1 and "Expected x to exceed two" in html
    html, claims = render_html({"x": 3}, t)
    assert claims.contradicted == [] and "contradicted" not in html


@pytest.mark.parametrize("body, message", [
    ("{% if x %}unclosed", "report.html.j2:1"),
    ("{{ missing_variable }}", "'missing_variable' is undefined"),
])
def test_template_mistakes_are_one_line_errors(tmp_path, body, message):
    with pytest.raises(ReportError) as exc:
        render_html({"x": 1}, _templates(tmp_path, body))
    assert message in str(exc.value) and "\n" not in str(exc.value)
