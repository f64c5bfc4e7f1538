"""`prune` deletes the drawings and laid-out pieces no kept build used, and nothing else: only
entries of the cache's own layout, never a file of the user's that happens to lie there."""

from __future__ import annotations

import pytest

from dlreport.builds.prune import prune_checkpoints, prune_render_caches, used_entries
from dlreport.cachedir import CacheDir
from dlreport.document.figure_cache import FigureCache
from dlreport.errors import ReportError


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _entry(char: str, suffix: str) -> str:
    return f"{char * 2}/{char * 64}.k.{suffix}"


def test_entries_no_kept_build_used_are_deleted_and_nothing_else(tmp_path):
    old_fig, kept_fig, kept_eq, old_pdf, kept_pdf = (_entry("a", "svg"), _entry("c", "svg"), _entry("e", "svg"),
                                                     _entry("0", "pdf"), _entry("1", "pdf"))
    users = ["pdf/thesis.pdf", "figures/paper/fig1.png", "figures/ab/notes.svg", "pdf/02/draft.k.pdf"]
    for name in (f"figures/{old_fig}", f"figures/{kept_fig}", f"equations/{kept_eq}", f"pdf/{old_pdf}", f"pdf/{kept_pdf}",
                 "results/ab/run.json", "build.lock", *users):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x" * 10)
    records = [{"render_cache": [f"figures/{kept_fig}", f"pdf/{kept_pdf}"]}, {"render_cache": [f"equations/{kept_eq}"]}]
    assert prune_render_caches(CacheDir(tmp_path), records) == (2, 20)
    assert _files(tmp_path) == sorted(["build.lock", f"equations/{kept_eq}", f"figures/{kept_fig}", f"pdf/{kept_pdf}",
                                       "results/ab/run.json", *users])


def test_a_build_that_does_not_list_its_entries_keeps_everything(tmp_path):
    (tmp_path / "pdf" / "01").mkdir(parents=True)
    (tmp_path / "pdf" / "01" / "old.pdf").write_text("x")
    assert prune_render_caches(CacheDir(tmp_path), [{"render_cache": []}, {"id": "made before the list"}]) is None
    assert prune_render_caches(CacheDir(tmp_path), []) is None
    assert _files(tmp_path) == ["pdf/01/old.pdf"]


def test_only_checkpoints_of_the_layout_whose_run_is_stored_go(tmp_path):
    cache = CacheDir(tmp_path)
    cache.checkpoints.mkdir()
    stored, unstored = "a" * 64, "b" * 64
    for name in (f"{stored}.npz", f"{unstored}.npz", "mine.npz"):
        (cache.checkpoints / name).write_bytes(b"x")

    class Store:
        def where(self, key):
            return "local" if key in (stored, "mine") else None

    assert prune_checkpoints(cache, Store()) == 1
    assert sorted(p.name for p in cache.checkpoints.iterdir()) == [f"{unstored}.npz", "mine.npz"]


def test_a_cache_lists_what_it_read_and_wrote(tmp_path, monkeypatch):
    monkeypatch.setattr("dlreport.document.figures.panel", lambda *args: "<svg/>")
    cache = FigureCache(tmp_path / "figures")
    cache.svg("panel", [1])
    FigureCache(tmp_path / "figures").svg("panel", [2])  # another build's drawing
    again = FigureCache(tmp_path / "figures")
    again.svg("panel", [1])  # read, not drawn
    assert used_entries(tmp_path, again) == used_entries(tmp_path, cache) and len(_files(tmp_path)) == 2
    kept = used_entries(tmp_path, again)
    size = next(p for p in (tmp_path / "figures").rglob("*.svg") if str(p.relative_to(tmp_path)) not in kept).stat().st_size
    assert prune_render_caches(CacheDir(tmp_path), [{"render_cache": used_entries(tmp_path, again)}]) == (1, size)


def test_a_cache_folder_is_claimed_only_when_new_empty_or_of_the_tool_layout(tmp_path):
    (tmp_path / "home" / "pdf").mkdir(parents=True)
    (tmp_path / "home" / "notes.txt").write_text("mine")
    with pytest.raises(ReportError, match="holds files dlreport did not make"):
        CacheDir(tmp_path / "home").claim()
    assert not (tmp_path / "home" / ".dlreport").exists()
    legacy = tmp_path / "legacy"
    for name in ("results", "pdf", "figures"):
        (legacy / name).mkdir(parents=True)
    (legacy / "build.lock").write_text("1")
    CacheDir(legacy).claim()  # an earlier version's cache: every name is the tool's
    CacheDir(tmp_path / "new" / "cache").claim()
    assert (legacy / ".dlreport").is_file() and (tmp_path / "new" / "cache" / ".dlreport").is_file()
