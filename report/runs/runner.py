"""Runs: take each experiment's result from the store, or have an executor train it.

Training itself is `training.run_spec`, a pure function of its arguments, which an
executor calls here or on a cluster (`executor`); this module decides what must train
and is the only writer of the results store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dlreport import project, study
from dlreport.cachedir import CacheDir
from dlreport.errors import ReportError
from dlreport.runs import keys, source
from dlreport.runs.executor import Local
from dlreport.runs.placement import Executor
from dlreport.runs.result import Result
from dlreport.runs.store import ResultStore, Stored
from dlreport.study import Experiment

if TYPE_CHECKING:
    from dlreport.data.rundata import RunData

log = logging.getLogger(__name__)


@dataclass
class Planned:
    """One run of a build (an experiment under one seed): its spec, its key, and where its
    stored result is. The entry itself is read only when something needs it (rendering, or
    training what is missing), so that planning a thousand runs reads none of them."""

    experiment: Experiment
    seed: int
    spec: dict
    components: dict
    key: str
    store: ResultStore | None = field(default=None, repr=False, compare=False)
    rerun: bool = False  # asked to train again: its stored result is not looked at

    @property
    def label(self) -> str:
        return f"{self.experiment.id} seed {self.seed}"

    @cached_property
    def entry(self) -> dict | None:
        """The stored entry, read and verified (None when absent, damaged or to be rerun)."""
        return None if self.rerun or self.store is None else self.store.get(self.key)

    @cached_property
    def present(self) -> str | None:
        """The tier whose file holds its result, unread (None when none, or to be rerun)."""
        return None if self.rerun or self.store is None else self.store.has(self.key)

    @cached_property
    def stored(self) -> Stored | None:
        """A summary of its stored result, from the store's index (None when absent or to be rerun)."""
        return None if self.rerun or self.store is None else self.store.stored(self.key)


@dataclass
class Outcome:
    experiment: Experiment
    seed: int
    key: str
    components: dict
    result: Result
    source: str  # "cache" (local), "frozen" or "run"
    seconds: float  # time this build spent on it (lookup or training)
    where: dict = field(default_factory=dict)  # for a run trained by this build: its executor, and node on a cluster


def stored_outcome(p: Planned) -> Outcome:
    """A planned run whose entry is stored, as the build's outcome (taken from its tier)."""
    tier = "frozen" if p.present == "frozen" else "cache"
    return Outcome(p.experiment, p.seed, p.key, p.components, Result.of(p.entry["result"]), tier, 0.0)


def plan(runs: list[tuple[Experiment, int, dict]], store: ResultStore, rerun: set[str]) -> list[Planned]:
    """Each (experiment, seed, spec) with its key and stored entry; `rerun` ids are not looked up."""
    planned = []
    for exp, seed, spec in runs:
        parts = keys.components(spec)
        planned.append(Planned(exp, seed, spec, parts, keys.key_of(parts), store, exp.id in rerun))
    return planned


def honoured(trainer: str) -> tuple[tuple[str, ...], dict[str, tuple]] | None:
    """What a trainer module declares it reads and implements (read from its source, so that
    checking a definition costs no TensorFlow import); None when it declares nothing."""
    module = f"{project.current().study}.{trainer}"
    if not source.module_file(module).is_file():
        raise ReportError(f"trainer {trainer!r} is not a module of the study's package {project.current().study}/")
    names = source.constant(module, "HYPER_PARAMETERS")
    return None if names is None else (tuple(names), dict(source.constant(module, "CHOICES", {})))


def _check_failure(label: str, result: Result, keep_going: bool) -> None:
    if result.ok:
        return
    if not keep_going:
        raise ReportError(f"{label} {result.failed.reason}: fix its definition, or pass --keep-going "
                          "to build the rest and show it as failed")
    log.warning("%s FAILED: %s (--keep-going: the report shows it as failed)", label, result.failed.reason)


def load_data(planned: list[Planned], data_dir: Path, cache: CacheDir) -> dict[str, RunData]:
    """The arrays of every run that must train, by the digest of its data spec: verified and
    decoded once, before anything trains (a damaged file stops the build here, not mid-way)."""
    from dlreport.data import datasets

    decoded = datasets.DecodedCache(cache.decoded)
    specs = {keys.digest(p.spec["data"]): p.spec["data"] for p in planned if p.entry is None}
    return {digest: study.current().data.load(spec, data_dir, decoded) for digest, spec in specs.items()}


def by_experiment(runs: list[Outcome]) -> dict[str, list[Outcome]]:
    """Experiment id → its finished runs (the seeds that did not fail), in the build's order."""
    out: dict[str, list[Outcome]] = {}
    for o in runs:
        if o.result.ok:
            out.setdefault(o.experiment.id, []).append(o)
    return out


def obtain(planned: list[Planned], store: ResultStore, data_dir: Path, cache: CacheDir,
           keep_going: bool = False, loaded: dict[str, RunData] | None = None,
           executor: Executor | None = None) -> list[Outcome]:
    """Every planned run's result, in the planned order: from the store when its key is
    there, else trained by the executor (in this process unless told otherwise) and stored
    here, by this process alone.

    Two runs with the same key (the same run under two names) are trained once.
    A failed (diverged) result stops the build unless `keep_going`.
    """
    executor = executor or Local(cache)
    outcomes: list[Outcome | None] = []
    first: dict[str, int] = {}  # key -> index of the planned run that trains it
    for i, p in enumerate(planned):
        outcomes.append(None)
        if p.entry is not None:
            log.debug("%s stored (%s) %s", p.label, p.present, p.key[:12])
            outcomes[i] = stored_outcome(p)
            _check_failure(p.label, outcomes[i].result, keep_going)
        else:
            first.setdefault(p.key, i)
    stored = [o for o in outcomes if o is not None]
    tiers = ", ".join(f"{n} {tier}" for tier in ("frozen", "cache") if (n := sum(o.source == tier for o in stored)))
    log.info("%d of %d runs stored%s%s (-v lists them)", len(stored), len(planned), f" ({tiers})" if tiers else "",
             f", {len(first)} to train" if first else "")
    primary = study.current().primary
    to_train = [planned[i] for i in first.values()]
    loaded = dict(loaded or {})  # data already loaded (and verified) by `load_data`, and what it did not load
    loaded.update(load_data([p for p in to_train if keys.digest(p.spec["data"]) not in loaded], data_dir, cache))
    for p, result, where, seconds in executor.train(to_train, loaded) if to_train else ():
        try:
            store.put(p.key, p.components, result.as_dict())
        except OSError as exc:
            raise ReportError(f"cannot store the result of {p.label} in {store.local}: {exc.strerror or exc}") from None
        _check_failure(p.label, result, keep_going)
        log.info("%s done in %.1f s: %s", p.label, seconds,
                 f"{primary}={result.final[primary]:.4f}" if primary in result.final else "failed")
        outcomes[first[p.key]] = Outcome(p.experiment, p.seed, p.key, p.components, result, "run", seconds, where)
    for i, p in enumerate(planned):
        if outcomes[i] is None:
            log.info("%s is the same run as %s (key %s): trained once", p.label, planned[first[p.key]].label, p.key[:12])
            twin = outcomes[first[p.key]]
            outcomes[i] = Outcome(p.experiment, p.seed, p.key, p.components, twin.result, "cache", 0.0)
    return outcomes
