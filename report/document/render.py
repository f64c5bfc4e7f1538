"""Rendering: the context through Jinja templates to one HTML document.

The HTML is one self-contained file (CSS inlined, figures as data: URIs), so it opens
from disk with no network; `report.document.pdf_assembly` lays the same HTML out for print.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path

import jinja2

from report import ROOT
from report.document import equations, findings, numbering, structure
from report.errors import ReportError
from report.facts.stats import Estimate

TEMPLATES = ROOT / "templates"


def _num(value: float | Estimate | None, digits: int = 4) -> str:
    """A number; an estimate over seeds as mean ± standard deviation (the mean alone when
    there is one seed, where no spread is known)."""
    if value is None:
        return "—"
    if isinstance(value, Estimate):
        if value.sd is None:
            return f"{value.mean:.{digits}f}"
        return f"{value.mean:.{digits}f} ± {value.sd:.{digits}f}"
    return f"{value:.{digits}f}"


def _signed(value: float | None, digits: int = 4) -> str:
    """A difference with its sign, with a true minus; one that rounds to zero at the printed
    precision has no sign (not "−0.000", which reads as a difference that is not there)."""
    if value is None:
        return "—"
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0 else text.replace("-", "−")


def _points(value: float | Estimate, digits: int = 1) -> str:
    """A difference of accuracies in percentage points (a spread too small for the printed
    precision as "< 0.1", not "± 0.0", which would claim no spread at all)."""
    if isinstance(value, Estimate):
        smallest = 10 ** -digits
        spread = "" if value.sd is None else (f" ± {100 * value.sd:.{digits}f}" if 100 * value.sd >= smallest / 2
                                               else f" ± < {smallest:.{digits}f}")
        return f"{100 * value.mean:.{digits}f}{spread} pp"
    return f"{100 * value:.{digits}f} pp"


def _duration(seconds: float) -> str:
    """A span of time in the unit that reads best: 35 s, 41 min, 3.2 h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _steps(value: Estimate) -> str:
    """A step count over seeds: the number itself when every seed agrees."""
    if not value.sd:
        return f"{value.mean:g}" if value.mean == int(value.mean) else f"{value.mean:.1f}"
    return f"{value.mean:.1f} ± {value.sd:.1f}"


def _interval(value: Estimate, digits: int = 4) -> str:
    """The 95 % interval, or what stands in for it with one seed."""
    if not value.spread_known:
        return "one seed: spread unknown"
    return f"[{value.lo:.{digits}f}, {value.hi:.{digits}f}]".replace("-", "−")


def environment(templates: Path = TEMPLATES, equation_svg: Callable[[str], str] = equations.draw) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        lstrip_blocks=True,
    )
    env.filters.update(num=_num, signed=_signed, pp=_points, steps=_steps, interval=_interval, duration=_duration,
                       estimate=findings.estimate, region=findings.region, sweep=findings.sweep,
                       detectable=findings.detectable, key=findings.key,
                       math=lambda tex: equations.math(tex, svg_of=equation_svg),
                       display_math=lambda tex: equations.math(tex, display=True, svg_of=equation_svg))
    return env


def check_templates(templates: Path = TEMPLATES) -> None:
    """Parse every template, so that a syntax error stops the build before anything trains."""
    env = environment(templates)
    for path in sorted(templates.glob("*.j2")):
        try:
            env.parse(path.read_text(encoding="utf-8"), path.name, str(path))
        except jinja2.TemplateSyntaxError as exc:
            raise ReportError(f"template {path.name}:{exc.lineno}: {exc.message}") from None


def render_html(context: dict, templates: Path = TEMPLATES, equation_svg: Callable[[str], str] = equations.draw) -> str:
    """The report as one HTML document. Equations are drawn by `equation_svg` (the build
    passes its drawing cache). Template errors become one-line ReportErrors."""
    try:
        env = environment(templates, equation_svg)
        css = (templates / "report.css").read_text(encoding="utf-8")
        document = env.get_template("report.html.j2").render(css=css, **context)
    except jinja2.TemplateSyntaxError as exc:
        raise ReportError(f"template {exc.filename or exc.name}:{exc.lineno}: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        where = _template_line(exc, templates)
        raise ReportError(f"template {where + ': ' if where else 'error: '}{exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise ReportError(f"template not found: {exc.name} (in {templates})") from None
    except Exception as exc:  # a runtime error inside a template ({{ 1 / 0 }}, a filter given text)
        where = _template_line(exc, templates)
        if where is None:
            raise
        raise ReportError(f"template {where}: {type(exc).__name__}: {exc}") from None
    return structure.boxed_tables(numbering.number(document))


def _template_line(exc: BaseException, templates: Path) -> str | None:
    """`name:line` of the innermost template frame of an error, or None when no template
    was running (then it is our bug, not the template's, and keeps its traceback)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(str(templates))]
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else None
