"""The cache folder (`.cache/` by default): one object owns its layout.

Everything a build keeps between builds lives here, each kind in its own folder, and
no other module spells a folder name: it asks this object (jupyter-cache's model).

    .dlreport     the marker that makes the folder this tool's (`report.folders`)
    results/      finished runs, one JSON file per cache key (`store.ResultStore`), in <2 hex>/
    checkpoints/  the training state of runs killed part-way, one file per key
    decoded/      decoded datasets as .npy arrays, named by their content checksum
    figures/      drawn figures (SVG), named by what they were drawn from, in <2 hex>/
    equations/    drawn equations (SVG), in <2 hex>/
    pdf/          laid-out PDF pieces, in <2 hex>/
    tables/       results.csv as made from a set of runs, in <2 hex>/
    fingerprints/ what the keys need of each source file, named by its content digest (`source.Summary`)
    compiled/     the templates as Jinja compiled them, one file per template (`render.CompiledTemplates`)
    store-index.json  a summary of every stored run read so far (`store.ResultStore.stored`)
    stats.json    the statistics computed so far, by the digest of their inputs (`report.facts.stats`)
    build.lock    held while a build, freeze or prune works on the cache

The tool deletes nothing here but the files this layout names (`render_entries`,
`checkpoint_files`) and its own temporary files in the folders it writes (`temp_folders`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dlreport import folders

SHARD = re.compile(r"^[0-9a-f]{2}$")  # the subfolders keyed files are spread over: a key's first two digits
KEPT_FILE = re.compile(r"^[0-9a-f]{64}\.k\.(svg|pdf|csv)$")  # a drawing, a laid-out piece, a table (`fsutil.KeptFiles`)
CHECKPOINT = re.compile(r"^[0-9a-f]{64}\.npz$")
LAYOUT = frozenset({"results", "checkpoints", "decoded", "figures", "equations", "pdf", "tables", "fingerprints",
                    "compiled", "store-index.json", "stats.json", "build.lock"})


def _folder(name: str) -> property:
    return property(lambda self: self.root / name, doc=f"`{name}` inside the cache folder")


def shards(folder: Path) -> list[Path]:
    """The <2 hex> subfolders of a keyed folder, and nothing else in it."""
    try:
        return sorted(Path(e.path) for e in os.scandir(folder) if e.is_dir(follow_symlinks=False) and SHARD.match(e.name))
    except OSError:
        return []


@dataclass(frozen=True)
class CacheDir:
    root: Path

    results = _folder("results")
    checkpoints = _folder("checkpoints")
    decoded = _folder("decoded")
    figures = _folder("figures")
    equations = _folder("equations")
    pdf = _folder("pdf")
    tables = _folder("tables")
    fingerprints = _folder("fingerprints")
    compiled = _folder("compiled")
    store_index = _folder("store-index.json")
    stats = _folder("stats.json")
    lock = _folder("build.lock")

    def claim(self, option: str = "--cache-dir") -> None:
        """Make this folder the tool's cache, or refuse it (see `report.folders`)."""
        folders.claim(self.root, "cache", option, lambda e: e.name in LAYOUT)

    def checkpoint(self, key: str) -> Path:
        return self.checkpoints / f"{key}.npz"

    def checkpoint_files(self) -> list[Path]:
        return sorted(p for p in self._files(self.checkpoints) if CHECKPOINT.match(p.name))

    def render_caches(self) -> list[Path]:
        """What `prune` may thin out: drawings, layouts and tables any later render can make again."""
        return [self.figures, self.equations, self.pdf, self.tables]

    def render_entries(self) -> Iterator[Path]:
        """Every drawing and laid-out piece in the layout (what `prune` may delete), nothing else."""
        for folder in self.render_caches():
            for shard in shards(folder):
                yield from (p for p in self._files(shard) if KEPT_FILE.match(p.name))

    def temp_folders(self) -> list[Path]:
        """Every folder a build writes files into (through a temporary name): where its
        leftovers can be, and the only places the sweep looks."""
        keyed = [*shards(self.results), *(s for f in self.render_caches() for s in shards(f))]
        return [self.root, self.checkpoints, self.decoded, self.results, self.fingerprints, self.compiled,
                *self.render_caches(), *keyed]

    @staticmethod
    def _files(folder: Path) -> list[Path]:
        try:
            return [Path(e.path) for e in os.scandir(folder) if e.is_file(follow_symlinks=False)]
        except OSError:
            return []
