"""The PDF laid out piece by piece reads exactly as the whole document laid out at once,
and a rebuild lays out only what an edit touched."""

from __future__ import annotations

import io
import os
import shutil
import signal

import pytest

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("weasyprint")

from dlreport.document import pdf_assembly  # noqa: E402

CSS = """@page { size: A6; margin: 12mm; @bottom-center { content: counter(page); } @top-right { content: string(part); } }
@page title { @bottom-center { content: none; } }
.title-page { page: title; break-after: page; }
h2 { break-before: page; string-set: part content(); }
h3.starts-page { break-before: page; }
ol.toc a::after { content: leader('.') attr(data-page); }"""


def document(beta_paragraphs: int = 1, beta_word: str = "filler", gamma_paragraphs: int = 5) -> str:
    """Title page, contents, three sections that link to one another, and a subsection
    that starts a page (with its section's name in the page header) when Gamma's page is
    more than half full."""
    beta = "".join(f"<p>{beta_word} paragraph {i}.</p>" for i in range(beta_paragraphs))
    gamma = "".join(f"<p>Gamma paragraph {i}.</p>" for i in range(gamma_paragraphs))
    return f"""<!DOCTYPE html><html lang="en"><head><title>Tiny report</title><style>{CSS}</style></head><body>
<section class="title-page"><h1>Tiny report</h1></section>
<nav class="contents">
<h2 id="contents">Contents</h2>
<ol class="toc"><li><a href="#alpha">Alpha</a></li><li><a href="#beta">Beta</a></li><li><a href="#gamma">Gamma</a></li>
<li><a href="#gamma-more">More on gamma</a></li></ol>
</nav>
<h2 id="alpha">Alpha</h2>
<p>Forward to <a href="#gamma-more">more on gamma</a>.</p>
<h2 id="beta">Beta</h2>
{beta}
<h2 id="gamma">Gamma</h2>
<p>Back to <a href="#alpha">alpha</a>.</p>
<h3 id="gamma-even-more">Even more on gamma</h3>
<p>Still in &ldquo;Gamma&rdquo;.</p>
{gamma}
<h3 id="gamma-more" class="starts-page">More on gamma</h3>
<p>The end.</p>
</body></html>"""


def whole(doc: str) -> bytes:
    """The reference: the whole document in one WeasyPrint pass, contents numbered by CSS."""
    return pdf_assembly.lay_out(doc.replace("attr(data-page)", "target-counter(attr(href), page)"))


def reading(pdf: bytes) -> dict:
    """What a reader meets: each page's text, where each link lands, the outline."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    dests = {name: reader.get_destination_page_number(d) for name, d in reader.named_destinations.items()}
    links = [(i, dests[str(a.get_object()["/Dest"])]) for i, page in enumerate(reader.pages)
             for a in page.get("/Annots", []) if "/Dest" in a.get_object()]

    def outline(items: list, depth: int = 0) -> list:
        return [row for item in items for row in (
            outline(item, depth + 1) if isinstance(item, list)
            else [(depth, item.title, reader.get_destination_page_number(item))])]

    return {"pages": [p.extract_text() for p in reader.pages], "links": links, "outline": outline(reader.outline),
            "title": reader.metadata.get("/Title"), "lang": reader.trailer["/Root"].get("/Lang"), **tags(reader)}


def tags(reader) -> dict:
    """What assistive software meets: the structure tree (each element's depth, type, page and
    alternative text, each marked-content id with its page), and, through the parent tree,
    the element each page's marked content and each link belongs to."""
    root = reader.trailer["/Root"]
    page_of = {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages)}
    elements: list = []

    def walk(node, depth: int, page: int | None) -> None:
        node = node.get_object()
        if isinstance(node, int):
            elements.append((depth, "MCID", node, page))
            return
        if isinstance(node, list):
            for child in node:
                walk(child, depth, page)
            return
        if node.get("/Type") == "/OBJR":
            elements.append((depth, "OBJR", page_of[node.raw_get("/Pg").idnum] if "/Pg" in node else page))
            return
        if "/Pg" in node:
            page = page_of[node.raw_get("/Pg").idnum]
        elements.append((depth, node.get("/S"), page, node.get("/Alt")))
        if "/K" in node:
            walk(node["/K"], depth + 1, page)

    tree = root["/StructTreeRoot"]
    walk(tree["/K"], 0, None)
    nums = tree["/ParentTree"]["/Nums"]
    parents = {nums[i]: nums[i + 1].get_object() for i in range(0, len(nums), 2)}

    def kinds(entry) -> list:
        return [e.get_object().get("/S") for e in entry] if isinstance(entry, list) else [entry.get("/S")]

    marked = [(i, kinds(parents[p["/StructParents"]])) for i, p in enumerate(reader.pages) if "/StructParents" in p]
    linked = [(i, kinds(parents[a.get_object()["/StructParent"]])) for i, p in enumerate(reader.pages)
              for a in p.get("/Annots", []) if "/StructParent" in a.get_object()]
    return {"marked": root["/MarkInfo"]["/Marked"], "structure": elements, "marked_content": marked, "linked": linked}


@pytest.mark.parametrize("beta_paragraphs", [1, 40])  # Beta on one page, or on several
def test_pieces_join_into_what_the_whole_document_gives(tmp_path, beta_paragraphs):
    doc = document(beta_paragraphs)
    joined, reference = reading(pdf_assembly.render_pdf(doc, pdf_assembly.PieceCache(tmp_path))), reading(whole(doc))
    assert joined == reference
    # and the reference says what we mean: numbered pages, numbers in the contents, links across sections
    pages = joined["pages"]
    gamma = next(i for i, text in enumerate(pages) if text.startswith("Gamma"))
    assert (gamma > 4) == (beta_paragraphs > 1)  # title, contents, Alpha, Beta: page 5 unless Beta grew
    assert pages[gamma].rstrip().endswith(str(gamma + 1)) and not pages[0].rstrip()[-1].isdigit()
    assert f"Gamma{'.' * 3}" in pages[1].replace(" ", "") and pages[1].split("Gamma")[1].split("\n")[0].endswith(
        str(gamma + 1))
    assert (2, gamma + 1) in joined["links"] and (gamma, 2) in joined["links"]
    assert joined["outline"][0] == (0, "Tiny report", 0) and (1, "Gamma", gamma) in joined["outline"]
    # the subsection that starts a page: a piece of its own, under its section in the outline and the header
    assert joined["outline"][-1] == (2, "More on gamma", gamma + 1) and "\nGamma\n" in pages[gamma + 1]
    assert joined["title"] == "Tiny report" and joined["lang"] == "en"


def test_an_edit_lays_out_only_its_piece_and_gives_the_bytes_of_a_cold_build(tmp_path, monkeypatch):
    laid_out = []
    real = pdf_assembly.lay_out
    monkeypatch.setattr(pdf_assembly, "lay_out", lambda html: laid_out.append(html) or real(html))
    cache = pdf_assembly.PieceCache(tmp_path / "cache")
    pdf_assembly.render_pdf(document(), cache)
    assert len(laid_out) == 6  # title and contents, three sections, a subsection; the first again once numbered
    laid_out.clear()
    assert pdf_assembly.render_pdf(document(), cache) == pdf_assembly.render_pdf(document(), cache)
    assert laid_out == []

    edited = pdf_assembly.render_pdf(document(beta_word="edited"), cache)
    assert len(laid_out) == 1 and "edited paragraph 0" in laid_out[0]
    assert edited == pdf_assembly.render_pdf(document(beta_word="edited"), pdf_assembly.PieceCache(tmp_path / "cold"))

    laid_out.clear()
    pdf_assembly.render_pdf(document(beta_paragraphs=40), cache)  # Beta grows: Gamma moves, the contents change
    assert sum("Back to" in html for html in laid_out) == 1 and sum("Contents" in html for html in laid_out) >= 1


def test_a_series_runs_on_after_a_page_it_would_leave_more_than_half_empty(tmp_path):
    doc = document(gamma_paragraphs=0)  # Gamma fills a third of its page: the subsection follows on it
    joined = reading(pdf_assembly.render_pdf(doc, pdf_assembly.PieceCache(tmp_path)))
    assert joined == reading(whole(doc.replace(' class="starts-page"', "")))
    gamma = next(i for i, text in enumerate(joined["pages"]) if text.startswith("Gamma"))
    assert "More on gamma" in joined["pages"][gamma] and len(joined["pages"]) == gamma + 1
    assert joined["outline"][-1] == (2, "More on gamma", gamma)


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="needs fontconfig's fc-list")
def test_a_newly_installed_font_keys_every_piece_afresh(tmp_path, monkeypatch):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    conf = tmp_path / "fonts.conf"  # the system's fonts, and one folder more
    conf.write_text(f"""<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>
<include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{fonts}</dir>
<cachedir>{tmp_path / "fc-cache"}</cachedir></fontconfig>""")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    before = pdf_assembly.PieceCache(tmp_path).salt
    assert pdf_assembly.PieceCache(tmp_path).salt == before and b"DejaVuSans.ttf" in before
    shutil.copy(next(line.split()[0] for line in before.decode().splitlines() if "DejaVuSans.ttf" in line),
                fonts / "Installed.ttf")
    assert pdf_assembly.PieceCache(tmp_path).salt != before


def test_pieces_laid_out_in_worker_processes_give_the_bytes_of_one_process(tmp_path):
    from dlreport.document.workers import Workers

    doc = document(beta_paragraphs=40)
    serial = pdf_assembly.render_pdf(doc, pdf_assembly.PieceCache(tmp_path / "serial"), Workers(1))
    with Workers(3) as workers:
        parallel = pdf_assembly.render_pdf(doc, pdf_assembly.PieceCache(tmp_path / "parallel"), workers)
    assert parallel == serial
    assert len(list((tmp_path / "parallel").rglob("*.k.pdf"))) >= 6  # every piece was laid out, in the workers


def test_a_cached_piece_that_is_not_whole_is_laid_out_again(tmp_path, caplog):
    cache = pdf_assembly.PieceCache(tmp_path)
    first = pdf_assembly.render_pdf(document(), cache)
    import pikepdf

    for path in tmp_path.rglob("*.k.pdf"):  # each piece now says it has an image its PDF lacks
        head, _, data = path.read_bytes().partition(b"\n")
        with pikepdf.open(io.BytesIO(data)) as pdf:
            pdf.docinfo[f"/{pdf_assembly.IMAGES}"] = "5"
            out = io.BytesIO()
            pdf.save(out)
        cache.keep(path.name.split(".")[0], out.getvalue())
    assert pdf_assembly.render_pdf(document(), cache) == first
    assert "images laid out of the 0 in its HTML" in caplog.text


BUILD = os.getpid()


def dies_in_a_worker(html: str) -> bytes:
    """`lay_out`, but a worker process running it is killed, as the out-of-memory killer would."""
    if os.getpid() != BUILD:
        os.kill(os.getpid(), signal.SIGKILL)
    return LAY_OUT(html)


LAY_OUT = pdf_assembly.lay_out


def test_a_worker_that_dies_costs_time_not_the_build(tmp_path, monkeypatch):
    from dlreport.document.workers import Workers

    monkeypatch.setattr(pdf_assembly, "lay_out", dies_in_a_worker)
    doc = document(beta_paragraphs=40)
    with Workers(2) as workers:
        survived = pdf_assembly.render_pdf(doc, pdf_assembly.PieceCache(tmp_path / "a"), workers)
        assert not workers.parallel  # the rest was made here
    assert survived == pdf_assembly.render_pdf(doc, pdf_assembly.PieceCache(tmp_path / "b"), Workers(1))


def test_workers_die_with_the_build_that_forked_them():
    import ast
    import subprocess
    import sys
    import time

    from conftest import process_alive

    build = subprocess.Popen([sys.executable, "-c", "import os, time\nfrom dlreport.document.workers import Workers\n"
                              "w = Workers(3).__enter__()\ntime.sleep(1)\n"
                              "print([p.pid for p in w._pool._processes.values()], flush=True)\ntime.sleep(60)"],
                             stdout=subprocess.PIPE, text=True)
    workers = ast.literal_eval(build.stdout.readline())
    build.kill()  # outright: no `finally`, no shutdown
    build.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(process_alive(pid) for pid in workers):
        time.sleep(0.05)
    assert len(workers) == 3 and not any(process_alive(pid) for pid in workers)  # a worker per core



def test_a_row_is_never_split_and_the_check_would_see_it():
    """`body_rows` reads the tagged PDF: a table whose rows are tall enough to straddle page
    breaks has more rows there than in its HTML without the print rule that keeps a row
    whole, and exactly as many with it."""
    from conftest import body_rows

    from dlreport.document.render import stylesheet

    css = stylesheet()
    rows = "".join(f"<tr><td>{i}</td><td>{'<br>'.join(['a line of a tall cell'] * 13)}</td></tr>" for i in range(12))
    body = f"<table><caption>tall rows</caption><thead><tr><th>n</th><th>text</th></tr></thead><tbody>{rows}</tbody></table>"
    loose = css.replace("tr { page-break-inside: avoid; }", "")
    assert loose != css
    kept, broken = (body_rows(pdf_assembly.lay_out(f'<html lang="en"><head><style>{style}</style></head><body>{body}'
                                                   "</body></html>")) for style in (css, loose))
    assert kept == 12 and broken > 12
