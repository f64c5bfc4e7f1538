"""The drawing and layout caches one render uses (and its record lists), in one object: the
build and the preview render through the same ones."""

from __future__ import annotations

import functools
from pathlib import Path

from dlreport import study
from dlreport.cachedir import CacheDir
from dlreport.document.figure_cache import HELPERS, FigureCache
from dlreport.document.pdf_assembly import FROZEN_GUESSES, PieceCache
from dlreport.fsutil import KeptFiles


class RenderCaches:
    """Figures (the engine's drawing code and the study's own), equations, PDF pieces (with the
    frozen store's page-count guesses), the results table, and compiled templates."""

    def __init__(self, cache: CacheDir, frozen_dir: Path) -> None:
        self.figures = FigureCache(cache.figures, helpers=(*HELPERS, *study.current().figures))
        self.equations = FigureCache(cache.equations, "dlreport.document.equations", "ziamath", ())
        self.pieces = PieceCache(cache.pdf, frozen_dir / FROZEN_GUESSES)
        self.tables = KeptFiles(cache.tables, ".csv", "results table")
        self.compiled = cache.compiled

    @property
    def drawings(self) -> tuple[FigureCache, FigureCache]:
        return self.figures, self.equations

    def html(self, ctx: dict) -> str:
        """The report's HTML from a context, with this cache's equations and compiled templates."""
        from dlreport.document import render

        return render.render_html(ctx, equation_svg=functools.partial(self.equations.svg, "draw"), compiled=self.compiled)
