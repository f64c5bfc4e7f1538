"""The cache folder (`.cache/` by default): one object owns its layout.

Everything a build keeps between builds lives here, each kind in its own folder, and
no other module spells a folder name: it asks this object (jupyter-cache's model).

    results/      finished runs, one JSON file per cache key (`store.ResultStore`)
    checkpoints/  the training state of runs killed part-way, one file per key
    decoded/      decoded datasets as .npy arrays, named by their content checksum
    figures/      drawn figures (SVG), named by what they were drawn from
    equations/    drawn equations (SVG)
    pdf/          laid-out PDF pieces
    build.lock    held while a build, freeze or prune works on the cache
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def _folder(name: str) -> property:
    return property(lambda self: self.root / name, doc=f"`{name}` inside the cache folder")


@dataclass(frozen=True)
class CacheDir:
    root: Path

    results = _folder("results")
    checkpoints = _folder("checkpoints")
    decoded = _folder("decoded")
    figures = _folder("figures")
    equations = _folder("equations")
    pdf = _folder("pdf")
    lock = _folder("build.lock")

    def checkpoint(self, key: str) -> Path:
        return self.checkpoints / f"{key}.npz"

    def render_caches(self) -> list[Path]:
        """What `prune` may thin out: drawings and layouts any later render can make again."""
        return [self.figures, self.equations, self.pdf]
