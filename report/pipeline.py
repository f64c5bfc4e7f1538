"""The build, as a short sequence of plain functions: configuration in, files out.

    plan the runs → obtain results (cache or train) → context (facts, figures,
    listings) → HTML → PDF → build record

When every result comes from the cache and nothing the report is rendered from has
changed since the last build, the outputs are already correct and are left alone:
such a build imports neither TensorFlow nor matplotlib nor WeasyPrint.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from dlreport import ROOT, console, folders, frameworks, interrupts, lock, project, study
from dlreport.builds import changes, ledger, prune, record
from dlreport.builds import status as status_mod
from dlreport.cachedir import CacheDir
from dlreport.data import files
from dlreport.data.samples import SampleStore, samples_of
from dlreport.errors import ReportError
from dlreport.facts import analysis, stats
from dlreport.fsutil import KeptFiles, atomic_write_text, ensure_writable, remove_leftovers
from dlreport.planning import BuildConfig, Chosen, Plan, chosen, plan
from dlreport.runs import keys, machine, runner
from dlreport.runs.executor import choose
from dlreport.runs.store import ResultStore

log = logging.getLogger(__name__)

def sources_digest() -> str:
    """One hash over every file the report is rendered from (templates and code)."""
    h = hashlib.sha256()
    for name, folder in project.current().sources().items():
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in {".py", ".j2", ".css", ".html"}:
                h.update(f"{name}/{path.relative_to(folder).as_posix()}".encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def status(cfg: BuildConfig) -> dict:
    """What a build with this configuration would take from the cache, and what it would train
    and why (the last record is read only when something is to be explained)."""
    profile, _, store, planned = plan(cfg)
    slots = 1
    to_train = [p for p in planned if p.stored is None]
    if cfg.placement.executor == "ray" and to_train:
        from dlreport.runs import cluster

        slots = cluster.slots(cfg.placement)
    previous = _last_runs_of(cfg.out_dir, profile.name) if to_train else None
    store.save_index()
    return status_mod.survey(planned, previous, slots)


def _last_runs_of(out_dir: Path, profile: str, looked_at: int = 20) -> dict:
    """Each run's newest record among the last builds of `profile` (what a stale run is
    explained against: the same experiment and seed as last built at this size, not whatever
    the current build happens to be), with the sources their fingerprints covered."""
    runs: dict[tuple[str, int], dict] = {}
    sources: dict[str, str] = {}
    for entry in reversed(ledger.Ledger(out_dir).entries()[-looked_at:]):
        rec = entry.readable()
        if rec is None or rec.get("profile") != profile:
            continue
        for r in rec.get("runs", []):
            runs.setdefault((r["id"], r["seed"]), r)
        for name, text in rec.get("sources", {}).items():
            sources.setdefault(name, text)
    return {"profile": profile, "runs": list(runs.values()), "sources": sources}


def preflight_preview(cfg: BuildConfig) -> None:
    """What `serve` checks before it binds its port: the configuration plans (profile, ids,
    split, definitions), the templates compile, the cache is the tool's."""
    from dlreport.document import render

    plan(cfg)
    render.check_templates()
    check_folders(cfg)
    cfg.cache.claim()  # the preview keeps its drawings there


def check_folders(cfg: BuildConfig) -> None:
    """The output and cache folders must be apart from each other, from the frozen store and
    from the project folder itself: each is swept and pruned by its own layout."""
    named = (("--out", cfg.out_dir), ("--cache-dir", cfg.cache_dir), ("the frozen store", cfg.frozen_dir))
    for option, folder in named[:2]:
        if folder.resolve() == ROOT.resolve():
            raise ReportError(f"{option} {folder} is the project folder itself: give a folder of its own")
    for i, (a, folder_a) in enumerate(named):
        for b, folder_b in named[i + 1:]:
            if folders.inside(folder_a, folder_b) or folders.inside(folder_b, folder_a):
                raise ReportError(f"{a} {folder_a} and {b} {folder_b} overlap: give each a folder of its own")


def claim(cfg: BuildConfig) -> None:
    """Make (or prove) the output and cache folders this tool's, before anything is written."""
    check_folders(cfg)
    ledger.Ledger(cfg.out_dir).claim()
    cfg.cache.claim()


def build(cfg: BuildConfig) -> str:
    """Run the whole build, holding the cache's lock; returns its id (the current build's, for a no-op)."""
    made = chosen(cfg)  # a mistake in the options leaves no folder behind
    claim(cfg)
    ensure_writable(cfg.cache_dir, "cache directory")
    ensure_writable(cfg.out_dir, "output directory")
    with lock.exclusive(cfg.cache.lock):
        remove_leftovers([*cfg.cache.temp_folders(), *ledger.Ledger(cfg.out_dir).temp_folders()])
        return _build(cfg, made)


def _build(cfg: BuildConfig, made: Chosen) -> str:
    started = time.perf_counter()
    profile, split, store, planned = plan(cfg, made)
    missing = [p for p in planned if p.entry is None] if cfg.cached_only else []
    if missing:
        log.warning("%d of %d runs are not in the cache and are left out (--cached-only): %s", len(missing), len(planned),
                    ", ".join(p.label for p in missing[:6]) + (" …" if len(missing) > 6 else ""))
        planned = [p for p in planned if p.entry is not None]
        if not planned:
            raise ReportError("--cached-only: no run of this build is in the cache or the frozen store")
    since = ledger.Ledger(cfg.out_dir).find(cfg.changes_since) if cfg.changes_since else None
    # taken (and stored) before the no-op check, so that storing them does not make the next build render again
    samples = _sample_state(cfg, {p.experiment.dataset for p in planned})
    render_inputs = keys.key_of({
        "keys": [p.key for p in planned], "ids": [p.experiment.id for p in planned], "sources": sources_digest(),
        "profile": profile.name, "split": split, "epoch": os.environ.get("SOURCE_DATE_EPOCH"), "strict": cfg.strict,
        "keep_going": cfg.keep_going, "changes_since": since and since.name, "missing": len(missing),
        "samples": samples,
    })
    book = ledger.Ledger(cfg.out_dir)
    stamp = book.stamp()
    if (stamp and stamp.get("render_inputs") == render_inputs and all(p.present for p in planned)
            and book.unchanged(stamp)):
        log.info("up to date: %d runs cached, report unchanged (%.2f s)", len(planned), time.perf_counter() - started)
        return stamp["id"]

    loaded = _preflight(cfg, planned)
    executor = choose(cfg.placement, cfg.data_dir, cfg.cache)
    try:
        if to_train := list({p.key: p for p in planned if p.entry is None}.values()):
            executor.start(to_train, loaded)  # a cluster is joined and checked only when something trains
        runs = runner.obtain(planned, store, cfg.data_dir, cfg.cache, cfg.keep_going, loaded, executor)
    finally:
        executor.close()
        store.save_index()
    return _render(cfg, profile, split, runs, render_inputs, since, started,
                   [{"id": p.experiment.id, "seed": p.seed} for p in missing], samples)


def _preflight(cfg: BuildConfig, planned: list[runner.Planned]) -> dict:
    """Every mistake that would otherwise surface after the training, found before it: the
    time stamp, the templates, the folders to be written, the links to be switched, and the
    data of every run that will train (verified, and decoded into the cache)."""
    record.build_time()
    from dlreport.document import render

    render.check_templates(compiled=cfg.cache.compiled)
    for folder, what in ((cfg.cache.results, "results folder"), (cfg.cache.checkpoints, "checkpoints folder"),
                         (ledger.Ledger(cfg.out_dir).root, "builds folder")):
        ensure_writable(folder, what)
    ledger.Ledger(cfg.out_dir).check_publishable()
    return runner.load_data(planned, cfg.data_dir, cfg.cache)


def _runs_record(runs: list[runner.Outcome]) -> list[dict]:
    """What the record keeps of each run: enough for `status` and `diff` to explain it later."""
    return [
        {
            "id": o.experiment.id, "seed": o.seed, "key": o.key, "components": o.components, "source": o.source,
            "seconds": round(o.seconds, 3), "train_seconds": o.result["train_seconds"], "final": o.result["final"],
            "data": o.result["data"], "device": o.result["hardware"]["device"],
            **({"trained_on": o.where} if o.where else {}),
            "gflops": 0.0 if "failed" in o.result else round(analysis.achieved_gflops(o.components["spec"], o.result), 1),
            **({"failed": o.result["failed"]} if "failed" in o.result else {}),
            **({"suspect": found} if "failed" not in o.result and (found := analysis.suspicions(o.result["history"])) else {}),
        }
        for o in runs
    ]


def _experiments_record(runs: list[dict]) -> dict:
    """Per experiment, the mean and spread of its seeds' final metrics (failed runs left out)."""
    out: dict[str, dict] = {}
    for r in runs:
        out.setdefault(r["id"], {"seeds": [], "finals": []})
        out[r["id"]]["seeds"].append(r["seed"])
        if r["final"]:
            out[r["id"]]["finals"].append(r["final"])
    for e in out.values():
        finals = e.pop("finals")
        estimates = {m: stats.summary([f[m] for f in finals]) for m in study.current().metric_names} if finals else {}
        e.update(n=len(finals), final={m: v.mean for m, v in estimates.items()},
                 sd={m: v.sd for m, v in estimates.items()})
    return out


def _render(cfg: BuildConfig, profile, split, runs: list[runner.Outcome], render_inputs: str,
            since: ledger.Entry | None, started: float, missing: list[dict], samples: dict) -> dict:
    """Judge the claims, render HTML and PDF, and keep the build: each step one product."""
    from dlreport.document.workers import Workers
    from dlreport.facts import results

    with Workers() as workers:  # started first: they get ready while the findings are judged
        rec = {**_record(cfg, profile, split, runs, render_inputs), "missing": missing}
        judged = _judge(cfg, runs)
        rec["claims"] = [j.as_record() for j in judged]
        _warn_suspect(cfg, rec["runs"])
        log.info("rendering the HTML")
        caches = _RenderCaches(cfg.cache, cfg.frozen_dir)
        html = _html(cfg, rec, runs, judged, profile, split, since, caches, _samples(cfg, set(samples)), workers)
        log.info("making the PDF")
        pdf = _pdf(html, caches, workers)
    table = caches.tables.kept(keys.digest([results.FORMAT, [[o.experiment.id, o.experiment.part, o.seed, o.key] for o in runs]]),
                               lambda: results.to_csv(runs))  # made from the runs alone: a prose edit reads it back
    written = {"report.html": html.encode("utf-8"), "report.pdf": pdf,
               "results.csv": results.stamped(table, rec["id"], profile.name, rec["overrides"])}
    rec.update(
        changes_since=since and since.name,
        outputs={name: hashlib.sha256(data).hexdigest() for name, data in written.items()},
        figures={e: keys.digest([o.result["history"] for o in runs if o.experiment.id == e and "failed" not in o.result])
                 for e in dict.fromkeys(o.experiment.id for o in runs)},  # what each experiment's curves were drawn from
        render_cache=prune.used_entries(cfg.cache_dir, caches.figures, caches.equations, caches.pieces, caches.tables),
        duration_s=round(time.perf_counter() - started, 2),
    )
    published = not cfg.only or cfg.publish
    entry = _save(cfg.out_dir, rec, written, runs, publish=published)
    stats.save_memo()
    where = cfg.out_dir if published else entry.path
    log.info("built #%d %s: %d trained, %d cached, %.1f s → %s and %s (%s)", entry.seq, rec["id"], rec["counts"]["run"],
             rec["counts"]["cached"], rec["duration_s"], where / "report.html", where / "report.pdf",
             f"ledger entry {entry.path}" if published else
             "a partial build, kept in the ledger and not published: the current report is unchanged; --publish makes "
             "a partial build current")
    return rec["id"]


def _record(cfg: BuildConfig, profile, split, runs: list[runner.Outcome], render_inputs: str) -> dict:
    """The build record's facts that rendering does not change."""
    when = record.build_time()
    return {
        "format": record.RECORD_FORMAT,
        "id": record.build_id(when, render_inputs),
        "time": when.isoformat().replace("+00:00", "Z"),
        "git": record.git_state(ROOT),
        "versions": frameworks.versions(tuple(sorted({p for o in runs for p in frameworks.of(o.experiment.trainer).packages}))),
        "hardware": machine.host(),
        "counts": {"run": sum(o.source == "run" for o in runs), "cached": sum(o.source != "run" for o in runs),
                   "failed": sum("failed" in o.result for o in runs)},
        "profile": profile.name,
        "data_choice": split,
        "render_inputs": render_inputs,
        "sources": {name: text for o in runs for name, text in status_mod.sources_of(o.components).items()},
        "runs": (per_run := _runs_record(runs)),
        "experiments": _experiments_record(per_run),
        "only": list(cfg.only),
        "seeds": cfg.seeds,  # None: the profile's
        "overrides": [f"{p}.{n}={json.dumps(v)}" for p, n, v in cfg.overrides],
        "placement": dataclasses.asdict(cfg.placement),
    }


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

    available = study.current().conditions([o.components["spec"]["data"] for o in runs])
    judged = claims.judge({i: [o.result for o in os] for i, os in runner.by_experiment(runs).items()}, available=available)
    log.info(claims.summary_line(judged))
    against = [j for j in judged if j.verdict in (stats.NOT_REPRODUCED, stats.PARTLY)]
    if against and cfg.strict:
        raise ReportError(f"{len(against)} finding(s) of the original not (or only partly) reproduced (--strict): "
                          f"{against[0].claim.id}. {against[0].claim.original}")
    return judged


class _RenderCaches:
    """The drawing and layout caches one render uses (and lists in its record)."""

    def __init__(self, cache: CacheDir, frozen_dir: Path) -> None:
        from dlreport.document.figure_cache import HELPERS, FigureCache
        from dlreport.document.pdf_assembly import FROZEN_GUESSES, PieceCache

        self.figures = FigureCache(cache.figures, helpers=(*HELPERS, *study.current().figures))
        self.equations = FigureCache(cache.equations, "dlreport.document.equations", "ziamath", ())
        self.pieces = PieceCache(cache.pdf, frozen_dir / FROZEN_GUESSES)
        self.tables = KeptFiles(cache.tables, ".csv", "results table")
        self.compiled = cache.compiled

    def html(self, ctx: dict) -> str:
        """The report's HTML from a context, with this cache's equations and compiled templates."""
        from dlreport.document import render

        return render.render_html(ctx, equation_svg=functools.partial(self.equations.svg, "draw"), compiled=self.compiled)


def _html(cfg: BuildConfig, rec: dict, runs: list[runner.Outcome], judged: list, profile, split,
          since: ledger.Entry | None, caches: _RenderCaches, samples: dict, workers) -> str:
    """The report's HTML. With worker processes at hand, a first render notes the figures and
    equations not yet drawn instead of drawing them one after another; they are then drawn
    all at once in the workers, and the render made again (a second render costs a few tenths
    of a second; drawing sixty figures in one process costs seconds)."""
    from dlreport.document import context as context_mod

    build_info = _build_info(rec)
    ctx = context_mod.build_context(runs, judged, profile, split, build_info, caches.figures, samples)
    if since is not None:
        diff = changes.compare(since.record(), rec, changes.Tolerances(), (f"build #{since.seq}", "this build"),
                               [e.id for e in study.current().experiments])
        ctx["changes"] = context_mod.changes_section(diff, since.series(), ctx["runs"], caches.figures)
    drawings = (caches.figures, caches.equations)
    if workers.parallel:
        for cache in drawings:
            cache.record()
    html = caches.html(ctx)
    if not workers.parallel or not any(cache.missing for cache in drawings):
        for cache in drawings:
            cache.missing = None
        return html
    todo = sum(len({key for key, _, _ in cache.missing}) for cache in drawings)
    log.info("drawing %d %s", todo, "figures and equations" if todo > 1 else "figure or equation")
    with console.counted("drawing figures and equations", todo) as done:
        for cache in drawings:
            cache.draw_missing(workers, done)
    return caches.html(ctx)


def _build_info(rec: dict) -> dict:
    """What the report says about its own build (title page, appendix), taken from its record."""
    return {k: rec[k] for k in ("id", "time", "git", "versions", "hardware", "counts", "overrides", "missing")}


def _samples(cfg: BuildConfig, names: set[str]) -> dict:
    """Sample images of each dataset named: stored, or taken from the data and stored."""
    from dlreport.data.datasets import DecodedCache

    store, decoded = SampleStore(cfg.frozen_dir), DecodedCache(cfg.cache.decoded)
    return {d: samples_of(d, store, cfg.data_dir, decoded) for d in sorted(names)}


def _sample_state(cfg: BuildConfig, names: set[str]) -> dict[str, bool]:
    """Whether each dataset's sample images are at hand, as cheaply as that can be known: a
    stored file is enough (it is read when the report is rendered); without one they are
    taken from the data now, and stored."""
    store = SampleStore(cfg.frozen_dir)
    return {d: store.path(d).is_file() or _samples(cfg, {d})[d] is not None for d in sorted(names)}


def _pdf(html: str, caches: _RenderCaches, workers) -> bytes:
    from dlreport.document import pdf_assembly

    return pdf_assembly.render_pdf(html, caches.pieces, workers)


def _save(out_dir: Path, rec: dict, written: dict[str, bytes], runs: list[runner.Outcome], publish: bool) -> ledger.Entry:
    """Keep the build in the ledger, then (unless it is a partial build not asked to) publish
    it as the current report in one atomic step (see `ledger`), so outputs and record always
    belong to the same build."""
    series: dict[str, dict] = {}
    for o in runs:
        entry = series.setdefault(o.experiment.id, {"unit": o.result["unit"], "histories": {}})
        entry["histories"][str(o.seed)] = o.result["history"]
    def files(seq: int) -> dict[str, bytes]:
        rec["ledger"] = f"{seq:04d}_{rec['id']}"
        return {**written, "record.json": record.dumps(rec).encode(), "series.json": json.dumps(series, sort_keys=True).encode()}

    interrupts.check()  # an interrupt a library swallowed while this build rendered: nothing is kept or published
    try:
        entry = ledger.Ledger(out_dir).add(rec["id"], files, publish, {"id": rec["id"], "render_inputs": rec["render_inputs"]})
    except OSError as exc:
        raise ReportError(f"cannot write the report to {out_dir}: {exc.strerror or exc}") from None
    return entry


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
    check_folders(cfg)
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


@dataclass
class Preview:
    html: str  # "" when no run of the build is stored
    left_out: list[dict]  # `status` rows of the runs a build would train (stale or never run): not in the page
    runs: int  # runs shown, all taken from the stores


class Previewer:
    """The report's HTML from stored results alone, for `serve`.

    Like a --cached-only build it trains nothing and leaves out the runs no store holds,
    and says which and why (`status`'s rows); the runs are made from the stored entries
    alone, no trainer or executor is called. Unlike a build it writes nothing to `build/`
    or the ledger (a preview per saved edit would flood it) and lays out no PDF (WeasyPrint
    would cost seconds per edit).

    It lives in a process whose code does not change (`serve` starts a new one after a code
    edit), so what depends on the code alone is kept between renders: the planned runs and
    their keys (hashing the code behind 90 keys takes seconds) and, while the stores hold the
    same runs, the context (facts, statistics, figures). A template edit then costs one Jinja
    render. The stores are read again each time: a run that a build beside it stores appears
    at the next render."""

    def __init__(self, cfg: BuildConfig) -> None:
        self.cfg = dataclasses.replace(cfg, cached_only=True, rerun=frozenset())
        self._planning: Plan | None = None
        self._context: tuple[tuple, dict] | None = None  # (what it was made from, context)

    def render(self) -> Preview:

        cfg = self.cfg
        if self._planning is None:
            self._planning = plan(cfg)
            planned = self._planning.runs
        else:  # the stores are read again: a run a build beside it stored appears now
            planned = [dataclasses.replace(p) for p in self._planning.runs]
        profile, split, store, _ = self._planning
        missing = any(p.entry is None for p in planned)
        survey = status_mod.survey(planned, _last_runs_of(cfg.out_dir, profile.name) if missing else None)
        left_out = [r for r in survey["experiments"] if r["state"] not in ("cached", "failed")]
        stored = [p for p in planned if p.entry is not None]
        if not stored:
            return Preview("", left_out, 0)
        made_from = (tuple(p.key for p in stored), tuple((r["id"], r["seed"]) for r in left_out))
        if self._context is None or self._context[0] != made_from:
            self._context = (made_from, self._make_context(profile, split, store, stored, left_out))
        ctx = {**self._context[1], "build": {**self._context[1]["build"], "time": _record_time()}}
        caches = _RenderCaches(cfg.cache, cfg.frozen_dir)
        return Preview(caches.html(ctx), left_out, len(stored))

    def _make_context(self, profile, split, store: ResultStore, stored: list[runner.Planned], left_out: list[dict]) -> dict:
        from dlreport.document import context as context_mod

        runs = [runner.Outcome(p.experiment, p.seed, p.key, p.components, p.entry["result"],
                               "frozen" if p.present == "frozen" else "cache", 0.0) for p in stored]
        inputs = keys.key_of({"keys": [p.key for p in stored], "preview": True})
        missing = [{"id": r["id"], "seed": r["seed"]} for r in left_out]
        rec = {**_record(self.cfg, profile, split, runs, inputs), "missing": missing}
        build_info = _build_info(rec)
        judged = _judge(self.cfg, runs)
        return context_mod.build_context(runs, judged, profile, split, build_info,
                                         _RenderCaches(self.cfg.cache, self.cfg.frozen_dir).figures,
                                         _samples(self.cfg, {o.experiment.dataset for o in runs}))


def _record_time() -> str:
    return record.build_time().isoformat().replace("+00:00", "Z")
