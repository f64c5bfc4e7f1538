"""What `build.py prune` deletes besides old builds: the drawn figures and equations and the
laid-out PDF pieces that no kept build used.

Each render adds to these caches (an edit of the prose leaves the old layout of its piece
behind, every build a new title page), and nothing else ever removes an entry. Each
build's record lists the entries it used (`render_cache`), so an entry no kept build
lists can only speed up the re-render of a build that is gone.
"""

from __future__ import annotations

import logging
from pathlib import Path

from dlreport.cachedir import CacheDir

log = logging.getLogger(__name__)


def prune_checkpoints(cache: CacheDir, store) -> int:
    """Delete the checkpoints of runs whose result is stored: a killed `--rerun` leaves one
    that only a future rerun could resume. Returns how many went."""
    gone = 0
    for path in cache.checkpoint_files():
        if store.where(path.stem) is not None:
            path.unlink()
            gone += 1
    return gone


def used_entries(cache_dir: Path, *caches) -> list[str]:
    """For the record: the entries the given caches read or wrote, relative to `cache_dir`."""
    return sorted(str(path.relative_to(cache_dir)) for cache in caches for path in cache.used)


def prune_render_caches(cache: CacheDir, records: list[dict]) -> tuple[int, int] | None:
    """Delete the render-cache entries none of `records` used: (files, bytes) deleted, or
    None when a record predates the list, so that what it used is unknown. Only the entries
    of the cache's own layout are looked at (`CacheDir.render_entries`): a file of any other
    name, even in those folders, is not this tool's to delete."""
    if not records or any("render_cache" not in rec for rec in records):
        log.info("render caches not pruned: a kept build does not say which entries it used")
        return None
    keep = {entry for rec in records for entry in rec["render_cache"]}
    files = size = 0
    for path in sorted(cache.render_entries()):
        if str(path.relative_to(cache.root)) not in keep:
            files, size = files + 1, size + path.stat().st_size
            path.unlink()
    return files, size
