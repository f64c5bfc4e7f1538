"""The PDF, laid out a piece at a time (a section, or a series of runs within one), each
piece's PDF cached on disk.

Laying out the whole report in WeasyPrint takes over ten seconds, and an edit of the prose
touches one piece. In print the title page, the contents, every `h2` and every `h3` of
class `starts-page` start a page, so each such piece laid out on its own breaks its lines
and pages exactly as it would inside the whole document: given its HTML and the number of
its first page, its PDF is fixed. Each piece is therefore cached under a key of exactly
that, and a rebuild lays out only the pieces whose HTML changed, plus those after a piece
whose page count changed. The pieces are then joined into one PDF (with pikepdf) with the
document's named destinations (so links between pieces work), outline and metadata.

A series' forced page break is worth its white space only when the page before it is
full enough: a piece whose last page is more than half empty and is followed by a series
(not by a section, which always starts a page) is laid out again with that series run on
after it (`structure.run_on`). Each piece's PDF says how full its last page is
(`LAST_PAGE_FILL`), so the decision costs no extra layout once the pieces are cached.

Four things do not survive the cut and are rebuilt here: the contents' page numbers
(`target-counter` cannot see another document's pages; they are written into the contents
as `data-page` attributes, read off the pieces' PDFs, until they stop changing); links to
another piece (WeasyPrint drops a link whose target it cannot see, so each piece carries
empty stand-ins for the targets it links to, inside its first heading, which the join
then ignores); for a piece that starts inside a section, the section's name in the
page header (set by the section's `h2` on an earlier page, so it is set again here); and
the structure tree that makes the PDF a tagged one (headings, paragraphs, tables, figures
with their alternative text, links), which WeasyPrint writes for each piece and the join
makes one (`pdf_structure`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import subprocess
import warnings
from dataclasses import dataclass
from functools import cached_property
from html import unescape
from importlib.metadata import version
from pathlib import Path

from dlreport import console, interrupts
from dlreport.document import pdf_structure, structure
from dlreport.document.render import TEMPLATES
from dlreport.document.workers import Workers
from dlreport.errors import ReportError
from dlreport.fsutil import KeptFiles, atomic_write_text

log = logging.getLogger(__name__)

NAV_START = '<nav class="contents">'
HEADING = re.compile(r"<h([1-6])[^>]*>(.*?)</h\1>", re.S)
ID = re.compile(r'\bid="([^"]+)"')
FIRST_HEADING = re.compile(r"<h[1-6][^>]*>")
INTERNAL_LINK = re.compile(r'href="#([^"]+)"')
METADATA = re.compile(r'<meta name="[^"]*"[^>]*>\n?|<title>.*?</title>\n?', re.S)
CONTENTS = re.compile(r'<ol class="toc">.*?</ol>', re.S)
CONTENTS_LINK = re.compile(r'<a href="#([^"]+)"')
IMG = re.compile(r"<img\b")
LAST_PAGE_FILL = "DLReportLastPageFill"  # in each piece's document information: the share of its last page used
PAGES, IMAGES = "DLReportPages", "DLReportImages"  # … and how many pages and images the layout made
OWN_INFO = {f"/{k}" for k in (LAST_PAGE_FILL, PAGES, IMAGES, pdf_structure.OUTSIDE)}
HALF = 0.5
PIECE_FORMAT = 5  # of the cached piece PDFs: 3 say their pages and images (a reused one is checked); 5 come tidied
GUESSES = "guesses.json"  # in the pieces' folder: each piece's pages and fill last seen (`PieceCache.guess`)
CONTENTS_PAGES = "contents-pages.json"  # in the pieces' folder: the page of each heading, as the last render numbered it
FROZEN_GUESSES = "layout-guesses.json"  # the same, kept in the frozen store by `freeze`, for a fresh clone's first render


@dataclass
class Piece:
    """A part of the body laid out as a document of its own."""

    body: str
    ids: set[str]
    links: set[str]
    level: int  # of its first heading: 1 the title, 2 a section, 3 a subsection that starts a page
    heading: str  # the text of its first heading, as `content()` gives it to the print CSS
    part: str = ""  # a subsection's: its section's heading, which the print CSS runs in the page header
    runs_on: int = 0  # how many series continue on its pages (`run_on`)

    @classmethod
    def of(cls, body: str) -> Piece:
        heading = HEADING.search(body)
        level, text = (int(heading[1]), heading[2]) if heading else (2, "")
        return cls(body, set(ID.findall(body)), set(INTERNAL_LINK.findall(body)), level,
                   " ".join(unescape(re.sub(r"<[^>]*>", "", text)).split()))

    def run_on(self, series: Piece) -> Piece:
        """This piece with the series after it continuing on its last page."""
        return Piece(self.body + structure.run_on(series.body), self.ids | series.ids, self.links | series.links,
                     self.level, self.heading, self.part, self.runs_on + 1 + series.runs_on)


def split(document: str) -> tuple[str, list[Piece]]:
    """The document's head, and its body cut into the first page (the title and the
    contents, which print sets on one page), each top-level section and each subsection
    that print starts on a page of its own. The first page is apart so that a new build id
    or a changed page number costs the layout of one page; subsections are apart so that an
    edit of a long section lays out a few pages."""
    head, _, rest = document.partition("<body>")
    body = rest.rpartition("</body>")[0] if "</body>" in rest else rest
    title, nav_start, rest = body.partition(NAV_START)
    contents, nav_end, sections = rest.partition("</nav>")
    if not nav_start:
        title, contents, sections = "", "", body
    cuts = [h.span[0] for h in structure.headings(sections) if h.starts_page]
    first, *others = [sections[a:b] for a, b in zip([0, *cuts], [*cuts, len(sections)])]
    pieces = [Piece.of(text) for text in (title + nav_start + contents + nav_end + first, *others) if text.strip()]
    part = ""
    for piece in pieces:
        if piece.level == 2:  # `h2 { string-set: part content() }`
            part = piece.heading
        elif piece.level > 2:
            piece.part = part
    return head, pieces


def piece_html(head: str, piece: Piece, first_page: int, pages: dict[str, int], everywhere: set[str]) -> str:
    """A piece as a document: the report's head, page numbering from `first_page`, the
    contents' page numbers filled in, stand-ins for the targets of links leaving it, and
    for a subsection the page header its section set on an earlier page."""
    body = CONTENTS.sub(lambda toc: CONTENTS_LINK.sub(
        lambda m: f'<a href="#{m[1]}" data-page="{pages.get(m[1], "")}"', toc[0]), piece.body)
    stand_ins = "".join(f'<span id="{name}"></span>' for name in sorted((piece.links - piece.ids) & everywhere))
    body = FIRST_HEADING.sub(lambda m: m[0] + stand_ins, body, count=1)  # in a heading: no box, no page of their own
    style = f"@page :first {{ counter-reset: page {first_page} }}"
    if piece.part:
        quoted = piece.part.replace("\\", "\\\\").replace('"', '\\"')
        style += f' body > :first-child {{ string-set: part "{quoted}" }}'  # the subsection's heading
    return f"{head}<style>{style}</style>\n<body>{body}</body></html>"


class PieceCache(KeptFiles):
    """PDFs of laid-out pieces, under a key of their full HTML and the layout software; and
    the page count last seen for each piece's heading, kept to guess where the pieces after
    a changed one start (`guesses.json`: a wrong guess costs a layout, never a wrong page)."""

    def __init__(self, root: Path, hints: Path | None = None) -> None:
        super().__init__(root, ".pdf", "laid-out piece")
        self.hints = hints  # guesses to start from when this cache has none (a fresh clone's: `frozen/`)
        self._guesses: dict[str, list] | None = None
        self._guessed = False
        self._met: set[str] = set()  # the names of the pieces this render met

    @cached_property
    def salt(self) -> bytes:
        """What keys every piece besides its HTML: the layout software and the installed fonts
        (listed when a piece is first looked up: a preview, which lays out nothing, never asks)."""
        return (f"piece format {PIECE_FORMAT} weasyprint {version('weasyprint')} pydyf {version('pydyf')}\n"
                f"{installed_fonts()}").encode()

    def _key(self, html: str) -> str:
        return hashlib.sha256(self.salt + html.encode()).hexdigest()

    def pdf(self, html: str) -> bytes:
        return self.kept(self._key(html), lambda: lay_out(html))

    def cached(self, html: str) -> bytes | None:
        return self.found(self._key(html))

    def store(self, html: str, data: bytes) -> None:
        self.keep(self._key(html), data)

    @property
    def guesses(self) -> dict[str, list]:
        if self._guesses is None:
            self._guesses = {}
            for path in (self.root / GUESSES, self.hints):
                try:
                    loaded = json.loads(path.read_text(encoding="utf-8"))
                    self._guesses = {k: [int(v[0]), float(v[1])] for k, v in loaded.items()}
                    break
                except (OSError, ValueError, TypeError, IndexError, AttributeError):
                    continue
        return self._guesses

    @staticmethod
    def _names(piece: Piece) -> tuple[str, str]:
        """A piece's own name (its body's digest) and the name it shares with the versions of
        it an edit makes (its heading)."""
        return (f"body {hashlib.sha256(piece.body.encode()).hexdigest()[:16]}",
                f"heading {piece.level} {piece.runs_on} {piece.heading}")

    def guess(self, piece: Piece) -> tuple[int, float] | None:
        """The page count and last-page fill seen last for this piece (or for its heading)."""
        self._met.update(self._names(piece))
        return next((tuple(self.guesses[n]) for n in self._names(piece) if n in self.guesses), None)

    def remember(self, piece: Piece, pages: int, fill: float) -> None:
        self._met.update(self._names(piece))
        for name in self._names(piece):
            if self.guesses.get(name) != [pages, round(fill, 4)]:
                self.guesses[name] = [pages, round(fill, 4)]
                self._guessed = True

    @cached_property
    def last_pages(self) -> dict[str, int]:
        """The page of each heading in the last render: the first page's contents are numbered
        with them before anything is laid out, so that an edit which moves no page lays the
        first page out once, beside the edited piece, not again once the numbers are known."""
        try:
            loaded = json.loads((self.root / CONTENTS_PAGES).read_text(encoding="utf-8"))
            return {str(k): int(v) for k, v in loaded.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            return {}

    def save_pages(self, pages: dict[str, int]) -> None:
        if pages != self.last_pages:
            self.last_pages = pages  # the next render with this cache starts from them too
            try:
                atomic_write_text(self.root / CONTENTS_PAGES, json.dumps(pages, sort_keys=True))
            except OSError:
                pass  # the numbers only save a layout

    def save_guesses(self) -> None:
        """Keep the guesses of the pieces this render met, merged or not (those of others are dropped)."""
        if self._guessed or set(self.guesses) - self._met:
            try:
                atomic_write_text(self.root / GUESSES, json.dumps({k: v for k, v in self.guesses.items() if k in self._met},
                                                                 sort_keys=True))
                self._guessed = False
            except OSError:
                pass  # guesses only save time


def installed_fonts() -> str:
    """The fonts fontconfig offers (file, size, modification time): an upgraded or added font
    can change where lines and pages break, so it must not meet pieces laid out before it."""
    try:
        listing = subprocess.run(["fc-list", "--format", "%{file}\n"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        log.warning("fonts not listed (%s): laid-out pieces are not keyed by them", exc)
        return ""
    files = sorted({Path(line) for line in listing.splitlines() if line})
    return "\n".join(f"{f} {f.stat().st_size} {f.stat().st_mtime_ns}" for f in files if f.is_file())


def lay_out(html: str) -> bytes:
    """One document through WeasyPrint, with the print rules of its CSS, as a tagged PDF;
    its information dictionary says how full its last page is (`LAST_PAGE_FILL`) and how many
    pages and images it holds (`whole` checks them when the piece is reused).

    WeasyPrint goes on when an image cannot be loaded or drawn (it logs an error and leaves
    the image out), and its SVG drawing swallows even an interrupt. A piece is a product the
    cache keeps and the report publishes, so here any such error fails the layout, and so
    does an interrupt that arrived while it ran (`interrupts.check`)."""
    for name in ("weasyprint", "weasyprint.progress", "fontTools"):  # it starts talking on import
        logging.getLogger(name).setLevel(logging.ERROR)
    import weasyprint

    with _font_timestamps_fixed(), _failures_of("weasyprint") as errors:
        document = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).render()
        document.metadata.custom = {LAST_PAGE_FILL: f"{last_page_fill(document.pages[-1]):.4f}",
                                    PAGES: str(len(document.pages)), IMAGES: str(images_laid_out(document))}
        data = document.write_pdf(custom_metadata=True, pdf_tags=True)
    interrupts.check()
    if errors:
        raise ReportError(f"the PDF could not be laid out whole: {errors[0]}")
    return pdf_structure.tidy(data)


def images_laid_out(document) -> int:
    """The images (replaced boxes) on a laid-out document's pages: an image WeasyPrint could
    not load is replaced by its alternative text, and is not counted."""
    from weasyprint.formatting_structure import boxes

    def count(box) -> int:
        return isinstance(box, boxes.ReplacedBox) + sum(count(child) for child in getattr(box, "children", None) or ())

    return sum(count(page._page_box) for page in document.pages)


@contextlib.contextmanager
def _failures_of(logger_name: str):
    """The messages of a library's failures to load or draw a resource while the block runs
    (WeasyPrint logs them as errors that begin "Failed to": an image, an SVG, a stylesheet)."""
    found: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("Failed to"):
                found.append(record.getMessage())

    handler = Collect(logging.ERROR)
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield found
    finally:
        logger.removeHandler(handler)


def last_page_fill(page) -> float:
    """The share of a laid-out page's content height that its content takes (the root box
    ends where the last line or block does; on every page but the last it fills the page)."""
    box = page._page_box  # WeasyPrint (pinned, and part of the piece cache's key) exposes no public layout tree
    root = box.children[0]
    return (root.position_y + root.margin_height() - box.content_box_y()) / box.height


@contextlib.contextmanager
def _font_timestamps_fixed():
    """fontTools stamps each embedded font subset with the current second (or with
    SOURCE_DATE_EPOCH), so the same piece laid out at two times would differ by its stamp.
    The stamp means nothing inside a PDF (its date comes from the HTML's metadata): pin it
    to 0 while laying out, so that a piece's bytes depend on its HTML alone."""
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = "0"
    try:
        yield
    finally:
        if saved is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = saved


@dataclass
class LaidOut:
    """A piece's PDF, read once: its pages, and where each of the piece's own ids landed
    (page index within the piece, and the destination array; stand-ins left out)."""

    pdf: object  # pikepdf.Pdf
    page_index: dict[tuple[int, int], int]  # a page object's number -> its index in the piece
    anchors: dict[str, tuple[int, object]]
    level: int  # the piece's: where its outline entries nest
    fill: float  # the share of its last page used
    problem: str | None = None  # why it is not the whole layout of its HTML (None: it is)

    @classmethod
    def read(cls, data: bytes, piece: Piece, html: str) -> LaidOut:
        """Read a piece's PDF and check it is whole: the pages its layout counted, and an
        image for every image of its HTML (a cached piece is checked before it is reused)."""
        import pikepdf

        pdf = pikepdf.open(io.BytesIO(data))
        index = {page.obj.objgen: i for i, page in enumerate(pdf.pages)}
        names = pdf.Root.get("/Names", {}).get("/Dests")
        anchors = {name: (index[dest[0].objgen], dest)
                   for name, dest in (pikepdf.NameTree(names).items() if names is not None else ()) if name in piece.ids}
        info = pdf.docinfo
        counted, images = int(str(info.get(f"/{PAGES}", -1))), int(str(info.get(f"/{IMAGES}", -1)))
        problem = (f"{len(pdf.pages)} pages where its layout made {counted}" if len(pdf.pages) != counted else
                   f"{images} images laid out of the {len(IMG.findall(html))} in its HTML"
                   if images != len(IMG.findall(html)) else None)
        return cls(pdf, index, anchors, piece.level, float(str(info.get(f"/{LAST_PAGE_FILL}", 1))), problem)


def measure(html: str) -> tuple[int, float]:
    """How many pages a piece's layout takes, and how full its last page is, without drawing
    it (a fifth of a layout's cost): enough to place the pieces after it."""
    for name in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import weasyprint

    document = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).render()
    return len(document.pages), last_page_fill(document.pages[-1])


def render_pdf(document: str, cache: PieceCache, workers: Workers | None = None) -> bytes:
    """The report's PDF: its pieces laid out (or taken from the cache) and joined, a series
    run on after a piece whose last page it would otherwise leave more than half empty.

    Where each piece starts depends on the pages of those before it, and the contents list
    every page: the pieces are placed in passes until nothing moves. A pass that meets a
    piece it does not have laid out goes on, on a copy of the pieces, with a guess of that
    piece's pages and last-page fill (those seen last for it or its heading, or measured
    without drawing), and lays out all such pieces at once, in the `workers`; the next pass
    places them for real. A wrong guess costs a layout, never a wrong page: the pass that
    ends it places laid-out pieces only, as laying them out one at a time would."""
    workers = workers or Workers(1)
    head, pieces = split(document)
    # the PDF's metadata (title, build id, date) comes from the first piece alone: the others
    # go without, so that a new build id does not make every section a new layout
    heads = [head, METADATA.sub("", head)]
    everywhere = set().union(*(p.ids for p in pieces))
    parsed: dict[str, LaidOut] = {}  # a piece unchanged between passes is read once
    pages = cache.last_pages  # a guess: a pass that finds other numbers places the pieces again
    for _ in range(4 + 2 * len(pieces)):  # settles in two or three passes once every piece is laid out
        laid_out, found, missing, first_page, i = [], {}, [], 1, 0
        placed = pieces  # the pieces themselves until a guess is made, then a copy: guesses merge nothing for good
        while i < len(placed):
            html = piece_html(heads[min(i, 1)], placed[i], first_page, pages, everywhere)
            laid = parsed.get(html) or _cached(cache, html, placed[i], parsed)
            if laid is None:
                if placed is pieces:
                    placed = list(pieces)
                missing.append((html, placed[i]))
                count, fill = cache.guess(placed[i]) or (1, 1.0)
            else:
                count, fill = len(laid.pdf.pages), laid.fill
                cache.remember(placed[i], count, fill)
            if fill < HALF and i + 1 < len(placed) and placed[i + 1].level > 2:
                placed[i: i + 2] = [placed[i].run_on(placed[i + 1])]
                continue
            if laid is not None and placed is pieces:
                laid_out.append(laid)
                found.update({name: first_page + index for name, (index, _) in laid.anchors.items()})
            first_page += count
            i += 1
        if missing:
            _lay_out(missing, cache, workers, parsed)
        elif found == pages:
            cache.save_guesses()
            cache.save_pages(pages)
            return _join(laid_out)
        else:
            pages = found
    raise ReportError("the PDF's contents page numbers do not settle: each pass moves a page break")


def _cached(cache: PieceCache, html: str, piece: Piece, parsed: dict[str, LaidOut]) -> LaidOut | None:
    """A piece laid out by an earlier build, when it is whole (a damaged one is laid out again)."""
    data = cache.cached(html)
    if data is None:
        return None
    laid = LaidOut.read(data, piece, html)
    if laid.problem is not None:
        log.warning("damaged cache entry for a PDF piece (%s): laid out again", laid.problem)
        return None
    parsed[html] = laid
    return laid


def _lay_out(missing: list[tuple[str, Piece]], cache: PieceCache, workers: Workers, parsed: dict[str, LaidOut]) -> None:
    """Lay out the pieces a pass met without a layout, all at once. Pieces with nothing to
    guess their pages from are first measured (cheaply, also at once) when there are
    several: placed after a guess of one full page, most pieces after them would be laid out
    twice."""
    unknown = [(html, piece) for html, piece in missing if cache.guess(piece) is None]
    if len(unknown) > 1:
        log.info("measuring %d PDF pieces", len(unknown))
        with console.counted("measuring PDF pieces", len(unknown)) as done:
            measured = workers.map(measure, [html for html, _ in unknown], done)
        for (_, piece), (count, fill) in zip(unknown, measured):
            cache.remember(piece, count, fill)
        return  # placed again with what was measured: the next pass lays out what it still misses
    log.info("laying out %d PDF piece%s", len(missing), "s" * (len(missing) > 1))
    with console.counted("laying out PDF pieces", len(missing)) as done:
        made = workers.map(lay_out, [html for html, _ in missing], done)
    for (html, piece), data in zip(missing, made):
        cache.store(html, data)
        parsed[html] = LaidOut.read(data, piece, html)


def _join(pieces: list[LaidOut]) -> bytes:
    """One PDF: every page, the named destinations of each piece's own ids, the outline
    (the report title as its root, as WeasyPrint nests it for the whole document), and the
    first piece's metadata and catalogue entries (such as the document's language)."""
    import pikepdf

    out = pikepdf.new()
    offsets = []
    with warnings.catch_warnings():  # that extend() leaves the named destinations out: they are set below
        warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
        for piece in pieces:
            offsets.append(len(out.pages))
            out.pages.extend(piece.pdf.pages)
    destinations = pikepdf.NameTree.new(out)
    for piece, offset in zip(pieces, offsets):
        for name, (index, dest) in piece.anchors.items():
            destinations[name] = pikepdf.Array([out.pages[offset + index].obj, *dest[1:]])
    out.Root.Names = pikepdf.Dictionary(Dests=destinations.obj)
    pdf_structure.join(out, [piece.pdf for piece in pieces], offsets)

    def copy(items: list, piece: LaidOut, offset: int, into: list) -> None:
        for item in items:
            dest = item.destination
            entry = pikepdf.OutlineItem(item.title, offset + piece.page_index[dest[0].objgen], "XYZ",
                                        left=float(dest[2]), top=float(dest[3]))
            copy(item.children, piece, offset, entry.children)
            into.append(entry)

    with out.open_outline() as outline:
        parents: dict[int, object] = {}  # heading level -> the latest outline entry of that level
        for piece, offset in zip(pieces, offsets):
            parent = next((parents[level] for level in range(piece.level - 1, 0, -1) if level in parents), None)
            into = parent.children if parent is not None else outline.root
            before = len(into)
            with piece.pdf.open_outline() as own:
                copy(own.root, piece, offset, into)
            if len(into) > before:
                parents = {level: item for level, item in parents.items() if level < piece.level}
                parents[piece.level] = into[-1]
    first = pieces[0].pdf
    for key, value in first.docinfo.items():
        if key not in OWN_INFO:  # what the pieces say of themselves stays out of the report
            out.docinfo[key] = value
    for key, value in first.Root.items():  # the document's language and the like
        if key not in out.Root:
            out.Root[key] = pdf_structure.copied(out, value)
    buffer = io.BytesIO()
    # the structure tree is thousands of small dictionaries: packed into compressed object streams they take a third
    out.save(buffer, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return buffer.getvalue()

