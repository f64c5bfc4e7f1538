"""Listings show the source exactly, and in print a wrapped line keeps its indentation."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest

from dlreport.document import listings

CODE = '''def f(x):
    if x:
        return some_function_with_a_long_name(x, another_argument_with_a_long_name, and_one_more_argument, and_more)

    return None
'''


def test_a_listing_holds_the_source_exactly_one_span_per_line_classed_by_its_indentation():
    html = listings.highlighted(CODE)
    assert unescape(re.sub(r"<[^>]*>", "", html)).rstrip("\n") == CODE.rstrip("\n")
    assert re.findall(r'<span class="ln (h\d+)">', html) == ["h0", "h4", "h8", "h0", "h4"]
    assert ".code .ln.h8 { padding-left: 12ch; text-indent: -12ch;" in listings.css()


def test_in_print_a_wrapped_line_continues_under_its_indentation_not_at_column_zero():
    pypdf = pytest.importorskip("pypdf")
    from dlreport.document.pdf_assembly import lay_out

    html = (f"<html><head><style>@page {{ size: A6; margin: 8mm }} .code pre {{ font: 7.6pt/1.35 'DejaVu Sans Mono'; "
            f"white-space: pre-wrap }} {listings.css()}</style></head><body>{listings.highlighted(CODE)}</body></html>")
    lines: dict[float, float] = {}  # baseline -> x of its first glyph

    def visit(text, cm, tm, *_):
        if text.strip():
            x, y = tm[4] * cm[0] + tm[5] * cm[2] + cm[4], round(tm[4] * cm[1] + tm[5] * cm[3] + cm[5], 1)
            lines[y] = min(x, lines.get(y, x))

    pypdf.PdfReader(io.BytesIO(lay_out(html))).pages[0].extract_text(visitor_text=visit)
    xs = [x for _, x in sorted(lines.items(), reverse=True)]  # top to bottom
    left, char = xs[0], (xs[1] - xs[0]) / 4  # "def" at column 0; "if" at column 4
    columns = [round((x - left) / char) for x in xs]
    assert columns[:3] == [0, 4, 8] and columns[-1] == 4  # the source's own indentation
    assert len(columns) > 5 and all(c == 12 for c in columns[3:-1])  # the return wraps, hanging at 8 + 4
