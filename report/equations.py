"""Equations: LaTeX rendered to SVG on the server, by ziamath (pure Python, its own
STIX font), so that HTML and PDF show the very same drawing with no network, no
MathJax and no LaTeX installation."""

from __future__ import annotations

import re
from functools import cache

import ziamath
from markupsafe import Markup, escape

from report.figure_cache import data_uri

SIZE = 14.0  # px per em at which equations are drawn; scaled to the text with em units
_VIEWBOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')


@cache
def _svg(tex: str) -> tuple[str, float, float, float]:
    """(svg, width, height, depth below the baseline), in px at SIZE."""
    svg = ziamath.Latex(tex, size=SIZE, inline=False).svg()
    _, y, w, h = map(float, _VIEWBOX.search(svg).groups())
    return svg, w, h, y + h


def math(tex: str, display: bool = False) -> Markup:
    """An <img> of the equation, sized in em so it follows the surrounding text."""
    svg, w, h, depth = _svg(tex)
    uri = data_uri(svg)
    style = f"width:{w / SIZE:.3f}em;height:{h / SIZE:.3f}em"
    if not display:
        style += f";vertical-align:{-depth / SIZE:.3f}em"
    cls = "math display" if display else "math"
    return Markup(f'<img class="{cls}" style="{style}" src="{uri}" alt="{escape(tex)}">')
