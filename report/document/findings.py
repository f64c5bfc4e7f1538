"""The judged findings as the report shows them: rows for the tables, the forest plot's
rows, and the few words each number is printed with.

Everything here only arranges what `report.facts.claims` decided: no verdict, interval or
cause is computed or changed here, so the tables, the forest plot and the prose can never
disagree with the record.
"""

from __future__ import annotations

import math

from dlreport.document import palette
from dlreport.document.figure_cache import Figure, FigureCache
from dlreport.facts import stats
from dlreport.facts.claims import Judged, TestResult


def _digits(x: float) -> int:
    magnitude = abs(x)
    return 4 if magnitude < 1 else 3 if magnitude < 10 else 1


def number(x: float, whole: bool = False, digits: int | None = None) -> str:
    """A number as a finding prints it: whole numbers for step counts, else to a precision
    that fits its size; a true minus sign."""
    text = f"{round(x):d}" if whole else f"{x:.{digits if digits is not None else _digits(x)}f}"
    return text.replace("-", "\u2212")


def interval(e: stats.Estimate, digits: int | None = None) -> str:
    """The 95 % interval (step counts rounded outwards to whole steps), or why there is none;
    its bounds joined by a no-break space, so that a line breaks before an interval, never inside it."""
    if not e.spread_known:
        return "one seed: no interval"
    d = digits if digits is not None else _digits(max(abs(e.lo), abs(e.hi), abs(e.mean)))
    if e.whole:
        return f"[{number(math.floor(e.lo + 1e-9), True)},\u00a0{number(math.ceil(e.hi - 1e-9), True)}]"
    return f"[{number(e.lo, digits=d)},\u00a0{number(e.hi, digits=d)}]"


def estimate(e: stats.Estimate, seeds: bool = True) -> str:
    """An estimate with its interval; a step count of one experiment with its seeds' range too
    (unless `seeds` is false)."""
    d = _digits(max(abs(e.mean), abs(e.lo or 0), abs(e.hi or 0)))
    # a step count of one experiment's seeds is shown whole; a difference of two experiments'
    # means of step counts is not a step count, and keeps its tenth
    text = f"{number(e.mean, e.whole and len(e.n) == 1, 1 if e.whole else d)} {interval(e, d)}"
    if seeds and e.whole and e.range and len(e.n) == 1:
        low, high = e.range
        text += f"; seeds {number(low, True)}" + (f"\u2013{number(high, True)}" if high != low else "")
    return text


def region(result: TestResult) -> str:
    """The region the finding claims, in words."""
    t = result.test

    def bound(x: float) -> str:
        return f"{x:g}".replace("-", "\u2212")

    if t.above is not None and t.below is not None:
        return f"{bound(t.above)}\u2013{bound(t.below)}"
    return f"above {bound(t.above)}" if t.above is not None else f"below {bound(t.below)}"


def _values(values: list[float], unit: str) -> str:
    """One value, or the first and last of a run of them, with the unit once: "2–5 pp"."""
    shown = [f"{100 * v:g}" if unit in ("pp", "%") else f"{v:g}" for v in (values[0], values[-1])]
    span = shown[0] if len(values) == 1 else f"{shown[0]}\u2013{shown[1]}"
    return f"{span} {unit}" if unit else span


def sweep(result: TestResult) -> str:
    """How far the threshold can move before the verdict changes: the verdict at each value
    tried, runs of one verdict joined ("confirmed for 1–3 pp; undecided at 0.5 pp")."""
    if not result.sweep:
        return ""
    unit = result.test.sweep.unit
    runs: list[tuple[str, list[float]]] = []
    for value, verdict in result.sweep:
        if runs and runs[-1][0] == verdict:
            runs[-1][1].append(value)
        else:
            runs.append((verdict, [value]))
    parts = []
    for verdict, values in runs:
        parts.append(f"{verdict} {'at' if len(values) == 1 else 'for'} {_values(values, unit)}")
    return f"{result.test.sweep.name}: " + "; ".join(parts)


def detectable(result: TestResult) -> str:
    """For an undecided sub-test, the smallest distance from its bound our seeds could have
    detected (80 % power): a claim nearer its bound than this cannot be told from noise."""
    d = result.evidence.detectable
    if result.verdict != stats.UNDECIDED or not result.testable or d is None:
        return ""
    return f"smallest detectable effect {number(d, result.estimate.whole and d >= 1)}"


def key(judged: Judged) -> TestResult:
    """The sub-test a finding's verdict rests on most: the first of its own verdict (for a
    finding partly reproduced, the first not reproduced: what differs; for one undecided, the
    first undecided: what holds it back)."""
    wanted = {stats.CONFIRMED: stats.CONFIRMED, stats.PARTLY: stats.NOT_REPRODUCED,
              stats.NOT_REPRODUCED: stats.NOT_REPRODUCED}.get(judged.verdict, stats.UNDECIDED)
    return next((t for t in judged.testable if t.verdict == wanted), (judged.testable or judged.tests)[0])


def headline(judged: list[Judged]) -> str:
    """E.g. "6 confirmed, 7 partly reproduced, 2 not reproduced and 5 undecided"."""
    from dlreport.facts.claims import counts

    c = counts(judged)
    parts = [f"{c[v]} {v}" for v in stats.FINDING_VERDICTS]
    return ", ".join(parts[:-1]) + f" and {parts[-1]}"


def forest_rows(judged: list[Judged]) -> list[dict]:
    """One row per sub-test for the forest plot: its label, estimate, interval, claimed
    region and verdict (only plain numbers: the figure's cache key is made of them)."""
    rows = []
    for j in judged:
        for k, t in enumerate(j.tests, 1):
            e = t.estimate
            rows.append({"label": f"{j.claim.id}.{k}", "finding": j.claim.id, "estimate": e.mean, "lo": e.lo, "hi": e.hi,
                         "above": t.test.above, "below": t.test.below, "verdict": t.verdict, "testable": t.testable})
    return rows


FOREST_COLUMNS = 3  # side by side on paper (a third of a page tall), stacked on a phone


def forest_columns(rows: list[dict], k: int = FOREST_COLUMNS) -> list[list[dict]]:
    """The forest plot's rows in `k` columns, each cut between findings as near to an even
    share as can be (a finding is never split)."""
    starts = [i for i, r in enumerate(rows) if i == 0 or r["finding"] != rows[i - 1]["finding"]]
    cuts = sorted({min(starts, key=lambda s: abs(s - len(rows) * j / k)) for j in range(1, k)} - {0})
    return [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)]) if rows[a:b]]


def forest(judged: list[Judged], cache: FigureCache) -> dict | None:
    """The forest plot as its columns (drawn apart, so that a phone stacks them), and the
    colours its key explains."""
    if not judged:
        return None
    columns = forest_columns(forest_rows(judged))
    slots = max(len(c) for c in columns)
    return {"panels": [Figure(cache, "forest", c, slots) for c in columns], "verdicts": palette.VERDICTS,
            "region": palette.REGION, "not_testable": palette.NOT_TESTABLE}


def second_setup(judged: list[Judged]) -> list[dict]:
    """Every sub-test judged again on the second set-up: its verdict on both, and whether it survives."""
    return [{"finding": j.claim.id, "label": f"{j.claim.id}.{k}", "words": t.test.words, "first": t.verdict,
             "second": t.alternative.verdict, "survives": t.survives, "estimate": t.estimate,
             "second_estimate": t.alternative.estimate}
            for j in judged for k, t in enumerate(j.tests, 1) if t.alternative is not None]
