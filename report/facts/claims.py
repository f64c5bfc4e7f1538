"""The original's findings (`experiments.claims`) judged over this build's seeds.

Each test reads its fact off every seed of its experiment(s) (`analysis.read`), forms
an estimate with its 95 % interval (`stats.summary`, or `stats.difference` for a
comparison), and gets a verdict by the one rule of `report.facts.stats`. A claim whose runs
are not all in the build (a partial `--only` build) is left out, not judged.
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.claims import CLAIMS, Claim, Reading, Test
from report.facts import analysis, stats


@dataclass(frozen=True)
class TestResult:
    test: Test
    estimate: stats.Estimate
    verdict: str


@dataclass(frozen=True)
class Judged:
    claim: Claim
    tests: tuple[TestResult, ...]

    @property
    def verdict(self) -> str:
        verdicts = {t.verdict for t in self.tests}
        if verdicts == {stats.CONFIRMED}:
            return stats.CONFIRMED
        return stats.NOT_REPRODUCED if stats.NOT_REPRODUCED in verdicts else stats.UNDECIDED

    def as_record(self) -> dict:
        return {
            "id": self.claim.id, "part": self.claim.part, "claim": self.claim.original, "verdict": self.verdict,
            "tests": [{"test": t.test.words, "estimate": t.estimate.mean, "lo": t.estimate.lo, "hi": t.estimate.hi,
                       "n": list(t.estimate.n), "verdict": t.verdict} for t in self.tests],
        }


def _readings(reading: Reading, results: dict[str, list[dict]]) -> list[float]:
    return [analysis.read(r, reading.fact, reading.metric, reading.at) for r in results[reading.experiment]]


def judge_test(test: Test, results: dict[str, list[dict]]) -> TestResult:
    values = _readings(test.of, results)
    estimate = (stats.summary(values) if test.minus is None
                else stats.difference(values, _readings(test.minus, results)))
    return TestResult(test, estimate, stats.verdict(estimate, test.above, test.below))


def judge(results: dict[str, list[dict]], claims: tuple[Claim, ...] = CLAIMS) -> list[Judged]:
    """Every claim whose experiments all have results: `results` maps an experiment id to
    the results of its seeds (failed runs left out)."""
    judged = []
    for claim in claims:
        needed = {r.experiment for t in claim.tests for r in (t.of, t.minus) if r is not None}
        if all(results.get(e) for e in needed):
            judged.append(Judged(claim, tuple(judge_test(t, results) for t in claim.tests)))
    return judged


def summary_line(judged: list[Judged]) -> str:
    """E.g. 'claims: 9 confirmed, 3 not reproduced, 4 undecided within seed noise'."""
    count = {v: sum(j.verdict == v for j in judged) for v in (stats.CONFIRMED, stats.NOT_REPRODUCED, stats.UNDECIDED)}
    return (f"claims: {count[stats.CONFIRMED]} confirmed, {count[stats.NOT_REPRODUCED]} not reproduced, "
            f"{count[stats.UNDECIDED]} undecided within seed noise")
