"""The one way a study talks to the engine: a `Study` object its own package declares.

The project's `pyproject.toml` names the package (`[tool.dlreport] study = "…"`, found by
`project.current`); the package's `STUDY` is this object. Everything the engine knows of a
study — its parts, experiments and their reference numbers, profiles, metrics, the findings
to judge, how an experiment becomes a run spec, what its templates are told beyond the
engine's own context — comes through here, so no engine module names a study's package,
dataset, metric or part. A trainer is a module of the study's package with a
`train(spec, data, progress)` function, named by each experiment; it is imported only when
something trains.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from dlreport import project
from dlreport.data.interface import Data
from dlreport.errors import ReportError
from dlreport.runs.result import Result

LOSS, ACCURACY = "loss", "accuracy"  # the metric kinds whose facts the engine computes (`facts.analysis`)
TRAIN, VAL = "train", "val"  # the splits a metric is measured on
# The names under which a history holds the metrics the engine reads facts from and draws as
# loss and accuracy panels; a study's other metrics are stored, tabled and compared as they are.
TRAIN_LOSS, TRAIN_ACC, VAL_LOSS, VAL_ACC = "train_loss", "train_acc", "val_loss", "val_acc"
LOSSES, ACCURACIES = (TRAIN_LOSS, VAL_LOSS), (TRAIN_ACC, VAL_ACC)


LOWER, HIGHER = "lower", "higher"  # which direction of a metric is better
# where a metric's values can lie (its intervals are kept there: `facts.stats.Support`)
PROPORTION, NONNEGATIVE, REAL = "proportion", "nonnegative", "real"


@dataclass(frozen=True)
class Metric:
    """One number every run reports (at each step, or once for a model fitted once), as
    histories, tables and figures name it."""

    name: str  # as a history and results.csv name it: "val_acc"
    label: str  # as a table heads it: "val acc"
    split: str  # TRAIN or VAL
    kind: str  # LOSS, ACCURACY, or a kind of the study's own (drawn in a panel of its own, tabled; no loss facts)
    better: str = ""  # LOWER or HIGHER; "": lower for a loss, higher otherwise
    within: str = ""  # PROPORTION, NONNEGATIVE or REAL; "": a proportion for an accuracy, ≥ 0 for a loss, else real

    @property
    def higher_is_better(self) -> bool:
        return (self.better or (LOWER if self.kind == LOSS else HIGHER)) == HIGHER

    @property
    def bounds(self) -> str:
        return self.within or {ACCURACY: PROPORTION, LOSS: NONNEGATIVE}.get(self.kind, REAL)


@dataclass(frozen=True)
class Part:
    """One part of the report: its letter, title and template, and the code it lists besides its
    trainers'. The document, the context and the PDF iterate over the study's parts; experiments and
    findings belong to a part by its letter."""

    letter: str
    title: str
    template: str  # in the study's templates/
    listings: tuple[tuple[str, str], ...] = ()  # (module, entry point)
    # the functions the part's text shows (the model, the loss); the rest of the code that
    # ran, the training loop's plumbing, is listed in the appendix. Empty: all in the text.
    in_text: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reference:
    """The original's numbers for one experiment, by metric name (absent where it gave none).

    `at` is the step they were read at when a run of ours goes on longer; our numbers are
    compared at the same point. None means at the end of the run."""

    values: Mapping[str, float] = field(default_factory=dict)
    at: int | None = None

    def as_dict(self) -> dict:
        return {**self.values, "at": self.at}


@dataclass(frozen=True)
class Experiment:
    id: str
    part: str
    title: str
    trainer: str  # a module of the study's package whose `train(spec, data, progress)` runs it
    dataset: str
    hparams: dict = field(hash=False)
    reference: Reference = Reference()
    groups: tuple[str, ...] = ()  # templates choose experiments by group; a group of several is compared in one figure


@dataclass(frozen=True)
class Profile:
    """A profile only shrinks a run (less data, fewer iterations or epochs); it never changes
    what a run *is*, so a quick report has the same sections as the full one."""

    name: str
    description: str
    # dataset -> (training examples, validation examples); absent means "all"
    data_limits: dict[str, tuple[int, int]] = field(default_factory=dict)
    max_iterations: int | None = None
    max_epochs: int | None = None
    seeds: dict[str, int] = field(default_factory=dict)  # part -> how many seeds (0 … n-1) each experiment runs

    def seeds_of(self, part: str, override: int | None = None) -> range:
        return range(override or self.seeds.get(part, 1))


@dataclass(frozen=True)
class Study:
    """A study, as its own package declares it (`STUDY`)."""

    title: str
    parts: tuple[Part, ...]
    experiments: tuple[Experiment, ...]
    profiles: Mapping[str, Profile]
    metrics: tuple[Metric, ...]
    data: Data  # its datasets: declared files, data specs, loaders (`data.interface.Data`)
    # experiment, profile, seed, the data's description -> the run spec the key hashes and the trainer gets
    resolve: Callable[[Experiment, Profile, int, dict], dict]
    primary: str = VAL_ACC  # the metric a run's line reports, a finding reads unless it names another, dips are found in
    # experiment, what its trainer reads and implements -> what is wrong with it, in words (stops a build)
    problems: Callable[[Experiment, tuple | None], list[str]] = lambda exp, honoured: []
    claims: tuple = ()  # `claims.Claim`s: the original's findings, judged over the seeds
    # facts of its own a claim's reading may name, beside the engine's (`facts.analysis.FACTS`):
    # name -> (a run's `runs.result.Result`, metric, step or None for the end) -> a number; its values may lie anywhere
    facts: Mapping[str, Callable[[Result, str, int | None], float]] = field(default_factory=dict)
    causes: Mapping[str, str] = field(default_factory=dict)  # a claim's likely cause -> what it means
    second_setup: object | None = None  # a `claims.Setup`, where the study runs one
    unmet: str = "data this build lacks"  # the cause of a sub-test whose `needs` the build's data do not meet
    # the data specs of a build's runs -> the `needs` of sub-tests they meet
    conditions: Callable[[list[dict]], frozenset[str]] = lambda specs: frozenset()
    # a run's hyper-parameters -> the rows (label, value in words) a set-up table shows of them
    describe: Callable[[dict], list[tuple[str, str]]] = lambda hparams: [(k, str(v)) for k, v in hparams.items()]
    # a run spec -> its network (`params`, `layers`, `macs` for the FLOP count), None when it has none
    network: Callable[[dict], object | None] = lambda spec: None
    framework: str = "tensorflow"  # the framework of a trainer that names none (`frameworks`)
    frameworks: tuple = ()  # `frameworks.Framework`s of the study's own, beside the engine's
    subtitle: str = ""  # under the title
    original: str = "The original study."  # the original report, as the references cite it
    # a run spec -> what its steps are called ("epoch") and how many it takes (its progress bar's length;
    # None: not known before it runs)
    unit: Callable[[dict], str] = lambda spec: "step"
    steps: Callable[[dict], int | None] = lambda spec: None
    # a run spec and its training and validation set sizes -> floating-point operations of one step
    # (0: not known; the runs table then gives no arithmetic rate)
    flops: Callable[[dict, int, int], float] = lambda spec, n_train, n_val: 0.0
    chance: float | None = None  # the accuracy of guessing: a run that ends near it is flagged
    # a run spec -> its diagram as a drawing of the study's own ("module:function", its arguments), None for none
    diagram: Callable[[dict], tuple[str, tuple] | None] = lambda spec: None
    figures: tuple[str, ...] = ()  # the modules of its own drawings (`document.figure_cache`)
    # a build's profile and data split -> what the study's templates are told besides the engine's context
    context: Callable[[Profile, str | None], dict] = lambda profile, split: {}

    def declared(self, name: str) -> Metric | None:
        """The declaration of the metric named `name`, if the study has it."""
        return next((m for m in self.metrics if m.name == name), None)

    def metric(self, split: str, kind: str) -> str | None:
        """The name of the metric of `kind` measured on `split`, if the study has one."""
        return next((m.name for m in self.metrics if m.split == split and m.kind == kind), None)

    @property
    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics)

    def trainer(self, name: str):
        """A trainer module, imported on first use (a build that trains nothing never pays for
        the framework it imports)."""
        return importlib.import_module(f"{project.current().study}.{name}")


@cache
def current() -> Study:
    """The working directory's project's study (`project.current`)."""
    name = project.current().study
    try:
        package = importlib.import_module(name)
    except ImportError as exc:
        raise ReportError(f"the study's package {name!r} (pyproject.toml, [tool.dlreport]) cannot be imported: {exc}") from None
    found = getattr(package, "STUDY", None)
    if not isinstance(found, Study):
        raise ReportError(f"the study's package {name!r} declares no STUDY = dlreport.study.Study(…)")
    return found
