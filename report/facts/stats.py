"""Numbers over seeds, and the one rule that judges a finding: scipy.stats does the statistics.

Every experiment runs several seeds, so every number the report states is a sample:

* one quantity over n seeds: mean, sample standard deviation and the Student-t 95 %
  confidence interval of the mean (`summary`);
* a difference between two experiments: Welch's t interval of the difference of means
  (`difference`), which does not assume equal spreads;
* the original's single run held against ours: the 95 % *prediction* interval of one more
  run of ours (`prediction`) — the question is whether the original's number is what one
  more seed would give, not whether it equals our mean;
* every interval respects its quantity's support (`Support`): an accuracy stays in [0, 1], a
  non-negative quantity above 0, an iteration or epoch a whole number within the run.

**The rule** (`judge_family`). A sub-test claims that a quantity (or a difference) lies in a
region — above a bound, below one, or between two. Its evidence is two one-sided t-tests
(scipy): `p_confirm`, against "it lies outside the region", and `p_refute`, against "it lies
inside" (each doubled, so that a lone sub-test is confirmed exactly when its 95 % interval
lies inside the region and not reproduced exactly when it lies wholly outside). A finding's
sub-tests are one family: Holm's step-down procedure (Holm 1979) is applied to its
`p_confirm`s and, separately, to its `p_refute`s at α = 0.05, so that the chance of wrongly
confirming any sub-test of a finding — or wrongly refuting one — stays below 5 % however
many sub-tests it has. A sub-test is *confirmed*, *not reproduced*, or *undecided within
seed noise*; a side with a single seed is always undecided (no spread is known).

A finding then reads its sub-tests (`finding_verdict`): **confirmed** when all are
confirmed, **partly reproduced** when some are confirmed and some not reproduced, **not
reproduced** when none is confirmed and at least one is not reproduced, **undecided**
otherwise. Sub-tests the data cannot answer are left out of that count (they are flagged).
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path

from dlreport.digests import digest
from dlreport.fsutil import atomic_write_text

_memo: dict[str, object] = {}  # the digest of a computation's inputs -> its result, as plain data
_memo_path: Path | None = None
_memo_used: set[str] = set()
_memo_changed = False
MEMO_FORMAT = 1  # of the kept results: bumped when a computation below changes
MEMO_LIMIT = 20_000  # results kept between processes; beyond it, only those the last process used


def use_memo(path: Path | None) -> None:
    """Keep the results computed here in `path` between processes: a build whose runs did not
    change (a prose edit) then imports no scipy at all. A result is found again only for the
    same computation (`MEMO_FORMAT`) of the same numbers: it is named by their digest."""
    global _memo_path, _memo, _memo_changed
    _memo_path, _memo, _memo_changed = path, {}, False
    _memo_used.clear()
    if path is not None:
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
            _memo = kept if isinstance(kept, dict) else {}
        except (OSError, ValueError):
            pass  # absent or damaged: computed again


def save_memo() -> None:
    """Write the results for the next process (a failed write costs only time)."""
    global _memo_changed
    if _memo_path is None or not _memo_changed:
        return
    kept = _memo if len(_memo) <= MEMO_LIMIT else {k: v for k, v in _memo.items() if k in _memo_used}
    try:
        atomic_write_text(_memo_path, json.dumps(kept, sort_keys=True))
        _memo_changed = False
    except OSError:
        pass


def _remembered(kind: str, inputs: object, compute, save, revive):
    """`compute()`, or its result kept from an earlier call with the same inputs."""
    global _memo_changed
    key = digest([MEMO_FORMAT, kind, inputs])
    _memo_used.add(key)
    if key in _memo:
        try:
            return revive(_memo[key])
        except (TypeError, KeyError, ValueError):
            pass  # damaged: computed again
    result = compute()
    _memo[key] = save(result)
    _memo_changed = True
    return result


CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE  # the family-wise error rate of a finding's sub-tests
POWER = 0.8  # for the smallest effect an undecided sub-test could have detected
CONFIRMED, NOT_REPRODUCED, UNDECIDED, PARTLY = "confirmed", "not reproduced", "undecided", "partly reproduced"
FINDING_VERDICTS = (CONFIRMED, PARTLY, NOT_REPRODUCED, UNDECIDED)


class Support(Enum):
    """Where a quantity can lie, so that no interval reaches where it cannot be."""

    REAL = (-math.inf, math.inf)
    NONNEGATIVE = (0.0, math.inf)
    PROPORTION = (0.0, 1.0)
    STEP = (1.0, math.inf)  # an iteration or epoch: a whole number from 1 (to the run's length, given per reading)

    @property
    def whole(self) -> bool:
        return self is Support.STEP


@dataclass(frozen=True)
class Estimate:
    """A mean (or a difference of means) with its sample sizes, spread and interval.

    `lo`/`hi` are None when a side has one seed: nothing is known about the spread then.
    `values` are the seeds' own numbers (one side's), kept for the median and range that
    whole-number quantities are shown with."""

    mean: float
    n: tuple[int, ...]  # seeds behind it: (n,) for one quantity, (n_a, n_b) for a difference
    sd: float | None = None  # sample standard deviation (one quantity only)
    lo: float | None = None
    hi: float | None = None
    values: tuple[float, ...] = ()
    whole: bool = False  # a count of steps: shown as whole numbers

    @property
    def spread_known(self) -> bool:
        return self.lo is not None

    def contains(self, value: float) -> bool | None:
        """Whether `value` lies inside the interval (None when no interval is known)."""
        return None if self.lo is None else self.lo <= value <= self.hi

    @property
    def median(self) -> float | None:
        import statistics

        return statistics.median(self.values) if self.values else None

    @property
    def range(self) -> tuple[float, float] | None:
        return (min(self.values), max(self.values)) if self.values else None


def _values(values) -> list[float]:
    out = [float(v) for v in values]
    if not out or not all(math.isfinite(v) for v in out):
        raise ValueError(f"cannot summarise {out!r}")
    return out


def _clipped(lo: float, hi: float, support: Support, top: float = math.inf) -> tuple[float, float]:
    low, high = support.value[0], min(support.value[1], top)
    return max(lo, low), min(hi, high)


def summary(values, support: Support = Support.REAL, top: float = math.inf, whole: bool | None = None) -> Estimate:
    """Mean, standard deviation and 95 % interval of one quantity over seeds (the interval
    kept within the quantity's support; `top` is a step count's largest possible value;
    `whole`: shown as whole numbers, by default when the support is a step count's)."""
    xs = _values(values)
    whole = support.whole if whole is None else whole
    return _remembered("summary", [xs, support.name, top, whole], lambda: _summary(xs, support, top, whole),
                       _saved, _estimate)


def _saved(e: Estimate) -> dict:
    return asdict(e)


def _estimate(kept: dict) -> Estimate:
    return Estimate(**{**kept, "n": tuple(kept["n"]), "values": tuple(kept["values"])})


def _summary(xs: list[float], support: Support, top: float, whole: bool) -> Estimate:
    from scipy import stats

    mean = sum(xs) / len(xs)
    if len(xs) < 2:
        return Estimate(mean, (1,), values=tuple(xs), whole=whole)
    if min(xs) == max(xs):  # identical seeds (an epoch count, say): the interval is the point itself
        return Estimate(mean, (len(xs),), 0.0, mean, mean, tuple(xs), whole)
    with warnings.catch_warnings():  # near-identical seeds: scipy warns of precision, the interval is still tiny
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = stats.ttest_1samp(xs, mean).confidence_interval(CONFIDENCE)
        sd = float(stats.tstd(xs))
    lo, hi = _clipped(float(ci.low), float(ci.high), support, top)
    return Estimate(float(mean), (len(xs),), sd, lo, hi, tuple(xs), whole)


def difference(a, b, whole: bool = False) -> Estimate:
    """Mean of `a` minus mean of `b`, with Welch's 95 % interval."""
    xa, xb = _values(a), _values(b)
    return _remembered("difference", [xa, xb, whole], lambda: _difference(xa, xb, whole), _saved, _estimate)


def _difference(xa: list[float], xb: list[float], whole: bool) -> Estimate:
    from scipy import stats

    mean = sum(xa) / len(xa) - sum(xb) / len(xb)
    n = (len(xa), len(xb))
    if min(n) < 2:
        return Estimate(mean, n, whole=whole)
    if min(xa) == max(xa) and min(xb) == max(xb):
        return Estimate(mean, n, None, mean, mean, whole=whole)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = stats.ttest_ind(xa, xb, equal_var=False).confidence_interval(CONFIDENCE)
    return Estimate(float(mean), n, None, float(ci.low), float(ci.high), whole=whole)


def prediction(estimate: Estimate, support: Support = Support.REAL) -> tuple[float, float] | None:
    """The 95 % prediction interval of one more run, from the seeds behind `estimate` (one
    quantity): where a single run — the original's — would fall if it were one of ours."""
    if estimate.sd is None or len(estimate.n) != 1:
        return None
    if estimate.sd == 0:
        return estimate.mean, estimate.mean
    return _remembered("prediction", [estimate.mean, estimate.sd, estimate.n[0], support.name],
                       lambda: _prediction(estimate.mean, estimate.sd, estimate.n[0], support), list, tuple)


def _prediction(mean: float, sd: float, n: int, support: Support) -> tuple[float, float]:
    from scipy import stats

    lo, hi = stats.t.interval(CONFIDENCE, n - 1, loc=mean, scale=sd * math.sqrt(1 + 1 / n))
    return _clipped(float(lo), float(hi), support)


@dataclass(frozen=True)
class Evidence:
    """One sub-test's numbers: its estimate, and the two p-values the rule reads."""

    estimate: Estimate
    p_confirm: float  # small: the quantity lies in the claimed region
    p_refute: float  # small: it lies outside it
    a: tuple[float, ...] = ()  # the seeds' values it was made from (minus `b`'s, when there are two sides)
    b: tuple[float, ...] | None = None

    @property
    def detectable(self) -> float | None:
        """The smallest distance from the region's bound our seeds would detect (POWER);
        computed when asked (the report asks for undecided sub-tests only)."""
        if min(self.estimate.n) < 2:
            return None
        a, b = list(self.a), None if self.b is None else list(self.b)
        return _remembered("detectable", [a, b], lambda: _detectable(a, b), float, float)


def _one_sided(a: list[float], b: list[float] | None, bound: float, side: str) -> float:
    """p-value of the one-sided t-test that the mean (or the difference of means) lies on
    `side` ("greater" or "less") of `bound`: Student's for one sample, Welch's for two."""
    from scipy import stats

    shifted = [x - bound for x in a]
    if b is None:
        if min(a) == max(a):
            return 0.0 if (a[0] > bound if side == "greater" else a[0] < bound) else 1.0
        result = stats.ttest_1samp(shifted, 0.0, alternative=side)
    else:
        if min(a) == max(a) and min(b) == max(b):
            d = a[0] - b[0]
            return 0.0 if (d > bound if side == "greater" else d < bound) else 1.0
        result = stats.ttest_ind(shifted, b, equal_var=False, alternative=side)
    return float(result.pvalue)


def evidence(a, b=None, above: float | None = None, below: float | None = None,
             support: Support = Support.REAL, top: float = math.inf, whole: bool | None = None) -> Evidence:
    """A sub-test's estimate and p-values for the region (above, below): `a`'s seeds, minus
    `b`'s when it compares two experiments (`summary` says what `support`, `top`, `whole` do)."""
    xa = _values(a)
    xb = _values(b) if b is not None else None
    whole = support.whole if whole is None else whole
    estimate = summary(xa, support, top, whole) if xb is None else difference(xa, xb, whole)
    if min(estimate.n) < 2:
        return Evidence(estimate, 1.0, 1.0, tuple(xa), None if xb is None else tuple(xb))
    p_confirm, p_refute = _remembered("p-values", [xa, xb, above, below], lambda: _p_values(xa, xb, above, below),
                                      list, tuple)
    return Evidence(estimate, p_confirm, p_refute, tuple(xa), None if xb is None else tuple(xb))


def _p_values(xa: list[float], xb: list[float] | None, above: float | None, below: float | None) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        into = [_one_sided(xa, xb, above, "greater")] if above is not None else []
        into += [_one_sided(xa, xb, below, "less")] if below is not None else []
        out = [_one_sided(xa, xb, above, "less")] if above is not None else []
        out += [_one_sided(xa, xb, below, "greater")] if below is not None else []
    return min(1.0, 2 * max(into)), min(1.0, 2 * min(out))  # inside every bound; outside one of them


def _detectable(a: list[float], b: list[float] | None) -> float | None:
    """The smallest distance of the true mean from a bound that a one-sided t-test at the
    rule's level (α/2 each side) detects with probability POWER, given the seeds' spread
    (Simonsohn's "small telescopes": what our seeds could have seen at all). scipy's
    noncentral t gives the power; scipy's root finder the distance."""
    from scipy import optimize, stats

    with warnings.catch_warnings():  # near-identical seeds: scipy warns of precision loss in the variance
        warnings.simplefilter("ignore", RuntimeWarning)
        return _detectable_distance(a, b, optimize, stats)


def _detectable_distance(a: list[float], b: list[float] | None, optimize, stats) -> float:
    if b is None:
        n = len(a)
        se, df = stats.tstd(a) / math.sqrt(n), n - 1
    else:
        va, vb = stats.tvar(a) / len(a), stats.tvar(b) / len(b)
        se = math.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if va + vb else len(a) + len(b) - 2
    if not se or not math.isfinite(se):
        return 0.0
    critical = stats.t.ppf(1 - ALPHA / 2, df)

    def shortfall(distance: float) -> float:
        return stats.nct.sf(critical, df, distance / se) - POWER

    return float(optimize.brentq(shortfall, 0.0, 1e3 * se + critical * se * 10))


def holm(p_values: list[float], alpha: float = ALPHA) -> list[bool]:
    """Holm's step-down procedure: which of the hypotheses are rejected with the family-wise
    error rate kept at `alpha` (the smallest p-value against alpha/m, the next against
    alpha/(m-1), …, stopping at the first that fails)."""
    order = sorted(range(len(p_values)), key=p_values.__getitem__)
    rejected = [False] * len(p_values)
    for rank, i in enumerate(order):
        if p_values[i] > alpha / (len(p_values) - rank):
            break
        rejected[i] = True
    return rejected


def judge_family(family: list[Evidence]) -> list[str]:
    """The rule of the module docstring for one finding's (testable) sub-tests."""
    confirmed = holm([e.p_confirm for e in family])
    refuted = holm([e.p_refute for e in family])
    return [UNDECIDED if not e.estimate.spread_known else CONFIRMED if c else NOT_REPRODUCED if r else UNDECIDED
            for e, c, r in zip(family, confirmed, refuted)]


def finding_verdict(verdicts: list[str]) -> str:
    """A finding's verdict from its testable sub-tests' (see the module docstring)."""
    if verdicts and all(v == CONFIRMED for v in verdicts):
        return CONFIRMED
    if NOT_REPRODUCED in verdicts:
        return PARTLY if CONFIRMED in verdicts else NOT_REPRODUCED
    return UNDECIDED


def verdict(estimate: Estimate, above: float | None = None, below: float | None = None) -> str:
    """A lone interval's reading against a region: inside it, wholly outside it, or neither.
    (For a change between two builds, say; findings use `judge_family`.)"""
    if not estimate.spread_known:
        return UNDECIDED
    low_ok = above is None or estimate.lo > above
    high_ok = below is None or estimate.hi < below
    if low_ok and high_ok:
        return CONFIRMED
    outside = (above is not None and estimate.hi <= above) or (below is not None and estimate.lo >= below)
    return NOT_REPRODUCED if outside else UNDECIDED
