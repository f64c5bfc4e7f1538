"""Numbers for sections, figures and tables, and the table of contents.

Done after Jinja has rendered the HTML, in one pass over the finished document, so
that templates just write `<h2 id=…>`, `<figure id=…>` or `<a class="ref" href="#…">`
and the numbers are the same in the HTML and the PDF (browsers cannot number
cross-references with CSS; WeasyPrint adds only the page numbers, in print CSS).
Headings and captioned blocks are found by `structure`, attributes in any order.
"""

from __future__ import annotations

import re

from dlreport.document import structure

_REF = re.compile(r'<a\s+class="ref"\s+href="#([^"]+)"></a>')  # wherever the template breaks its line
TOC_PLACEHOLDER = "<!--toc-->"
_KIND = {"figure": "Figure", "table": "Table"}


def _spliced(document: str, edits: list[tuple[int, int, str]]) -> str:
    """The document with each (start, end) span replaced, edits given in document order."""
    out, at = [], 0
    for start, end, text in edits:
        out += [document[at:start], text]
        at = end
    return "".join([*out, document[at:]])


def number(document: str) -> str:
    """Number h2/h3 headings (1, 1.1; appendices A, A.1), figure and table captions, fill refs and the TOC."""
    labels: dict[str, str] = {}
    toc: list[tuple[int, str, str, str]] = []
    counters, appendices, chapter = [0, 0], 0, ""
    edits = []
    for h in structure.headings(document):
        if h.level not in (2, 3) or h.id is None or "unnumbered" in h.classes:
            continue
        appendix = h.level == 2 and "appendix" in h.classes
        if appendix:  # appendices are lettered: A, A.1, …
            appendices, counters[1] = appendices + 1, 0
            chapter = num = chr(ord("A") + appendices - 1)
        elif h.level == 2:
            counters[0], counters[1] = counters[0] + 1, 0
            chapter = num = str(counters[0])
        else:
            counters[1] += 1
            num = f"{chapter}.{counters[1]}"
        labels[h.id] = f"{'Appendix' if appendix else 'Section'} {num}"
        toc.append((h.level, h.id, num, re.sub(r"<[^>]+>", "", h.text)))
        start = document.index(">", h.span[0]) + 1
        edits.append((start, start, f'<span class="secnum">{num}</span> '))
    document = _spliced(document, edits)

    seen = {"figure": 0, "table": 0}
    edits = []
    for block in structure.captioned_blocks(document):
        if "id" not in block.attrs:
            continue
        seen[block.kind] += 1
        labels[block.attrs["id"]] = f"{_KIND[block.kind]} {seen[block.kind]}"
        edits.append((block.span[1], block.span[1], f'<span class="capnum">{labels[block.attrs["id"]]}.</span> '))
    document = _spliced(document, edits)

    document = _REF.sub(lambda m: f'<a class="ref" href="#{m[1]}">{labels.get(m[1], "??")}</a>', document)
    return document.replace(TOC_PLACEHOLDER, _contents(toc))


def _contents(toc: list[tuple[int, str, str, str]]) -> str:
    """The table of contents as two lists, cut at the chapter nearest its middle: print sets
    them side by side under the title (two boxes lay out in a fraction of the time CSS
    columns take), a screen one under the other, reading as one list."""
    starts = [i for i, (level, *_) in enumerate(toc) if level == 2 and i > 0]
    cut = min(starts, key=lambda i: abs(2 * i - len(toc)), default=len(toc))
    lists = []
    for entries in (toc[:cut], toc[cut:]):
        if entries:
            items = "\n".join(f'<li class="toc-{level}"><a href="#{ident}"><span class="secnum">{num}</span> {text}</a></li>'
                              for level, ident, num, text in entries)
            lists.append(f'<ol class="toc">\n{items}\n</ol>')
    return f'<div class="toc-columns">{"".join(lists)}</div>'
