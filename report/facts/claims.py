"""The original's findings (`Study.claims`) judged over this build's seeds.

Each sub-test reads its fact off every seed of its experiment(s) (`analysis.read`); its
evidence is an estimate with its 95 % interval and the two p-values of the rule
(`stats.evidence`): a difference between two experiments is Welch's, a difference between
two reading points of one experiment is taken seed by seed (the same runs, read twice). A
finding's testable sub-tests are then judged together (`stats.judge_family`, Holm over the
family) and the finding by `stats.finding_verdict`. Beside each verdict stand, never inside
it: whether the data could answer the sub-test at all, whether it hangs on a choice the
original left open (and, where a second set-up was run, its verdict there), how far its
threshold can move before the verdict changes, and for a sub-test not confirmed its likely
cause. A finding whose runs are not all in the build (a partial `--only` build) is left
out, not judged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dlreport import study
from dlreport.claims import SEED_NOISE, SET_UP, Claim, Reading, Setup, Test
from dlreport.facts import analysis, stats
from dlreport.runs.result import Result
from dlreport.runs.runner import Outcome, by_experiment


@dataclass(frozen=True)
class TestResult:
    test: Test
    evidence: stats.Evidence
    verdict: str
    testable: bool
    alternative: TestResult | None = None  # the same sub-test on the second set-up, where it was run
    sweep: tuple[tuple[float, str], ...] = ()  # (threshold value, verdict) over the test's sweep
    cause: str | None = None  # for a sub-test not confirmed: the likeliest reason (a key of `Study.causes`)

    @property
    def estimate(self) -> stats.Estimate:
        return self.evidence.estimate

    @property
    def survives(self) -> bool | None:
        """Whether the second set-up gives the same verdict (None where it was not run)."""
        return None if self.alternative is None else self.alternative.verdict == self.verdict


@dataclass(frozen=True)
class Judged:
    claim: Claim
    tests: tuple[TestResult, ...]

    @property
    def testable(self) -> tuple[TestResult, ...]:
        return tuple(t for t in self.tests if t.testable)

    @property
    def verdict(self) -> str:
        return stats.finding_verdict([t.verdict for t in self.testable])

    @property
    def not_testable(self) -> bool:
        return any(not t.testable for t in self.tests)

    @property
    def setup_dependent(self) -> bool:
        return any(t.test.setup_dependent for t in self.tests)

    def of(self, verdict: str) -> tuple[TestResult, ...]:
        return tuple(t for t in self.testable if t.verdict == verdict)

    @property
    def causes(self) -> list[str]:
        """The likely causes of every sub-test not confirmed, each once."""
        return list(dict.fromkeys(t.cause for t in self.tests if t.cause))

    def as_record(self) -> dict:
        return {
            "id": self.claim.id, "part": self.claim.part, "claim": self.claim.original, "verdict": self.verdict,
            "flags": [f for f, on in (("not testable here", self.not_testable),
                                       ("set-up dependent", self.setup_dependent)) if on],
            "tests": [{"test": t.test.words, "estimate": t.estimate.mean, "lo": t.estimate.lo, "hi": t.estimate.hi,
                       "n": list(t.estimate.n), "verdict": t.verdict, "testable": t.testable,
                       "p_confirm": t.evidence.p_confirm, "p_refute": t.evidence.p_refute,
                       **({"second_setup": t.alternative.verdict} if t.alternative else {}),
                       **({"cause": t.cause} if t.cause else {})} for t in self.tests],
        }


def _values(reading: Reading, results: dict[str, list[Result]]) -> list[float]:
    return [analysis.read(r, reading.fact, _metric(reading), reading.at, reading.param) for r in results[reading.experiment]]


def _metric(reading: Reading) -> str:
    return reading.metric or study.current().primary


def _length(reading: Reading, results: dict[str, list[Result]]) -> float:
    """The longest a step count of this reading can be: the runs' steps, or the reading point."""
    steps = min(r.steps for r in results[reading.experiment])
    return min(steps, reading.at or steps)


def evidence(test: Test, results: dict[str, list[Result]]) -> stats.Evidence:
    """A sub-test's evidence over the seeds in `results` (experiment id → its seeds' results)."""
    of = test.of
    support = analysis.support(of.fact, _metric(of))
    values = _values(of, results)
    if test.minus is None:
        return stats.evidence(values, None, test.above, test.below, support, _length(of, results))
    other = _values(test.minus, results)
    if test.minus.experiment == of.experiment:  # the same runs read twice: a difference per seed
        return stats.evidence([a - b for a, b in zip(values, other)], None, test.above, test.below, whole=support.whole)
    return stats.evidence(values, other, test.above, test.below, whole=support.whole)


def _family(tests: tuple[Test, ...], results: dict[str, list[Result]], available: frozenset[str]) -> list[TestResult]:
    """Sub-tests judged as one family: the testable ones by Holm together, the rest shown."""
    found = [evidence(t, results) for t in tests]
    testable = [t.needs is None or t.needs in available for t in tests]
    verdicts = iter(stats.judge_family([e for e, ok in zip(found, testable) if ok]))
    return [TestResult(t, e, next(verdicts) if ok else stats.judge_family([e])[0], ok)
            for t, e, ok in zip(tests, found, testable)]


def _remapped(test: Test, setup: Setup) -> Test | None:
    """The sub-test on the second set-up: its experiments replaced, where all have stand-ins."""
    readings = [r for r in (test.of, test.minus) if r is not None]
    if not test.setup_dependent or not all(r.experiment in setup.stands_for for r in readings):
        return None
    return replace(test, of=replace(test.of, experiment=setup.stands_for[test.of.experiment]),
                   minus=test.minus and replace(test.minus, experiment=setup.stands_for[test.minus.experiment]))


def _cause(claim: Claim, result: TestResult) -> str | None:
    if not result.testable:
        return study.current().unmet
    if result.verdict == stats.UNDECIDED:
        return SEED_NOISE
    if result.verdict == stats.NOT_REPRODUCED:
        if result.alternative is not None and result.alternative.verdict != stats.NOT_REPRODUCED:
            return SET_UP
        return result.test.cause or claim.cause
    return None


def judge_claim(claim: Claim, results: dict[str, list[Result]], available: frozenset[str] = frozenset(),
                setup: Setup | None = None) -> Judged:
    """One finding: its sub-tests as a family, each with its second-set-up verdict and its sweep."""
    base = _family(claim.tests, results, available)
    alternative: dict[int, TestResult] = {}
    remapped = [_remapped(t, setup) if setup is not None else None for t in claim.tests]
    if any(r is not None and _present(r, results) for r in remapped):
        family = tuple(r if r is not None and _present(r, results) else t for t, r in zip(claim.tests, remapped))
        again = _family(family, results, available)
        alternative = {i: again[i] for i, r in enumerate(remapped) if r is not None and _present(r, results)}
    judged = []
    for i, (test, result) in enumerate(zip(claim.tests, base)):
        swept = ()
        if test.sweep is not None:
            swept = tuple((value, _family(claim.tests[:i] + (test.sweep.make(value),) + claim.tests[i + 1:], results,
                                          available)[i].verdict) for value in test.sweep.values)
        result = replace(result, alternative=alternative.get(i), sweep=swept)
        judged.append(replace(result, cause=_cause(claim, result)))
    return Judged(claim, tuple(judged))


def _needed(test: Test) -> set[str]:
    return {r.experiment for r in (test.of, test.minus) if r is not None}


def _present(test: Test, results: dict[str, list[Result]]) -> bool:
    return all(results.get(e) for e in _needed(test))


def judge(results: dict[str, list[Result]], claims: tuple[Claim, ...] | None = None, available: frozenset[str] = frozenset(),
          setup: Setup | None = None) -> list[Judged]:
    """Every claim (by default the study's) whose experiments all have results: `results` maps
    an experiment id to the results of its seeds (failed runs left out); `available` names the
    conditions on the data this build meets (a sub-test that needs another is shown but not
    counted); `setup` is the second set-up (by default the study's, when judging its claims)."""
    if claims is None:
        claims, setup = study.current().claims, study.current().second_setup
    return [judge_claim(c, results, available, setup) for c in claims if all(_present(t, results) for t in c.tests)]


def counts(judged: list[Judged]) -> dict[str, int]:
    """Findings per verdict, and per flag."""
    found = {v: sum(j.verdict == v for j in judged) for v in stats.FINDING_VERDICTS}
    return {**found, "not testable here": sum(j.not_testable for j in judged),
            "set-up dependent": sum(j.setup_dependent for j in judged)}


def summary_line(judged: list[Judged]) -> str:
    """E.g. 'findings: 20 judged — 6 confirmed, 7 partly reproduced, 2 not reproduced, 5 undecided …'."""
    c = counts(judged)
    verdicts = ", ".join(f"{c[v]} {v}" for v in stats.FINDING_VERDICTS)
    return (f"findings: {len(judged)} judged — {verdicts} (flagged: {c['not testable here']} not testable here, "
            f"{c['set-up dependent']} set-up dependent)")




def judge_runs(runs: list[Outcome]) -> list[Judged]:
    """The study's claims judged over a build's runs (its failed ones left out), with the
    conditions its data meet."""
    available = study.current().conditions([o.components["spec"]["data"] for o in runs])
    return judge({i: [o.result for o in os] for i, os in by_experiment(runs).items()}, available=available)


__all__ = ["Judged", "TestResult", "counts", "judge", "judge_claim", "judge_runs", "summary_line"]
