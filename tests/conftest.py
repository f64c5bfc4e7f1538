"""Shared helpers: small generated datasets in the published formats."""

from __future__ import annotations

import gzip
import io
import logging
import os
import re
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from dlreport.runs.checkpoints import Checkpoint

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
DATA = Path(os.environ.get("REPORT_DATA_DIR") or SHARED_DATA).resolve()  # the real data, for end-to-end tests


# The longest modules (real builds, each minutes) start first, each on its own worker when the
# suite runs in parallel (pytest-xdist, `--dist loadfile`: a module stays on one worker, so its
# module-scoped builds are made once); the short ones then fill in around them.
LONGEST_FIRST = ("test_e2e.py", "test_faults.py", "test_ray.py", "test_layout.py")
# The engine's own tests: toy studies built from scratch and the pieces that know no study, with
# no TensorFlow and no data. `make test` runs them first, in seconds, then this study's.
ENGINE = ("test_init.py", "test_own_metrics.py", "test_analysis_numbering.py", "test_equations.py",
          "test_figure_cache.py", "test_fsutil.py", "test_listings.py", "test_lock.py", "test_pdf_assembly.py",
          "test_progress.py", "test_prune.py", "test_render.py", "test_store.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in ENGINE:
            item.add_marker(pytest.mark.engine)
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each module keeps its own order


def copy_project(dst: Path) -> Path:
    """The code and templates in a scratch folder, so a test can edit them as a user would. The
    engine is copied under its import name (`dlreport/`), so that a process started in the copy
    imports the copy's engine before the installed one, as a Ray worker imports its shipped copy."""
    for name, folder in (("dlreport", "report"), ("experiments", "experiments"), ("templates", "templates")):
        shutil.copytree(ROOT / folder, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("build.py", "pyproject.toml"):
        shutil.copy(ROOT / name, dst / name)
    return dst


def process_alive(pid: int) -> bool:
    """Whether a process still runs (a zombie, dead and not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return status.read().split("State:")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def matmul_shapes(graph) -> list[tuple[int, int, int]]:
    """(m, k, n) of every matrix product in a traced TensorFlow graph, its operands' transposes
    applied: what the FLOP count and the benchmark's per-shape floor must describe."""
    shapes = []
    for op in graph.get_operations():
        if op.type == "MatMul":
            a, b = (t.shape.as_list() for t in op.inputs)
            m, k = a[::-1] if op.get_attr("transpose_a") else a
            shapes.append((m, k, b[0] if op.get_attr("transpose_b") else b[1]))
    return shapes


def idx_bytes(array: np.ndarray) -> bytes:
    """An array in the idx format (unsigned bytes, big-endian dimensions)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_gz(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(content, mtime=0))
    return path


def png_bytes(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image.astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def write_letter_tar(path: Path, top: str, files: dict[str, bytes]) -> Path:
    """A notMNIST-style archive: <top>/<letter>/<name>.png members."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(autouse=True)
def _own_logger_restored():
    """A test that runs the command in this process (`cli.main`) sets the tool's logger up
    (level, handler): the next test starts from the logger as it was."""
    own = logging.getLogger("dlreport")
    kept = own.level, list(own.handlers), own.propagate
    yield
    own.setLevel(kept[0])
    own.handlers[:] = kept[1]
    own.propagate = kept[2]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


class Killed(Exception):
    pass


class KillAfterSave(Checkpoint):
    """Saves like the real checkpoint, then 'kills' the run once it has saved step `kill_at`."""

    def __init__(self, path, kill_at):
        super().__init__(path)
        self.kill_at = kill_at

    def save(self, step, history, arrays):
        super().save(step, history, arrays)
        if step >= self.kill_at:
            raise Killed


def small_run_data(seed: int = 0, n_train: int = 200, n_val: int = 50):
    from dlreport.data.rundata import RunData

    rng = np.random.default_rng(seed)
    return RunData(rng.random((n_train, 784), np.float32), rng.integers(0, 10, n_train).astype(np.int32),
                   rng.random((n_val, 784), np.float32), rng.integers(0, 10, n_val).astype(np.int32))


def page_margins_mm() -> tuple[float, float]:
    """The top and bottom page margins the report's stylesheet sets (`@page { margin: top sides bottom }`)."""
    css = (ROOT / "report" / "templates" / "report.css").read_text(encoding="utf-8")
    top, _, bottom = re.search(r"@page\s*\{[^}]*?margin:\s*([\d.]+)mm\s+([\d.]+)mm\s+([\d.]+)mm", css).groups()
    return float(top), float(bottom)


def page_fill(pdf_bytes: bytes) -> list[float]:
    """How much of each page's text area is used, from the top margin down to the lowest text
    drawn on it (figures' labels are text too), leaving out the running header and the page
    number in the margins (report.css: @page margins)."""
    from pypdf import PdfReader

    top_mm, bottom_mm = page_margins_mm()
    fills = []
    for page in PdfReader(io.BytesIO(pdf_bytes)).pages:
        height = float(page.mediabox.height)
        top, bottom = height - top_mm * 72 / 25.4, bottom_mm * 72 / 25.4
        ys: list[float] = []

        def seen(text, cm, tm, *_, found=ys) -> None:
            if text.strip():
                found.append(tm[5] * cm[3] + cm[5])

        page.extract_text(visitor_text=seen)
        body = [y for y in ys if bottom <= y <= top]
        fills.append((top - min(body)) / (top - bottom) if body else 0.0)
    return fills


def body_rows(pdf_bytes: bytes) -> int:
    """How many table body rows a tagged PDF's structure tree holds. WeasyPrint tags each
    fragment of a row that a page break splits as a row of its own (and repeats a table's
    head, which this leaves out), so more body rows than the HTML has means a split row."""
    import pikepdf

    pdf = pikepdf.open(io.BytesIO(pdf_bytes))

    def kids(element) -> list:
        found = element.get("/K")
        found = [] if found is None else list(found) if isinstance(found, pikepdf.Array) else [found]
        return [k for k in found if isinstance(k, pikepdf.Dictionary) and "/S" in k]

    rows, todo = 0, [pdf.Root.StructTreeRoot]
    while todo:
        element = todo.pop()
        if element.get("/S") == "/THead":
            continue
        rows += element.get("/S") == "/TR"
        todo += kids(element)
    return rows
