"""`prune` deletes the drawings and laid-out pieces no kept build used, and nothing else."""

from __future__ import annotations

from report.builds.prune import prune_render_caches, used_entries
from report.cachedir import CacheDir
from report.document.figure_cache import FigureCache


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_entries_no_kept_build_used_are_deleted_and_nothing_else(tmp_path):
    for name in ("figures/ab/old.svg", "figures/cd/kept.svg", "equations/ef/kept.svg", "pdf/01/old.pdf",
                 "pdf/02/kept.pdf", "results/ab/run.json", "build.lock"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x" * 10)
    records = [{"render_cache": ["figures/cd/kept.svg", "pdf/02/kept.pdf"]}, {"render_cache": ["equations/ef/kept.svg"]}]
    assert prune_render_caches(CacheDir(tmp_path), records) == (2, 20)
    assert _files(tmp_path) == ["build.lock", "equations/ef/kept.svg", "figures/cd/kept.svg", "pdf/02/kept.pdf",
                                "results/ab/run.json"]


def test_a_build_that_does_not_list_its_entries_keeps_everything(tmp_path):
    (tmp_path / "pdf" / "01").mkdir(parents=True)
    (tmp_path / "pdf" / "01" / "old.pdf").write_text("x")
    assert prune_render_caches(CacheDir(tmp_path), [{"render_cache": []}, {"id": "made before the list"}]) is None
    assert prune_render_caches(CacheDir(tmp_path), []) is None
    assert _files(tmp_path) == ["pdf/01/old.pdf"]


def test_a_cache_lists_what_it_read_and_wrote(tmp_path, monkeypatch):
    monkeypatch.setattr("report.document.figures.curves", lambda *args: "<svg/>")
    cache = FigureCache(tmp_path / "figures")
    cache.svg("curves", [1])
    FigureCache(tmp_path / "figures").svg("curves", [2])  # another build's drawing
    again = FigureCache(tmp_path / "figures")
    again.svg("curves", [1])  # read, not drawn
    assert used_entries(tmp_path, again) == used_entries(tmp_path, cache) and len(_files(tmp_path)) == 2
    kept = used_entries(tmp_path, again)
    size = next(p for p in (tmp_path / "figures").rglob("*.svg") if str(p.relative_to(tmp_path)) not in kept).stat().st_size
    assert prune_render_caches(CacheDir(tmp_path), [{"render_cache": used_entries(tmp_path, again)}]) == (1, size)
