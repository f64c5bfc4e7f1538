"""Highlighted code listings of the functions that ran, taken from the live source.

Each source line is a span of its own, classed by its indentation (`h8`: eight spaces).
On screen the spans are plain text and a long line scrolls inside its box; in print, where
a long line must wrap, its continuation hangs under the line's own indentation, one level
deeper and behind a ↪ marker, instead of running back to column 0 (`css`).
"""

from __future__ import annotations

import re
from html import unescape

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from dlreport.document.figure_cache import data_uri
from dlreport.runs import source

MAX_INDENT = 40  # spaces; deeper lines hang as if indented this far
LINE_HEIGHT = 1.35  # of the listing's text, in em (report.css sets the same): the marker's rows follow it
MARKER_ROWS = 12  # a source line wrapped onto more lines than this has no marker on the rest
_TAG = re.compile(r"<[^>]*>")


class _LineFormatter(HtmlFormatter):
    """Pygments' HTML, each line wrapped in a span that names its indentation."""

    def wrap(self, source):
        return super().wrap((kind, _classed(html) if kind == 1 else html) for kind, html in source)


def _classed(line: str) -> str:
    text = unescape(_TAG.sub("", line))
    indent = min(len(text) - len(text.lstrip(" ")), MAX_INDENT)
    return f'<span class="ln h{indent}">{line}</span>'  # the line's newline stays inside: no empty line between blocks


_FORMATTER = _LineFormatter(cssclass="code", style="friendly")


def _marker_column() -> str:
    """An SVG strip one em wide with a ↪ on every line but the first: the background of a
    wrapped line, it marks exactly the continuation lines, whatever their number."""
    arrows = "".join(
        f'<path d="M0.25,{y + 0.3:.2f}V{y + 0.85:.2f}H0.9M0.68,{y + 0.63:.2f}L0.9,{y + 0.85:.2f}L0.68,{y + 1.07:.2f}"/>'
        for y in (k * LINE_HEIGHT for k in range(1, MARKER_ROWS))
    )
    height = MARKER_ROWS * LINE_HEIGHT
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="{height:g}" viewBox="0 0 1 {height:g}">'
            f'<g fill="none" stroke="#7a8490" stroke-width="0.1">{arrows}</g></svg>')


def css() -> str:
    """Pygments' colours, and the print rules that hang a wrapped line under its indentation."""
    hanging = "".join(
        f".code .ln.h{n} {{ padding-left: {n + 4}ch; text-indent: -{n + 4}ch; background-position: {n + 1.5}ch 0; }}\n"
        for n in range(MAX_INDENT + 1)
    )
    return (f"{_FORMATTER.get_style_defs('.code')}\n@media print {{\n"
            f".code .ln {{ display: block; background: url({data_uri(_marker_column())}) no-repeat; "
            f"background-size: 1em {MARKER_ROWS * LINE_HEIGHT:g}em; }}\n{hanging}}}")


def highlighted(code: str) -> str:
    """Python source as highlighted HTML, a span per line (see the module's docstring)."""
    return highlight(code, PythonLexer(), _FORMATTER)


def function_listings(module: str, entry: str) -> list[dict[str, str]]:
    """Every function `entry` reaches in `module`, in file order, as highlighted HTML."""
    return [
        {"name": name, "module": module, "html": highlighted(source.source_of(module, name))}
        for name in source.functions_of(module, entry)
    ]
