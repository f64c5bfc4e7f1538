"""The commands beside the build: `status`, `diff`, `freeze`, `prune`, `fetch`, and what `serve`
checks before it starts. Each is a plain function of the configuration (`BuildConfig`);
the CLI and the Python API call them, and none trains or renders.
"""

from __future__ import annotations

import logging
from pathlib import Path

from dlreport import lock, study
from dlreport.builds import changes, ledger, prune, record
from dlreport.builds import status as status_mod
from dlreport.data import files
from dlreport.errors import ReportError
from dlreport.fsutil import atomic_write_text
from dlreport.planning import BuildConfig, plan
from dlreport.runs.placement import local_slots
from dlreport.runs.store import ResultStore

log = logging.getLogger(__name__)


def status(cfg: BuildConfig) -> status_mod.Survey:
    """What a build with this configuration would take from the cache, and what it would train
    and why (the last record is read only when something is to be explained)."""
    planned = plan(cfg)
    to_train = [p for p in planned.runs if p.stored is None]
    if cfg.placement.executor == "ray" and to_train:
        from dlreport.runs import cluster

        slots = cluster.slots(cfg.placement)
    else:
        slots = local_slots(cfg.placement)[0]
    previous = ledger.Ledger(cfg.out_dir).last_runs(planned.profile.name) if to_train else None
    planned.store.save_index()
    return status_mod.survey(planned.runs, previous, slots)


def preflight_preview(cfg: BuildConfig) -> None:
    """What `serve` checks before it binds its port: the configuration plans (profile, ids,
    split, definitions), the templates compile, the cache is the tool's."""
    from dlreport.document import render

    plan(cfg)
    render.check_templates()
    cfg.check_folders()
    cfg.cache.claim()  # the preview keeps its drawings there


def diff(cfg: BuildConfig, old_ref: str | None, new_ref: str, tol: changes.Tolerances) -> dict:
    """Two builds of the ledger compared; without an old one, `new` against the last build
    comparable with it (see `Ledger.comparable`)."""
    book = ledger.Ledger(cfg.out_dir)
    new = book.find(new_ref)
    old = book.find(old_ref) if old_ref is not None else book.comparable(new)
    return changes.compare(old.record(), new.record(), tol, (f"#{old.seq} {old.build_id}", f"#{new.seq} {new.build_id}"),
                           [e.id for e in study.current().experiments])


def freeze(cfg: BuildConfig) -> tuple[int, int]:
    """Copy the results the latest build used into the committed frozen store, and drop the
    frozen entries of its profile that no run of the current definitions can use any more
    (a partial build, or one with fewer seeds, drops nothing it did not replace)."""
    latest = record.read(cfg.out_dir / "record.json")
    if latest is None:
        raise ReportError(f"no build record in {cfg.out_dir}: run a build first")
    whole = BuildConfig(data_dir=cfg.data_dir, profile=latest["profile"], data_choice=latest["data_choice"] or cfg.data_choice,
                        cache_dir=cfg.cache_dir, frozen_dir=cfg.frozen_dir, out_dir=cfg.out_dir)
    used = [r["key"] for r in latest["runs"]]
    current = {p.key for p in plan(whole).runs} | set(used)
    store = ResultStore(cfg.cache.results, cfg.frozen_dir)
    cfg.cache.claim()
    with lock.exclusive(cfg.cache.lock):
        frozen = store.freeze(used, latest["profile"], keep=current)
        _freeze_layout_guesses(cfg)
        return frozen


def _freeze_layout_guesses(cfg: BuildConfig) -> None:
    """Keep the PDF pieces' page counts beside the frozen results: a fresh clone's first render
    then places its pieces at once instead of measuring them first (a hint: a wrong guess
    costs a layout, never a wrong page)."""
    from dlreport.document.pdf_assembly import FROZEN_GUESSES, GUESSES

    try:
        atomic_write_text(cfg.frozen_dir / FROZEN_GUESSES, (cfg.cache.pdf / GUESSES).read_text(encoding="utf-8"))
    except OSError:
        pass  # no render yet, or the store is not writable: the next freeze keeps them


def prune_builds(cfg: BuildConfig, keep: int) -> tuple[list[str], tuple[int, int] | None, int]:
    """Delete all but the last `keep` builds, then the render-cache entries none of the kept
    builds used, and the checkpoints of runs whose result is stored (under the build lock:
    a build running beside it may be writing them)."""
    book = ledger.Ledger(cfg.out_dir)
    cfg.check_folders()
    for folder, make_ours in ((cfg.out_dir, book.claim), (cfg.cache_dir, cfg.cache.claim)):
        if folder.exists():  # prune makes no folder; one that is there must be this tool's
            make_ours()
    with lock.exclusive(cfg.cache.lock):
        removed = book.prune(keep)
        drawings = prune.prune_render_caches(cfg.cache, [rec for e in book.entries() if (rec := e.readable())])
        return removed, drawings, prune.prune_checkpoints(cfg.cache, ResultStore(cfg.cache.results, cfg.frozen_dir))


def fetch(cfg: BuildConfig, mirrors: list[str] | None = None) -> list[tuple[str, Path, str]]:
    """`dlreport fetch`: every data file the configured build reads, for all its runs, stored
    or not (a later --rerun or code edit then trains offline), verified by its content and
    downloaded when missing or damaged (`datasets.fetch_file`). Every file is tried; what
    failed ends in one line. Returns (file, path, "present" or "downloaded") per file."""
    planned = plan(cfg).runs
    from dlreport.data import datasets

    needed = files.files_of({name for p in planned for name in p.spec["data"]["sources"]})
    try:
        if not cfg.data_dir.is_dir():
            cfg.data_dir.mkdir(parents=True)
            log.info("made the data directory %s", cfg.data_dir)
    except OSError as exc:
        raise ReportError(f"cannot make the data directory {cfg.data_dir}: {exc.strerror or exc}") from None
    done, failed = [], []
    for f in needed:
        try:
            path, how = datasets.fetch_file(f, cfg.data_dir, mirrors)
        except ReportError as exc:
            failed.append(str(exc))
            continue
        if how == "present":
            log.info("%s: present and verified (%s)", f.label, path)
        done.append((f.label, path, how))
    if failed:
        raise ReportError(failed[0] if len(failed) == 1 else f"{len(failed)} of {len(needed)} data files could not be "
                          f"had: " + " | ".join(failed))
    return done
