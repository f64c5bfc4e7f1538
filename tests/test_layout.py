"""The full report as a reader gets it, rendered from the committed study (`frozen/`, no
training, no data): its pages are full, its table rows whole, its main text short."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT, body_rows, copy_project, page_fill

MAIN_TEXT_PAGES = 24  # the report up to its appendices
ALL_PAGES = 32  # the whole report, appendices included (issue: "about 30 pages")


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    if not (ROOT / "frozen").is_dir():
        pytest.fail("no frozen/ in this checkout: the committed study is missing")
    root = copy_project(tmp_path_factory.mktemp("layout"))
    (root / "frozen").symlink_to(ROOT / "frozen")
    env = {**os.environ, "REPORT_DATA_DIR": str(root / "no-data"), "SOURCE_DATE_EPOCH": "1790000000"}
    result = subprocess.run([sys.executable, "build.py", "build", "--notmnist-split", "substitute", "--cached-only"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "left out" not in result.stderr, result.stderr  # every run of the full profile is frozen
    return root / "build"


def _chapters(pdf_bytes: bytes) -> list[tuple[int, str]]:
    """(first page, title) of each top-level section, from the PDF's outline."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf_bytes))
    top = [item for item in reader.outline[1] if not isinstance(item, list)] if isinstance(reader.outline[1], list) else []
    return [(reader.get_destination_page_number(item) + 1, item.title) for item in top]


def _pages(pdf_bytes: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf_bytes)).pages)


def test_no_page_is_more_than_half_empty_except_the_last_of_a_chapter(full):
    pdf = (full / "report.pdf").read_bytes()
    fills = page_fill(pdf)
    chapters = _chapters(pdf)
    assert len(chapters) >= 8, chapters
    before_chapter = {page - 1 for page, _ in chapters} | {len(fills)}
    # the first page (title and contents) stands alone by design
    sparse = [(page, round(fill, 2)) for page, fill in enumerate(fills, 1) if fill < 0.5 and page not in before_chapter | {1}]
    assert sparse == [], sparse
    assert sum(f < 0.5 for f in fills) >= 2  # the measure sees short pages: a chapter's last page is one


def test_no_table_row_of_the_full_report_is_split_across_pages(full):
    html = re.sub(r"<style>.*?</style>", "", (full / "report.html").read_text(), flags=re.S)
    rows = len(re.findall(r"<tr[\s>]", html)) - sum(len(re.findall(r"<tr[\s>]", head))
                                                    for head in re.findall(r"<thead>(.*?)</thead>", html, re.S))
    assert rows > 200 and body_rows((full / "report.pdf").read_bytes()) == rows


def test_the_main_text_is_short_and_the_appendices_hold_the_detail(full):
    pdf = (full / "report.pdf").read_bytes()
    chapters = _chapters(pdf)
    appendix = next(page for page, title in chapters if title.startswith("A "))
    assert appendix - 1 <= MAIN_TEXT_PAGES and _pages(pdf) <= ALL_PAGES, (chapters, _pages(pdf))
    html = (full / "report.html").read_text()
    for part in "abc":  # every finding's sub-tests in the appendix, every part's runs against the original in its part
        assert html.index(f'id="tab-{part}-findings"') > html.index('id="findings-detail"')
    order = [html.index(f'id="{anchor}"') for anchor in ("tab-a-results", "part-b", "tab-b-results", "part-c")]
    assert order == sorted(order)
