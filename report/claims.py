"""A study's findings as data: what each claims, and the sub-tests our runs can answer.

A study declares its findings with these types (`Study.claims`); the engine owns how they
are judged (`facts.claims`, `facts.stats`). A sub-test reads one fact per seed of one
experiment (optionally minus another experiment's), at the point where the original read it,
and names the region the finding puts it in, with the reason for both. The facts a reading
can name are `facts.analysis.FACTS` and the study's own (`Study.facts`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# The causes the engine's verdict rule itself names (`facts.claims`): a sub-test left undecided by
# the seeds' spread, and one that the second set-up reproduces. A study's `causes` explains them
# beside its own (a finding's `cause`, its `Study.unmet`).
SEED_NOISE, SET_UP = "seed noise", "our set-up"


@dataclass(frozen=True)
class Reading:
    """One number read off every seed of one experiment."""

    experiment: str
    fact: str
    metric: str | None = None  # None: the study's primary metric (`Study.primary`)
    at: int | None = None  # the step it is read at; None: the end of the run
    param: float | None = None  # the fact's own parameter, where it has one (settle_step's share)


@dataclass(frozen=True)
class Sweep:
    """How far a sub-test's threshold can move: the test again at each value of `values`."""

    name: str  # what moves, in words: "half-width of '≈'", "share of the gain"
    values: tuple[float, ...]
    make: Callable[[float], Test]
    unit: str = ""  # how a value is printed: "pp" (× 100, points), "%" (× 100) or "" (as it is)


@dataclass(frozen=True)
class Test:
    words: str
    of: Reading
    minus: Reading | None = None
    above: float | None = None  # the claimed region: greater than `above` …
    below: float | None = None  # … and less than `below`
    why: str = ""  # the reason for the reading point and the threshold
    setup_dependent: bool = False  # hangs on a choice the original did not state
    needs: str | None = None  # a condition on the data without which it cannot be answered
    cause: str | None = None  # why it may differ from the original, where the finding's cause does not say
    sweep: Sweep | None = None


@dataclass(frozen=True)
class Claim:
    id: str
    part: str
    quote: str  # the original's words: verbatim when `verbatim`, else our paraphrase
    verbatim: bool
    claim: str  # what it claims, in plain words
    tests: tuple[Test, ...]
    cause: str | None = None  # the likeliest cause of a sub-test not reproduced (`Study.causes`), where the sub-test names none
    note: str | None = None  # where the original misreads its own numbers, or compares unlike things

    @property
    def original(self) -> str:
        """The finding in one line, for the record and `diff`."""
        return self.claim


@dataclass(frozen=True)
class Setup:
    """A second set-up for what the original left unstated: the experiments that stand in
    for the first set-up's in the sub-tests that hang on it."""

    name: str
    stands_for: dict[str, str]
