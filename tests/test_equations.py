"""An equation's TeX is text a reader can find in the PDF, and it changes nothing on the page;
a screen reader gets it as MathML (in the HTML only: the PDF prints none of it)."""

from __future__ import annotations

import io
import re

import pytest

from dlreport.document import equations
from dlreport.document.render import stylesheet

INLINE = r"\mu_\mathcal{B} = \frac{1}{m} \sum_{i=1}^{m} x_i"
DISPLAY = r"y = \gamma \, \frac{x - \hat\mu}{\sqrt{\hat\sigma^2 + \epsilon}} + \beta"
TEXT_LAYER = re.compile(r'<span class="math-text"[^>]*>.*?</span>(?=<span class="math-spoken">)', re.S)


def page(text_layer: bool) -> str:
    inline, display = equations.math(INLINE), equations.math(DISPLAY, display=True)
    body = (f"<p>The mean {inline} of the batch, in a paragraph long enough to be justified over more than one line of"
            f" text.</p><div class='equation'>{display}<span class='eqnum'>(1)</span></div><p>After it.</p>")
    if not text_layer:
        body = TEXT_LAYER.sub("", body)
    return f"<html><head><style>{stylesheet()}</style></head><body>{body}</body></html>"


def test_the_tex_is_a_hidden_text_layer_and_screen_readers_get_mathml():
    html = str(equations.math(INLINE))
    assert re.search(r'<span class="math-text" aria-hidden="true">\\mu_\\mathcal\{B\} = ', html)
    assert f'alt="{INLINE}" aria-hidden="true"' in html.replace("&amp;", "&")  # the PDF's alt text; not read out in HTML
    spoken = re.search(r'<span class="math-spoken">(<math .*</math>)</span></span>$', html).group(1)
    assert 'display="inline"' in spoken and "<msub><mi>&#x003BC;</mi>" in spoken  # μ with its subscript, as MathML
    assert "<mfrac>" in spoken and "&#x02211;" in spoken  # the fraction and the sum
    assert 'display="block"' in str(equations.math(DISPLAY, display=True))


def test_the_text_layer_is_found_in_the_pdf_and_moves_nothing_else():
    pypdf = pytest.importorskip("pypdf")
    from dlreport.document.pdf_assembly import lay_out

    def drawn(html: str) -> tuple[str, list]:
        runs: list = []

        def visit(text, cm, tm, *_):
            if text.strip() and "\\" not in text:  # every run but the TeX, and where it was drawn
                runs.append((text, tuple(cm), tuple(tm)))

        return pypdf.PdfReader(io.BytesIO(lay_out(html))).pages[0].extract_text(visitor_text=visit), runs

    with_layer, without = drawn(page(True)), drawn(page(False))
    assert INLINE in with_layer[0] and DISPLAY in with_layer[0] and INLINE not in without[0]
    assert "∑" not in with_layer[0] and "γ" not in with_layer[0]  # the MathML for screen readers is not printed
    assert with_layer[1] == without[1]
