"""Rendering: the context through Jinja templates to one HTML document.

The HTML is one self-contained file (CSS inlined, figures as data: URIs), so it opens
from disk with no network; `report.document.pdf_assembly` lays the same HTML out for print.
"""

from __future__ import annotations

import pickle
import traceback
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import jinja2

from dlreport import ROOT
from dlreport.document import equations, findings, numbering, structure
from dlreport.errors import ReportError
from dlreport.facts import stats
from dlreport.facts.analysis import OVERFIT_MARGIN, PLATEAU_TOLERANCE
from dlreport.facts.stats import Estimate
from dlreport.fsutil import atomic_write_bytes

TEMPLATES = ROOT / "templates"  # the study's, searched first
BASE = Path(__file__).resolve().parent.parent / "templates"  # the engine's: what a study's do not replace


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


def _series(items: list) -> str:
    """Items as prose: "A", "A and B", "A, B and C"."""
    words = [str(i) for i in items]
    return " and ".join(filter(None, [", ".join(words[:-1]), words[-1]])) if words else ""


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


class CompiledTemplates(jinja2.BytecodeCache):
    """The templates as Jinja compiled them, kept between builds: compiling the report's
    templates costs a few tenths of a second, and an edit of one changes only its own file.
    Jinja keys each file by the template's name and checks the source's digest inside it; a
    file is written whole (`atomic_write_bytes`), and one that cannot be read back is
    compiled again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, bucket: jinja2.bccache.Bucket) -> Path:
        return self.folder / f"{bucket.key}.jinja"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            bucket.bytecode_from_string(self._path(bucket).read_bytes())
        except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):  # damaged: compiled again
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            self.folder.mkdir(exist_ok=True)
            atomic_write_bytes(self._path(bucket), bucket.bytecode_to_string())
        except OSError:  # a cache that cannot be written: the templates are compiled at every build
            pass


def _percent(share: float) -> str:
    return f"{share * 100:g} %"


# Words and thresholds the prose repeats, from where they are declared: a template writes
# `verdicts.confirmed` and `level.confidence` ("95 %"), never the word or the number itself
# (`level.plateau`: how near its best an accuracy counts as levelled off, in percentage points).
VERDICT_WORDS = SimpleNamespace(confirmed=stats.CONFIRMED, partly=stats.PARTLY, not_reproduced=stats.NOT_REPRODUCED,
                                undecided=stats.UNDECIDED)
LEVELS = SimpleNamespace(confidence=_percent(stats.CONFIDENCE), alpha=_percent(stats.ALPHA), power=_percent(stats.POWER),
                         overfit=_percent(OVERFIT_MARGIN), plateau=f"{PLATEAU_TOLERANCE * 100:g} points")


def environment(templates: Path = TEMPLATES, equation_svg: Callable[[str], str] = equations.draw,
                compiled: Path | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([templates, BASE]),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        lstrip_blocks=True,
        bytecode_cache=CompiledTemplates(compiled) if compiled is not None else None,
    )
    env.filters.update(num=_num, signed=_signed, pp=_points, steps=_steps, interval=_interval, duration=_duration, series=_series,
                       estimate=findings.estimate, region=findings.region, sweep=findings.sweep,
                       detectable=findings.detectable, key=findings.key,
                       math=lambda tex: equations.math(tex, svg_of=equation_svg),
                       display_math=lambda tex: equations.math(tex, display=True, svg_of=equation_svg))
    env.globals.update(verdicts=VERDICT_WORDS, level=LEVELS)
    return env


def check_templates(templates: Path = TEMPLATES, compiled: Path | None = None) -> None:
    """Compile every template, so that a syntax error stops the build before anything trains
    (with `compiled`, what is compiled is kept for the render)."""
    env = environment(templates, compiled=compiled)
    for name in sorted({path.name for folder in (templates, BASE) for path in folder.glob("*.j2")}):
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise ReportError(f"template {exc.name or name}:{exc.lineno}: {exc.message}") from None


def render_html(context: dict, templates: Path = TEMPLATES, equation_svg: Callable[[str], str] = equations.draw,
                compiled: Path | None = None) -> str:
    """The report as one HTML document. Equations are drawn by `equation_svg` (the build
    passes its drawing cache); `compiled`: where compiled templates are kept. Template errors
    become one-line ReportErrors."""
    try:
        env = environment(templates, equation_svg, compiled)
        document = env.get_template("report.html.j2").render(css=stylesheet(templates), **context)
    except jinja2.TemplateSyntaxError as exc:
        raise ReportError(f"template {exc.filename or exc.name}:{exc.lineno}: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        where = _template_line(exc, templates)
        raise ReportError(f"template {where + ': ' if where else 'error: '}{exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise ReportError(f"template not found: {exc.name} (in {templates} or the engine's {BASE})") from None
    except Exception as exc:  # a runtime error inside a template ({{ 1 / 0 }}, a filter given text)
        where = _template_line(exc, templates)
        if where is None:
            raise
        raise ReportError(f"template {where}: {type(exc).__name__}: {exc}") from None
    return structure.boxed_tables(numbering.number(document))


def stylesheet(templates: Path = TEMPLATES) -> str:
    """The report's CSS: the study's `report.css` where it has one, else the engine's."""
    return next(f / "report.css" for f in (templates, BASE) if (f / "report.css").is_file()).read_text(encoding="utf-8")


def _template_line(exc: BaseException, templates: Path) -> str | None:
    """`name:line` of the innermost template frame of an error, or None when no template
    was running (then it is our bug, not the template's, and keeps its traceback)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith((str(templates), str(BASE)))]
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else None
