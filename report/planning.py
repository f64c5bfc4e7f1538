"""Planning a build: the configuration (`BuildConfig`), what it names, checked (`chosen`), and its
runs with their keys and what is stored of each (`plan`). Planning reads no data and imports no
framework: `status`, a no-op build and the preview all start here.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path

from dlreport import ROOT, folders, study
from dlreport.builds.ledger import Ledger
from dlreport.cachedir import CacheDir
from dlreport.errors import ReportError, shorten, shown
from dlreport.facts import stats
from dlreport.runs import runner, source
from dlreport.runs.placement import Placement
from dlreport.runs.store import ResultStore
from dlreport.study import Experiment, Profile


@dataclass(frozen=True)
class BuildConfig:
    data_dir: Path
    profile: str = "full"
    data_choice: str | None = None  # the study's choice about its data (`Data.choice`), where it has one
    only: tuple[str, ...] = ()
    rerun: frozenset[str] = field(default_factory=frozenset)  # experiment ids, or {"all"}
    out_dir: Path = ROOT / "build"
    cache_dir: Path = ROOT / ".cache"
    frozen_dir: Path = ROOT / "frozen"
    strict: bool = False  # a claim the runs contradict fails the build
    changes_since: str | None = None  # a ledger build to compare with in a "Changes since" section
    keep_going: bool = False  # a diverged run is shown as failed instead of stopping the build
    seeds: int | None = None  # seeds per experiment; None: as many as the profile says for its part
    overrides: tuple[tuple[str, str, object], ...] = ()  # (id pattern, hyper-parameter, value) from --set
    publish: bool = False  # make a partial (--only) build the current report
    cached_only: bool = False  # train nothing: render the runs the stores hold, and say which are missing
    placement: Placement = Placement()  # where runs train: this process (default) or a Ray cluster

    @property
    def cache(self) -> CacheDir:
        return CacheDir(self.cache_dir)

    def check_folders(self) -> None:
        """The output and cache folders must be apart from each other, from the frozen store and
        from the project folder itself: each is swept and pruned by its own layout."""
        named = (("--out", self.out_dir), ("--cache-dir", self.cache_dir), ("the frozen store", self.frozen_dir))
        for option, folder in named[:2]:
            if folder.resolve() == ROOT.resolve():
                raise ReportError(f"{option} {folder} is the project folder itself: give a folder of its own")
        for i, (a, folder_a) in enumerate(named):
            for b, folder_b in named[i + 1:]:
                if folders.inside(folder_a, folder_b) or folders.inside(folder_b, folder_a):
                    raise ReportError(f"{a} {folder_a} and {b} {folder_b} overlap: give each a folder of its own")

    def claim(self) -> None:
        """Make (or prove) the output and cache folders this tool's, before anything is written."""
        self.check_folders()
        Ledger(self.out_dir).claim()
        self.cache.claim()


def parse_override(text: str) -> tuple[str, str, object]:
    """`PATTERN.NAME=VALUE` (the value as JSON when it parses as JSON: 3e-3, [300, 100], true)."""
    target, sep, raw = text.partition("=")
    pattern, dot, name = target.rpartition(".")
    if not sep or not dot or not pattern or not name:
        raise ReportError(f"--set {shown(text)}: write PATTERN.NAME=VALUE, e.g. --set ID.learning_rate=3e-3")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return pattern, name, value


def _overridden(experiments: list[Experiment], overrides: tuple[tuple[str, str, object], ...]) -> list[Experiment]:
    """The experiments with --set applied; a pattern that matches nothing is a mistake."""
    out = list(experiments)
    for pattern, name, value in overrides:
        hits = [i for i, e in enumerate(out) if fnmatch.fnmatchcase(e.id, pattern)]
        if not hits:
            raise ReportError(f"--set {shorten(f'{pattern}.{name}')}: no experiment of this build matches {shown(pattern)}")
        for i in hits:
            out[i] = dataclasses.replace(out[i], hparams={**out[i].hparams, name: value})
    return out


def select(only: tuple[str, ...]) -> list[Experiment]:
    """The experiments named (all when none is); an unknown id is refused with the closest ids."""
    known = {e.id: e for e in study.current().experiments}
    unknown = [i for i in only if i not in known]
    if unknown:
        raise ReportError(f"unknown experiment {shown(unknown[0], 40)}{_closest(unknown[0], list(known))}")
    return [known[i] for i in only] if only else list(known.values())


def _closest(word: str, known: list[str]) -> str:
    """" — did you mean X1?" for a near miss (case aside), else the list of known ids."""
    by_case = {k.casefold(): k for k in known}
    close = difflib.get_close_matches(word.casefold(), list(by_case), n=3, cutoff=0.6)
    if close:
        return f" — did you mean {' or '.join(by_case[c] for c in close)}?"
    return f": known are {', '.join(known)}"


@dataclass(frozen=True)
class Chosen:
    """What a configuration names, checked (`chosen`)."""

    profile: Profile
    experiments: list[Experiment]  # with --set applied
    rerun: set[str]
    split: str | None  # the study's data choice, where its data need one


@dataclass(frozen=True)
class Plan:
    """A configuration's runs, planned (`plan`): each with its key and what is stored of it."""

    profile: Profile
    split: str | None
    store: ResultStore
    runs: list[runner.Planned]


def chosen(cfg: BuildConfig) -> Chosen:
    """The profile, experiments (with --set applied) and split a configuration names: each
    checked, so that a mistake is said before any folder is made or anything read."""
    declared = study.current()
    if cfg.profile not in declared.profiles:
        raise ReportError(f"unknown profile {cfg.profile!r}: choose one of {', '.join(declared.profiles)}")
    profile = declared.profiles[cfg.profile]
    experiments = _overridden(select(cfg.only), cfg.overrides)
    for exp in experiments:
        try:
            found = declared.problems(exp, runner.honoured(exp.trainer))
        except ReportError as exc:
            raise ReportError(f"experiment {exp.id}: {exc}") from None
        if found:
            raise ReportError(f"experiment {exp.id}: {'; '.join(shorten(f, 200) for f in found)}")
    unknown = cfg.rerun - {"all"} - {e.id for e in experiments}
    if unknown:
        raise ReportError(f"--rerun names {', '.join(sorted(unknown))}, not among this build's experiments")
    rerun = {e.id for e in experiments} if "all" in cfg.rerun else set(cfg.rerun)
    split = study.current().data.choose(cfg.data_choice, cfg.data_dir, {e.dataset for e in experiments})
    return Chosen(profile, experiments, rerun, split)


def plan(cfg: BuildConfig, made: Chosen | None = None) -> Plan:
    """Profile, split, store and planned runs of a configuration (reads no data, imports no
    TensorFlow); `made` is what `chosen` made of it, when the caller has it already."""
    made = made or chosen(cfg)
    profile, split = made.profile, made.split
    ours = folders.kind_of(cfg.cache_dir) == "cache"  # the cache keeps what saves time only once it is the tool's
    source.use_cache(cfg.cache.fingerprints if ours else None)
    stats.use_memo(cfg.cache.stats if ours else None)
    store = ResultStore(cfg.cache.results, cfg.frozen_dir, cfg.cache.store_index if ours else None)
    runs = []
    for seed in range(max(len(profile.seeds_of(e.part, cfg.seeds)) for e in made.experiments)):
        for e in made.experiments:  # seed by seed: an interrupted build has whole seeds of the study
            if seed in profile.seeds_of(e.part, cfg.seeds):
                data = study.current().data.spec(e.dataset, split,
                                        *profile.data_limits.get(e.dataset, (None, None)))
                runs.append((e, seed, study.current().resolve(e, profile, seed, data)))
    return Plan(profile, split, store, runner.plan(runs, store, made.rerun))
