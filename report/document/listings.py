"""Highlighted code listings of the functions that ran, taken from the live source."""

from __future__ import annotations

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from report.runs import source

_FORMATTER = HtmlFormatter(cssclass="code", style="friendly")


def css() -> str:
    return _FORMATTER.get_style_defs(".code")


def function_listings(module: str, entry: str) -> list[dict[str, str]]:
    """Every function `entry` reaches in `module`, in file order, as highlighted HTML."""
    return [
        {"name": name, "module": module, "html": highlight(source.source_of(module, name), PythonLexer(), _FORMATTER)}
        for name in source.functions_of(module, entry)
    ]
