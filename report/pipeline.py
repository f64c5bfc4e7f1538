"""The build, as a short sequence of named steps: configuration in, files out.

    plan → up to date? → obtain the runs (cache or train) → record → judge → HTML → PDF → keep

When every result comes from the cache and nothing the report is rendered from has
changed since the last build, the outputs are already correct and are left alone:
such a build imports neither TensorFlow nor matplotlib nor WeasyPrint.
The other commands are in `commands`, the serve preview in `preview`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlreport import console, interrupts, lock, project, study
from dlreport.builds import assemble, changes, ledger, prune, record
from dlreport.data.samples import sample_state, samples_for
from dlreport.errors import ReportError
from dlreport.facts import stats
from dlreport.fsutil import ensure_writable, remove_leftovers
from dlreport.planning import BuildConfig, Plan, chosen, plan
from dlreport.runs import keys, runner
from dlreport.runs.executor import choose

if TYPE_CHECKING:
    from dlreport.document.caches import RenderCaches
    from dlreport.document.workers import Workers

log = logging.getLogger(__name__)


@dataclass
class Build:
    """One build's state between its steps: what was planned and asked, the runs once had, and
    the digest of everything the report is rendered from (what a no-op compares)."""

    cfg: BuildConfig
    planned: Plan
    since: ledger.Entry | None  # --changes-since: the build compared with
    missing: list[dict]  # --cached-only: runs left out ({"id", "seed"})
    samples: dict[str, bool]  # dataset → its sample images at hand
    render_inputs: str
    started: float
    runs: list[runner.Outcome] | None = None


def build(cfg: BuildConfig) -> str:
    """Run the whole build, holding the cache's lock; returns its id (the current build's, for a no-op)."""
    made = chosen(cfg)  # a mistake in the options leaves no folder behind
    cfg.claim()
    ensure_writable(cfg.cache_dir, "cache directory")
    ensure_writable(cfg.out_dir, "output directory")
    with lock.exclusive(cfg.cache.lock):
        remove_leftovers([*cfg.cache.temp_folders(), *ledger.Ledger(cfg.out_dir).temp_folders()])
        state = _planned(cfg, plan(cfg, made), time.perf_counter())
        stamp = ledger.Ledger(cfg.out_dir).stamp()
        if _up_to_date(state, stamp):
            log.info("up to date: %d runs cached, report unchanged (%.2f s)", len(state.planned.runs),
                     time.perf_counter() - state.started)
            return stamp["id"]
        from dlreport.document.workers import Workers

        # the render's workers get ready (import WeasyPrint) while the build reads its runs and judges the
        # findings: with every run stored they start now; a build that trains starts them after the training
        workers, stored = Workers(), all(p.present for p in state.planned.runs)
        with contextlib.ExitStack() as started:
            if stored:
                started.enter_context(workers)
            _obtain(state)
            if not stored:
                started.enter_context(workers)
            return _render(state, workers)


def _planned(cfg: BuildConfig, planned: Plan, started: float) -> Build:
    """The build's runs, less those --cached-only leaves out, and the digest of what it renders from."""
    missing = [p for p in planned.runs if p.entry is None] if cfg.cached_only else []
    if missing:
        log.warning("%d of %d runs are not in the cache and are left out (--cached-only): %s", len(missing),
                    len(planned.runs), ", ".join(p.label for p in missing[:6]) + (" …" if len(missing) > 6 else ""))
        planned = Plan(planned.profile, planned.split, planned.store, [p for p in planned.runs if p.entry is not None])
        if not planned.runs:
            raise ReportError("--cached-only: no run of this build is in the cache or the frozen store")
    since = ledger.Ledger(cfg.out_dir).find(cfg.changes_since) if cfg.changes_since else None
    # taken (and stored) before the no-op check, so that storing them does not make the next build render again
    samples = sample_state({p.experiment.dataset for p in planned.runs}, cfg.frozen_dir, cfg.data_dir, cfg.cache.decoded)
    render_inputs = keys.key_of({
        "keys": [p.key for p in planned.runs], "ids": [p.experiment.id for p in planned.runs],
        "sources": project.current().sources_digest(), "profile": planned.profile.name, "split": planned.split,
        "epoch": os.environ.get("SOURCE_DATE_EPOCH"), "strict": cfg.strict, "keep_going": cfg.keep_going,
        "changes_since": since and since.name, "missing": len(missing), "samples": samples,
    })
    return Build(cfg, planned, since, [{"id": p.experiment.id, "seed": p.seed} for p in missing], samples,
                 render_inputs, started)


def _up_to_date(state: Build, stamp: dict | None) -> bool:
    """Every run stored, the report rendered from the same inputs, and its outputs untouched."""
    return bool(stamp and stamp.get("render_inputs") == state.render_inputs and all(p.present for p in state.planned.runs)
                and ledger.Ledger(state.cfg.out_dir).unchanged(stamp))


def _obtain(state: Build) -> None:
    """Every run's result: stored, or trained (the cluster joined only when something trains),
    once every mistake that would otherwise surface after the training has been looked for."""
    cfg, planned = state.cfg, state.planned.runs
    loaded = _preflight(cfg, planned)
    executor = choose(cfg.placement, cfg.cache)
    try:
        if to_train := list({p.key: p for p in planned if p.entry is None}.values()):
            executor.start(to_train, loaded)
        state.runs = runner.obtain(planned, state.planned.store, cfg.data_dir, cfg.cache, cfg.keep_going, loaded, executor)
    finally:
        executor.close()
        state.planned.store.save_index()


def _preflight(cfg: BuildConfig, planned: list[runner.Planned]) -> dict:
    """Before anything trains: the time stamp, the templates, the folders to be written, the
    links to be switched, and the data of every run that will train (verified, and decoded
    into the cache)."""
    record.build_time()
    from dlreport.document import render

    render.check_templates(compiled=cfg.cache.compiled)
    for folder, what in ((cfg.cache.results, "results folder"), (cfg.cache.checkpoints, "checkpoints folder"),
                         (ledger.Ledger(cfg.out_dir).root, "builds folder")):
        ensure_writable(folder, what)
    ledger.Ledger(cfg.out_dir).check_publishable()
    return runner.load_data(planned, cfg.data_dir, cfg.cache)


def _render(state: Build, workers: Workers) -> str:
    """Record, judge, HTML, PDF, results table, and keep the build: each step one product."""
    from dlreport.document import pdf_assembly
    from dlreport.document.caches import RenderCaches
    from dlreport.facts import results

    cfg, runs = state.cfg, state.runs
    rec = assemble.make(cfg, state.planned.profile, state.planned.split, runs, state.render_inputs, state.missing)
    judged = _judge(cfg, runs)
    rec["claims"] = [j.as_record() for j in judged]
    _warn_suspect(cfg, rec["runs"])
    log.info("rendering the HTML")
    caches = RenderCaches(cfg.cache, cfg.frozen_dir)
    html = _html(state, rec, judged, caches, workers)
    log.info("making the PDF")
    pdf = pdf_assembly.render_pdf(html, caches.pieces, workers)
    table = caches.tables.kept(keys.digest([results.FORMAT, [[o.experiment.id, o.experiment.part, o.seed, o.key] for o in runs]]),
                               lambda: results.to_csv(runs))  # made from the runs alone: a prose edit reads it back
    written = {"report.html": html.encode("utf-8"), "report.pdf": pdf,
               "results.csv": results.stamped(table, rec["id"], state.planned.profile.name, rec["overrides"])}
    rec.update(
        changes_since=state.since and state.since.name,
        outputs={name: hashlib.sha256(data).hexdigest() for name, data in written.items()},
        figures=assemble.curves_digest(runs),
        render_cache=prune.used_entries(cfg.cache_dir, caches.figures, caches.equations, caches.pieces, caches.tables),
        duration_s=round(time.perf_counter() - state.started, 2),
    )
    published = not cfg.only or cfg.publish
    entry = _keep(cfg.out_dir, rec, written, assemble.series(runs), publish=published)
    stats.save_memo()
    where = cfg.out_dir if published else entry.path
    log.info("built #%d %s: %d trained, %d cached, %.1f s → %s and %s (%s)", entry.seq, rec["id"], rec["counts"]["run"],
             rec["counts"]["cached"], rec["duration_s"], where / "report.html", where / "report.pdf",
             f"ledger entry {entry.path}" if published else
             "a partial build, kept in the ledger and not published: the current report is unchanged; --publish makes "
             "a partial build current")
    return rec["id"]


def _warn_suspect(cfg: BuildConfig, runs: list[dict]) -> None:
    """Runs whose numbers are finite but absurd are reported (and fail a --strict build)."""
    suspect = [r for r in runs if r.get("suspect")]
    for r in suspect:
        log.warning("SUSPECT RUN %s seed %d: %s", r["id"], r["seed"], "; ".join(r["suspect"]))
    if suspect and cfg.strict:
        raise ReportError(f"{len(suspect)} suspect run(s) (--strict): {suspect[0]['id']} seed {suspect[0]['seed']}: "
                          f"{suspect[0]['suspect'][0]}")


def _judge(cfg: BuildConfig, runs: list[runner.Outcome]) -> list:
    """The original's findings judged over this build's seeds; --strict fails on a finding not reproduced."""
    from dlreport.facts import claims

    judged = claims.judge_runs(runs)
    log.info(claims.summary_line(judged))
    against = [j for j in judged if j.verdict in (stats.NOT_REPRODUCED, stats.PARTLY)]
    if against and cfg.strict:
        raise ReportError(f"{len(against)} finding(s) of the original not (or only partly) reproduced (--strict): "
                          f"{against[0].claim.id}. {against[0].claim.original}")
    return judged


def _html(state: Build, rec: dict, judged: list, caches: RenderCaches, workers) -> str:
    """The report's HTML. With worker processes at hand, a first render notes the figures and
    equations not yet drawn instead of drawing them one after another; they are then drawn
    all at once in the workers, and the render made again (a second render costs a few tenths
    of a second; drawing sixty figures in one process costs seconds)."""
    from dlreport.document import context as context_mod

    cfg, planned = state.cfg, state.planned
    ctx = context_mod.build_context(state.runs, judged, planned.profile, planned.split, assemble.build_info(rec),
                                    caches.figures, samples_for(set(state.samples), cfg.frozen_dir, cfg.data_dir,
                                                                cfg.cache.decoded))
    if state.since is not None:
        diff = changes.compare(state.since.record(), rec, changes.Tolerances(), (f"build #{state.since.seq}", "this build"),
                               [e.id for e in study.current().experiments])
        ctx["changes"] = context_mod.changes_section(diff, state.since.series(), ctx["runs"], caches.figures)
    if workers.parallel:
        for cache in caches.drawings:
            cache.record()
    html = caches.html(ctx)
    if not workers.parallel or not any(cache.missing for cache in caches.drawings):
        for cache in caches.drawings:
            cache.missing = None
        return html
    todo = sum(len({key for key, _, _ in cache.missing}) for cache in caches.drawings)
    log.info("drawing %d %s", todo, "figures and equations" if todo > 1 else "figure or equation")
    with console.counted("drawing figures and equations", todo) as done:
        for cache in caches.drawings:
            cache.draw_missing(workers, done)
    return caches.html(ctx)


def _keep(out_dir: Path, rec: dict, written: dict[str, bytes], series: dict, publish: bool) -> ledger.Entry:
    """Keep the build in the ledger, then (unless it is a partial build not asked to) publish
    it as the current report in one atomic step (see `ledger`), so outputs and record always
    belong to the same build."""
    def files(name: str) -> dict[str, bytes]:
        rec["ledger"] = name
        return {**written, "record.json": record.dumps(rec).encode(), "series.json": json.dumps(series, sort_keys=True).encode()}

    interrupts.check()  # an interrupt a library swallowed while this build rendered: nothing is kept or published
    try:
        return ledger.Ledger(out_dir).add(rec["id"], files, publish, {"id": rec["id"], "render_inputs": rec["render_inputs"]})
    except OSError as exc:
        raise ReportError(f"cannot write the report to {out_dir}: {exc.strerror or exc}") from None
