"""Equations: LaTeX rendered to SVG on the server, by ziamath (pure Python, its own
STIX font), so that HTML and PDF show the very same drawing with no network, no
MathJax and no LaTeX installation.

A drawing holds no text, so each equation carries its TeX twice: as the image's
alternative text (read aloud in the HTML, and the figure's /Alt in the tagged PDF), and
as a text layer over the drawing, transparent and out of the flow (report.css), which
a reader's search finds and a copy of the surrounding text includes without changing
a pixel of the page."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import latex2mathml.converter
from markupsafe import Markup, escape

from dlreport.document.figure_cache import data_uri

SIZE = 14.0  # px per em at which equations are drawn; scaled to the text with em units
_VIEWBOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')


def draw(tex: str) -> str:
    """The equation as SVG, at SIZE px per em. ziamath is imported here, not above: a build
    takes its equations from the drawing cache, and the import alone costs a quarter second."""
    import ziamath

    return ziamath.Latex(tex, size=SIZE, inline=False).svg()


def math(tex: str, display: bool = False, svg_of: Callable[[str], str] = draw) -> Markup:
    """An <img> of the equation, sized in em so it follows the surrounding text; its TeX as
    a hidden text layer (so that a search finds it and a copy takes it along), and as
    MathML for screen readers, which read it as mathematics instead of spelling out TeX
    (on screen only: WeasyPrint would print MathML's text)."""
    svg = svg_of(tex)
    _, y, w, h = map(float, _VIEWBOX.search(svg).groups())
    style = f"width:{w / SIZE:.3f}em;height:{h / SIZE:.3f}em"
    if not display:
        style += f";vertical-align:{-(y + h) / SIZE:.3f}em"  # the depth below the baseline
    cls = "math display" if display else "math"
    # the TeX stays the image's alternative text for the tagged PDF; in the HTML a screen reader
    # skips the image (aria-hidden) and reads the MathML instead
    img = f'<img class="{cls}" style="{style}" src="{data_uri(svg)}" alt="{escape(tex)}" aria-hidden="true">'
    spoken = _mathml(tex, "block" if display else "inline")
    return Markup(f'<span class="math-wrap">{img}<span class="math-text" aria-hidden="true">{escape(tex)}</span>'
                  f'<span class="math-spoken">{spoken}</span></span>')


@functools.cache
def _mathml(tex: str, display: str) -> str:
    """An equation as MathML, made once per process (the live preview renders again and again)."""
    return latex2mathml.converter.convert(tex, display=display)
