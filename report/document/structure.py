"""The document's structure, found once: its headings and captioned blocks, whatever the
order of their attributes. Numbering (`numbering`) and the PDF's cut into pieces
(`pdf_assembly`) both read it, so a heading is numbered exactly when it is known as a
heading, and a piece starts exactly where print starts a page."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"<h([1-6])((?:\s[^>]*)?)>(.*?)</h\1>", re.S)
_BLOCK = re.compile(r"<(figure|table)((?:\s[^>]*)?)>(.*?)<(figcaption|caption)((?:\s[^>]*)?)>", re.S)
_ATTRIBUTE = re.compile(r'([\w:-]+)="([^"]*)"')


def attributes(text: str) -> dict[str, str]:
    """The name="value" attributes of a start tag's text."""
    return dict(_ATTRIBUTE.findall(text))


@dataclass(frozen=True)
class Heading:
    level: int
    attrs: dict[str, str]
    text: str  # its inner HTML
    span: tuple[int, int]  # where the whole element lies in the document

    @property
    def id(self) -> str | None:
        return self.attrs.get("id")

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def starts_page(self) -> bool:
        """In print, every h2 but one of class runs-on (a short closing section: the
        references) and every h3 of class starts-page begins a page (report.css), unless the
        page before the h3 would be left more than half empty (`run_on`)."""
        return (self.level == 2 and "runs-on" not in self.classes) or (self.level == 3 and "starts-page" in self.classes)


def headings(document: str) -> list[Heading]:
    return [Heading(int(m[1]), attributes(m[2]), m[3], m.span()) for m in _HEADING.finditer(document)]


def run_on(html: str) -> str:
    """`html` with its first heading no longer starting a page in print (its `starts-page`
    class dropped): `pdf_assembly` runs a series on after a page it would leave half empty."""
    m = _HEADING.search(html)
    if m is None:
        return html
    attrs = attributes(m[2])
    classes = [c for c in attrs.pop("class", "").split() if c != "starts-page"]
    if classes:
        attrs["class"] = " ".join(classes)
    return html[: m.start(2)] + "".join(f' {k}="{v}"' for k, v in attrs.items()) + html[m.end(2):]


@dataclass(frozen=True)
class Block:
    """A figure or a table with its caption; `caption_end` is where the caption's text begins."""

    kind: str
    attrs: dict[str, str]
    span: tuple[int, int]


_TABLE = re.compile(r"<table\b.*?</table>", re.S)
LONG_TABLE_ROWS = 15  # more rows than this: a third of a page or more


def boxed_tables(document: str) -> str:
    """Each short table inside a `div.table-box`, which print keeps on one page: a short
    table split over two pages is hard to read. A long table, or a findings table (its rows
    are paragraphs), is left to break like text, with its caption, header and first two rows
    kept together (report.css): moved whole it could leave most of a page empty. The
    report's tables are never nested."""
    def box(m: re.Match) -> str:
        if "findings" in attributes(m[0][: m[0].index(">")]).get("class", "") or m[0].count("<tr") > LONG_TABLE_ROWS:
            return m[0]
        return f'<div class="table-box">{m[0]}</div>'

    return _TABLE.sub(box, document)


def captioned_blocks(document: str) -> list[Block]:
    return [Block(m[1], attributes(m[2]), m.span()) for m in _BLOCK.finditer(document)]
