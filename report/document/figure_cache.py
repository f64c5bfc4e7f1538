"""Figures drawn once: SVGs kept on disk under a key of what they show and how.

Drawing is most of a re-render's cost, and an edit of the prose changes no figure. A
figure's key hashes the drawing function's name and arguments (the curves themselves),
the source of `report/document/figures.py` and the matplotlib version, so any change to the data
or to the drawing code draws afresh. Figures are also drawn only when a template shows
them (`Figure` is lazy): curves of runs the report only shows inside a comparison are
never drawn.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.util
from importlib.metadata import version
from pathlib import Path

from dlreport.fsutil import KeptFiles
from dlreport.runs.keys import digest


def data_uri(svg: str) -> str:
    """An SVG as a data: URI, so the HTML is one self-contained file (equations use it too)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


HELPERS = ("dlreport.document.scales", "dlreport.document.palette")  # what the engine's drawing code reads


class FigureCache(KeptFiles):
    """SVGs drawn by the functions of one module (`dlreport.document.figures` with matplotlib, or
    `dlreport.document.equations` with ziamath), kept under `root`. `helpers`: modules of ours the
    drawing code reads, and a study's own drawing modules (`Study.figures`), whose functions are
    asked for as `module:function` (their source is in every key too)."""

    def __init__(self, root: Path, module: str = "dlreport.document.figures", library: str = "matplotlib",
                 helpers: tuple[str, ...] = HELPERS) -> None:
        super().__init__(root, ".svg", "drawing")
        self.module = module
        # read, not imported: the drawing library's import costs up to a second, and a render
        # whose drawings are all cached never needs it
        code = b"".join(Path(importlib.util.find_spec(m).origin).read_bytes() for m in (module, *helpers))
        self.salt = hashlib.sha256(code + version(library).encode()).hexdigest()
        self.missing: list[tuple[str, str, tuple]] | None = None  # while recording (see `record`)

    def svg(self, kind: str, *args: object) -> str:
        key = digest([self.salt, kind, args])
        if self.missing is not None:  # recording: a drawing not yet made is noted, and stands in blank
            found = self.found(key)
            if found is None:
                self.missing.append((key, kind, args))
                return PLACEHOLDER
            return found.decode()
        return self.kept(key, lambda: draw((self.module, kind, args))).decode()

    def record(self) -> None:
        """From now on, note the drawings a render asks for that are not cached, instead of drawing them."""
        self.missing = []

    def draw_missing(self, workers, done=lambda: None) -> int:
        """Draw the noted drawings, spread over `workers` (`done` called as each is drawn), keep
        them, and stop recording."""
        noted = list({key: (key, kind, args) for key, kind, args in self.missing or []}.values())
        self.missing = None
        for (key, _, _), data in zip(noted, workers.map(draw, [(self.module, kind, args) for _, kind, args in noted], done)):
            self.keep(key, data)
        return len(noted)


PLACEHOLDER = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"></svg>'  # a drawing yet to be made


def draw(job: tuple[str, str, tuple]) -> bytes:
    """One drawing: `module.kind(*args)` as SVG bytes (in a worker process, or here)."""
    module, kind, args = job
    if ":" in kind:  # a study's own drawing
        module, kind = kind.split(":")
    return getattr(importlib.import_module(module), kind)(*args).encode()


class Figure:
    """A figure as a data: URI, drawn (or read from the cache) the first time a template uses it."""

    def __init__(self, cache: FigureCache, kind: str, *args: object) -> None:
        self.cache, self.kind, self.args = cache, kind, args
        self._uri: str | None = None

    @property
    def drawn(self) -> bool:
        return self._uri is not None

    def __str__(self) -> str:
        if self._uri is None:
            svg = self.cache.svg(self.kind, *self.args)
            if svg is PLACEHOLDER:  # recording: drawn later, asked for again then
                return data_uri(svg)
            self._uri = data_uri(svg)
        return self._uri

    __html__ = __str__
