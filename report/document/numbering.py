"""Numbers for sections, figures and tables, and the table of contents.

Done after Jinja has rendered the HTML, in one pass over the finished document, so
that templates just write `<h2 id=…>`, `<figure id=…>` or `<a class="ref" href="#…">`
and the numbers are the same in the HTML and the PDF (browsers cannot number
cross-references with CSS; WeasyPrint adds only the page numbers, in print CSS).
"""

from __future__ import annotations

import re

_HEADING = re.compile(r'<h([23]) id="([^"]+)"([^>]*)>(.*?)</h\1>', re.S)
_CAPTION = re.compile(r'<(figure|table) id="([^"]+)"(.*?)<(figcaption|caption)>', re.S)
_REF = re.compile(r'<a class="ref" href="#([^"]+)"></a>')
TOC_PLACEHOLDER = "<!--toc-->"
_KIND = {"figure": "Figure", "table": "Table"}


def number(document: str) -> str:
    """Number h2/h3 headings (1, 1.1), figure and table captions, fill refs and the TOC."""
    labels: dict[str, str] = {}
    toc: list[tuple[int, str, str, str]] = []
    counters = [0, 0]

    def heading(m: re.Match) -> str:
        level, ident, attrs, text = int(m[1]), m[2], m[3], m[4]
        if "unnumbered" in attrs:
            return m[0]
        if level == 2:
            counters[0] += 1
            counters[1] = 0
            num = str(counters[0])
        else:
            counters[1] += 1
            num = f"{counters[0]}.{counters[1]}"
        labels[ident] = f"Section {num}"
        toc.append((level, ident, num, re.sub(r"<[^>]+>", "", text)))
        return f'<h{level} id="{ident}"{attrs}><span class="secnum">{num}</span> {text}</h{level}>'

    document = _HEADING.sub(heading, document)
    seen = {"figure": 0, "table": 0}

    def caption(m: re.Match) -> str:
        kind, ident = m[1], m[2]
        seen[kind] += 1
        labels[ident] = f"{_KIND[kind]} {seen[kind]}"
        return f'<{kind} id="{ident}"{m[3]}<{m[4]}><span class="capnum">{labels[ident]}.</span> '

    document = _CAPTION.sub(caption, document)
    document = _REF.sub(lambda m: f'<a class="ref" href="#{m[1]}">{labels.get(m[1], "??")}</a>', document)
    items = "\n".join(
        f'<li class="toc-{level}"><a href="#{ident}"><span class="secnum">{num}</span> {text}</a></li>'
        for level, ident, num, text in toc
    )
    return document.replace(TOC_PLACEHOLDER, f'<ol class="toc">\n{items}\n</ol>')
