"""Numbers over seeds: a mean with its spread and 95 % interval, and the one verdict rule.

Every experiment runs several seeds, so every number the report states is a sample. It
is summarised here, with scipy.stats doing the statistics, never by hand:

* one quantity over n seeds: mean, sample standard deviation and the Student-t 95 %
  confidence interval of the mean (`scipy.stats.ttest_1samp(...).confidence_interval`);
* a difference between two experiments: Welch's t interval of the difference of means
  (`scipy.stats.ttest_ind(..., equal_var=False)`), which does not assume equal spreads.

**The rule** (`verdict`): a finding claims that a quantity, or a difference, lies in a
region (above a bound, below one, or between two). It is *confirmed* when the whole 95 %
interval lies inside the region, *not reproduced* when the whole interval lies outside
it, and *undecided within seed noise* otherwise — also whenever a side has a single seed,
where no spread is known.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

CONFIDENCE = 0.95
CONFIRMED, NOT_REPRODUCED, UNDECIDED = "confirmed", "not reproduced", "undecided"


@dataclass(frozen=True)
class Estimate:
    """A mean (or a difference of means) with its sample sizes, spread and interval.

    `lo`/`hi` are None when a side has one seed: nothing is known about the spread then."""

    mean: float
    n: tuple[int, ...]  # seeds behind it: (n,) for one quantity, (n_a, n_b) for a difference
    sd: float | None = None  # sample standard deviation (one quantity only)
    lo: float | None = None
    hi: float | None = None

    @property
    def spread_known(self) -> bool:
        return self.lo is not None

    def contains(self, value: float) -> bool | None:
        """Whether `value` lies inside the interval (None when no interval is known)."""
        return None if self.lo is None else self.lo <= value <= self.hi


def _values(values) -> list[float]:
    out = [float(v) for v in values]
    if not out or not all(math.isfinite(v) for v in out):
        raise ValueError(f"cannot summarise {out!r}")
    return out


def summary(values) -> Estimate:
    """Mean, standard deviation and 95 % interval of one quantity over seeds."""
    from scipy import stats

    xs = _values(values)
    mean = sum(xs) / len(xs)
    if len(xs) < 2:
        return Estimate(mean, (1,))
    if min(xs) == max(xs):  # identical seeds (an epoch count, say): the interval is the point itself
        return Estimate(mean, (len(xs),), 0.0, mean, mean)
    with warnings.catch_warnings():  # near-identical seeds: scipy warns of precision, the interval is still tiny
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = stats.ttest_1samp(xs, mean).confidence_interval(CONFIDENCE)
    return Estimate(float(mean), (len(xs),), float(stats.tstd(xs)), float(ci.low), float(ci.high))


def difference(a, b) -> Estimate:
    """Mean of `a` minus mean of `b`, with Welch's 95 % interval."""
    from scipy import stats

    xa, xb = _values(a), _values(b)
    mean = sum(xa) / len(xa) - sum(xb) / len(xb)
    n = (len(xa), len(xb))
    if min(n) < 2:
        return Estimate(mean, n)
    if min(xa) == max(xa) and min(xb) == max(xb):
        return Estimate(mean, n, None, mean, mean)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = stats.ttest_ind(xa, xb, equal_var=False).confidence_interval(CONFIDENCE)
    return Estimate(float(mean), n, None, float(ci.low), float(ci.high))


def verdict(estimate: Estimate, above: float | None = None, below: float | None = None) -> str:
    """The rule of the module docstring, for the region (above, below) (either bound may be open)."""
    if not estimate.spread_known:
        return UNDECIDED
    low_ok = above is None or estimate.lo > above
    high_ok = below is None or estimate.hi < below
    if low_ok and high_ok:
        return CONFIRMED
    outside = (above is not None and estimate.hi <= above) or (below is not None and estimate.lo >= below)
    return NOT_REPRODUCED if outside else UNDECIDED
