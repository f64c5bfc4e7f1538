"""The build, as a short sequence of plain functions: configuration in, files out.

    plan the runs → obtain results (cache or train) → context (facts, figures,
    listings) → HTML → PDF → build record

When every result comes from the cache and nothing the report is rendered from has
changed since the last build, the outputs are already correct and are left alone:
such a build imports neither TensorFlow nor matplotlib nor WeasyPrint.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from experiments.definitions import EXPERIMENTS, Experiment, resolve
from experiments.profiles import PROFILES
from report import keys, lock, machine, record, runner, splits
from report import status as status_mod
from report.errors import ReportError
from report.fsutil import atomic_write_bytes
from report.store import ResultStore

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
RENDER_SOURCES = ("templates", "report", "experiments")


@dataclass(frozen=True)
class BuildConfig:
    data_dir: Path
    profile: str = "full"
    notmnist_split: str | None = None
    only: tuple[str, ...] = ()
    rerun: frozenset[str] = field(default_factory=frozenset)  # experiment ids, or {"all"}
    out_dir: Path = ROOT / "build"
    cache_dir: Path = ROOT / ".cache"
    frozen_dir: Path = ROOT / "frozen"
    strict: bool = False  # a claim the runs contradict fails the build


def select(only: tuple[str, ...]) -> list[Experiment]:
    known = {e.id: e for e in EXPERIMENTS}
    unknown = [i for i in only if i not in known]
    if unknown:
        raise ReportError(f"unknown experiment {', '.join(unknown)}: known are {', '.join(known)}")
    return [known[i] for i in only] if only else list(EXPERIMENTS)


def sources_digest() -> str:
    """One hash over every file the report is rendered from (templates and code)."""
    h = hashlib.sha256()
    for folder in RENDER_SOURCES:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".j2", ".css", ".html"}:
                h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _outputs_intact(out_dir: Path, previous: dict) -> bool:
    return all(record.sha256_file(out_dir / name) == digest for name, digest in previous["outputs"].items())


def _plan(cfg: BuildConfig) -> tuple:
    """Profile, split, store and planned runs of a configuration (reads no data, imports no TensorFlow)."""
    if cfg.profile not in PROFILES:
        raise ReportError(f"unknown profile {cfg.profile!r}: choose one of {', '.join(PROFILES)}")
    profile = PROFILES[cfg.profile]
    experiments = select(cfg.only)
    unknown = cfg.rerun - {"all"} - {e.id for e in experiments}
    if unknown:
        raise ReportError(f"--rerun names {', '.join(sorted(unknown))}, not among this build's experiments")
    rerun = {e.id for e in experiments} if "all" in cfg.rerun else set(cfg.rerun)
    split = splits.choose_split(cfg.notmnist_split, cfg.data_dir) if any(e.dataset == "notmnist" for e in experiments) else None

    store = ResultStore(cfg.cache_dir / "results", cfg.frozen_dir)
    specs = [resolve(e, profile, split) for e in experiments]
    return profile, split, store, runner.plan(experiments, specs, store, rerun)


def status(cfg: BuildConfig) -> dict:
    """What a build with this configuration would take from the cache, and what it would train and why."""
    _, _, store, planned = _plan(cfg)
    return status_mod.survey(planned, record.read(cfg.out_dir / "record.json"), store)


def build(cfg: BuildConfig) -> dict:
    """Run the whole build, holding the cache's lock; returns its record."""
    with lock.exclusive(cfg.cache_dir / "build.lock"):
        return _build(cfg)


def _build(cfg: BuildConfig) -> dict:
    started = time.perf_counter()
    profile, split, store, planned = _plan(cfg)
    render_inputs = keys.key_of({
        "keys": [p.key for p in planned], "ids": [p.experiment.id for p in planned], "sources": sources_digest(),
        "profile": profile.name, "split": split, "epoch": os.environ.get("SOURCE_DATE_EPOCH"), "strict": cfg.strict,
    })
    previous = record.read(cfg.out_dir / "record.json")
    if (
        previous and previous.get("render_inputs") == render_inputs
        and all(p.entry is not None for p in planned) and _outputs_intact(cfg.out_dir, previous)
    ):
        log.info("up to date: %d experiments cached, report unchanged (%.2f s)", len(planned), time.perf_counter() - started)
        return previous

    outcomes = runner.obtain(planned, store, cfg.data_dir, cfg.cache_dir)
    return _render(cfg, profile, split, outcomes, render_inputs, started)


def _render(cfg: BuildConfig, profile, split, outcomes: list[runner.Outcome], render_inputs: str, started: float) -> dict:
    from report import context as context_mod
    from report import render

    when = record.build_time()
    build_info = {
        "id": f"{when:%Y%m%d-%H%M%S}-{render_inputs[:6]}",
        "time": when.isoformat().replace("+00:00", "Z"),
        "git": record.git_state(ROOT),
        "versions": keys.versions(),
        "hardware": machine.host(),
        "counts": {"run": sum(o.source == "run" for o in outcomes), "cached": sum(o.source != "run" for o in outcomes)},
    }
    log.info("rendering report")
    ctx = context_mod.build_context(outcomes, profile, split, build_info)
    html, claims = render.render_html(ctx)
    for claim in claims.contradicted:
        log.warning("CLAIM CONTRADICTED: expected %s, but this build's runs contradict it", claim)
    if claims.contradicted and cfg.strict:
        raise ReportError(f"{len(claims.contradicted)} claim(s) contradicted by the runs (--strict): {claims.contradicted[0]}")
    pdf = render.render_pdf(html)
    written = {"report.html": html.encode("utf-8"), "report.pdf": pdf}
    try:
        for name, data in written.items():
            atomic_write_bytes(cfg.out_dir / name, data)
    except OSError as exc:
        raise ReportError(f"cannot write the report to {cfg.out_dir}: {exc.strerror or exc}") from None
    rec = {
        "format": record.RECORD_FORMAT,
        **{k: build_info[k] for k in ("id", "time", "git", "versions", "hardware")},
        "profile": profile.name,
        "notmnist_split": split,
        "render_inputs": render_inputs,
        "claims": claims.checked,
        "outputs": {name: hashlib.sha256(data).hexdigest() for name, data in written.items()},
        "figures": {
            e["id"]: hashlib.sha256(e["figure"].encode()).hexdigest() for part in ctx["parts"].values() for e in part
        },
        "sources": {name: text for o in outcomes for name, text in status_mod.sources_of(o.components).items()},
        "experiments": {
            o.experiment.id: {
                "key": o.key, "components": o.components, "source": o.source, "seconds": round(o.seconds, 3),
                "train_seconds": o.result["train_seconds"], "final": o.result["final"], "data": o.result["data"],
                "device": o.result["hardware"]["device"],
                "gflops": round(ctx["runs"][o.experiment.id]["gflops"], 1),
            }
            for o in outcomes
        },
    }
    rec["duration_s"] = round(time.perf_counter() - started, 2)
    record.write(cfg.out_dir / "record.json", rec)
    log.info(
        "built %s: %d trained, %d cached, %.1f s → %s",
        rec["id"], build_info["counts"]["run"], build_info["counts"]["cached"], rec["duration_s"], cfg.out_dir / "report.pdf",
    )
    return rec


def freeze(cfg: BuildConfig) -> tuple[int, int]:
    """Make the committed frozen store hold the results the latest build used (for its profile)."""
    latest = record.read(cfg.out_dir / "record.json")
    if latest is None:
        raise ReportError(f"no build record in {cfg.out_dir}: run a build first")
    store = ResultStore(cfg.cache_dir / "results", cfg.frozen_dir)
    return store.freeze([e["key"] for e in latest["experiments"].values()], latest["profile"])
