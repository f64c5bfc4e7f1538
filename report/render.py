"""Rendering: the context through Jinja templates to one HTML document.

The HTML is one self-contained file (CSS inlined, figures as data: URIs), so it opens
from disk with no network; `report.pdf_assembly` lays the same HTML out for print.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jinja2
from markupsafe import Markup

from report import equations, numbering
from report.errors import ReportError

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _num(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _signed(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:+.{digits}f}".replace("-", "−")


def _pct(value: float, digits: int = 1) -> str:
    return f"{100 * value:.{digits}f} %"


class Claims:
    """Expectations a template states about the results, checked against this build's runs.

    `{{ expect(condition, "the middle rate is best") }}` renders nothing when the condition
    holds and a visible mark when it does not; the build then warns (or, with --strict,
    fails), so a claim the runs contradict is never printed as if it were true.
    """

    def __init__(self) -> None:
        self.checked: list[dict] = []

    def __call__(self, holds: bool, claim: str) -> Markup:
        self.checked.append({"claim": claim, "holds": bool(holds)})
        if holds:
            return Markup("")
        return Markup('<span class="contradicted">✗ Expected {}, but this build\'s runs contradict it.</span>').format(claim)

    @property
    def contradicted(self) -> list[str]:
        return [c["claim"] for c in self.checked if not c["holds"]]


def environment(templates: Path = TEMPLATES, equation_svg: Callable[[str], str] = equations.draw) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        lstrip_blocks=True,
    )
    env.filters.update(num=_num, signed=_signed, pct=_pct,
                       math=lambda tex: equations.math(tex, svg_of=equation_svg),
                       display_math=lambda tex: equations.math(tex, display=True, svg_of=equation_svg))
    return env


def render_html(context: dict, templates: Path = TEMPLATES,
                equation_svg: Callable[[str], str] = equations.draw) -> tuple[str, Claims]:
    """The report as one HTML document, and the claims its templates checked. Equations
    are drawn by `equation_svg` (the build passes its drawing cache).

    Template errors become one-line ReportErrors."""
    claims = Claims()
    try:
        env = environment(templates, equation_svg)
        env.globals["expect"] = claims
        css = (templates / "report.css").read_text(encoding="utf-8")
        document = env.get_template("report.html.j2").render(css=css, **context)
    except jinja2.TemplateSyntaxError as exc:
        raise ReportError(f"template {exc.filename or exc.name}:{exc.lineno}: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise ReportError(f"template error: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise ReportError(f"template not found: {exc.name} (in {templates})") from None
    return numbering.number(document), claims
