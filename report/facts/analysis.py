"""Facts computed from a run's curves, for the sentences of the report.

Every number a sentence states comes from here, recomputed on each build, so the
prose can never drift from the runs it describes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from dlreport import study
from dlreport.facts import stats
from dlreport.runs.result import Result
from dlreport.study import ACCURACIES, NONNEGATIVE, PROPORTION, TRAIN_ACC, TRAIN_LOSS, VAL_ACC, VAL_LOSS

CHANCE_MARGIN = 1.5  # a final accuracy below 1.5 × chance (1 / classes) means the run learned nothing
EXPLOSION = 3.0  # a final training loss above 3 × the first one means training blew up
PLATEAU_TOLERANCE = 0.005  # accuracy within half a point of its best counts as "plateaued"
SETTLE_SHARE = 0.95  # a curve has settled once it has made 95 % of its change
OVERFIT_MARGIN = 0.01  # final validation loss ≥ 1 % above its minimum counts as overfitting


@dataclass(frozen=True)
class Facts:
    steps: int
    best_val_loss: float
    best_val_loss_step: int  # where validation loss bottoms out
    overfits: bool  # validation loss ends clearly above its minimum
    plateau_step: int  # first step within PLATEAU_TOLERANCE of the best validation accuracy
    best_val_acc: float
    final_gap: float  # train accuracy - validation accuracy at the end
    final_val_acc: float

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def facts(history: dict[str, list[float]]) -> Facts:
    val_loss, val_acc = history[VAL_LOSS], history[VAL_ACC]
    best_loss_at = min(range(len(val_loss)), key=val_loss.__getitem__)
    return Facts(
        steps=len(val_loss),
        best_val_loss=val_loss[best_loss_at],
        best_val_loss_step=best_loss_at + 1,
        overfits=rise(history, VAL_LOSS, None) > OVERFIT_MARGIN,
        plateau_step=plateau_step(history, VAL_ACC, None),
        best_val_acc=max(val_acc),
        final_gap=gap(history, VAL_ACC, None),
        final_val_acc=val_acc[-1],
    )


# Facts one claim can read off one run (see experiments/claims.py): each takes the run's
# history, a metric, the step to read at (None: the end; a step past the end of a shorter
# run, such as a quick build's, reads its end) and, where it has one, its own parameter.
# Each reads the metric it is given — none silently reads another.

GAP_PAIRS = {VAL_ACC: (TRAIN_ACC, 1.0), VAL_LOSS: (TRAIN_LOSS, -1.0)}  # validation metric → (training metric, sign)


def _upto(history: dict[str, list[float]], at: int | None) -> int:
    steps = len(next(iter(history.values())))
    return min(at or steps, steps)


def value(history: dict[str, list[float]], metric: str, at: int | None) -> float:
    return history[metric][_upto(history, at) - 1]


def gap(history: dict[str, list[float]], metric: str, at: int | None) -> float:
    """The generalisation gap in `metric`, a validation metric: training minus validation
    accuracy, or validation minus training loss (either way, positive when the training set
    is fitted better)."""
    if metric not in GAP_PAIRS:
        raise ValueError(f"a gap is measured in a validation metric ({', '.join(GAP_PAIRS)}), not {metric!r}")
    train, sign = GAP_PAIRS[metric]
    n = _upto(history, at)
    return sign * (history[train][n - 1] - history[metric][n - 1])


def loss_min_step(history: dict[str, list[float]], metric: str, at: int | None) -> int:
    values = history[metric][:_upto(history, at)]
    return 1 + min(range(len(values)), key=values.__getitem__)


def plateau_step(history: dict[str, list[float]], metric: str, at: int | None, tolerance: float | None = None) -> int:
    """The first step where `metric` comes within `tolerance` of its best so far."""
    values = history[metric][:_upto(history, at)]
    best = max(values)
    return 1 + next(i for i, v in enumerate(values) if v >= best - (PLATEAU_TOLERANCE if tolerance is None else tolerance))


def gain_share(history: dict[str, list[float]], metric: str, at: int | None) -> float:
    """The share of `metric`'s whole change over the run (first step to last) made by `at`:
    1 when nothing more happens after it, 0.5 when half the change is still to come."""
    values = history[metric]
    total = values[-1] - values[0]
    return (values[_upto(history, at) - 1] - values[0]) / total if total else 1.0


def settle_step(history: dict[str, list[float]], metric: str, at: int | None, share: float | None = None) -> int:
    """The first step by which `metric` has made `share` (default SETTLE_SHARE) of its
    change from the first step to `at`: where its curve has all but levelled off, a point
    that does not depend on the metric's scale as a fixed tolerance would."""
    values = history[metric][:_upto(history, at)]
    share = SETTLE_SHARE if share is None else share
    total = values[-1] - values[0]
    if not total:
        return 1
    return 1 + next(i for i, v in enumerate(values) if (v - values[0]) / total >= share)


def rise(history: dict[str, list[float]], metric: str, at: int | None) -> float:
    """How far `metric` (a loss) has climbed above its minimum so far, relative to it."""
    values = history[metric][:_upto(history, at)]
    return values[-1] / min(values) - 1.0


def after_val_min(history: dict[str, list[float]], metric: str, at: int | None) -> float:
    """How `metric` changed from the step where validation loss was lowest to `at`: a
    training loss that keeps falling while validation loss climbs is the mark of overfitting."""
    values = history[metric][:_upto(history, at)]
    turn = loss_min_step(history, VAL_LOSS, at)
    return values[-1] - values[turn - 1]


def upward(history: dict[str, list[float]], metric: str, at: int | None) -> float:
    values = history[metric][:_upto(history, at)]
    return sum(max(0.0, b - a) for a, b in zip(values, values[1:]))


def gain(history: dict[str, list[float]], metric: str, at: int | None) -> float:
    return history[metric][_upto(history, at) - 1] - history[metric][0]


FACTS = {f.__name__: f for f in (value, gap, loss_min_step, plateau_step, gain_share, settle_step, rise, after_val_min,
                                  upward, gain)}
PARAMETERS = {"plateau_step", "settle_step"}  # the facts that take a parameter of their own (tolerance, share)
STEP_FACTS = {"loss_min_step", "plateau_step", "settle_step"}  # whole numbers of steps


def support(fact: str, metric: str) -> stats.Support:
    """Where a fact's values can lie: a step count from 1, an accuracy in [0, 1], a loss, a
    rise, a summed increase or a time from 0; differences and shares anywhere."""
    if fact in STEP_FACTS:
        return stats.Support.STEP
    if fact == "value":
        declared = study.current().declared(metric)
        bounds = declared.bounds if declared is not None else PROPORTION if metric in ACCURACIES else NONNEGATIVE
        return {PROPORTION: stats.Support.PROPORTION, NONNEGATIVE: stats.Support.NONNEGATIVE}.get(bounds, stats.Support.REAL)
    return stats.Support.NONNEGATIVE if fact in ("rise", "upward", "seconds") else stats.Support.REAL


def read(result: Result, fact: str, metric: str, at: int | None, param: float | None = None) -> float:
    """One fact of one finished run; `seconds` is its wall-clock training time."""
    if fact == "seconds":
        return float(result.train_seconds)
    if fact in PARAMETERS:
        return float(FACTS[fact](result.history, metric, at, param))
    if param is not None:
        raise ValueError(f"the fact {fact!r} takes no parameter")
    if fact not in FACTS:  # one of the study's own (`Study.facts`)
        return float(study.current().facts[fact](result, metric, at))
    return float(FACTS[fact](result.history, metric, at))


def suspicions(history: dict[str, list[float]]) -> list[str]:
    """What makes a run's finite numbers absurd: it ended at chance (where the study says what
    chance is), or its loss exploded."""
    found = []
    chance = study.current().chance
    if chance is not None and VAL_ACC in history and history[VAL_ACC][-1] < CHANCE_MARGIN * chance:
        found.append(f"validation accuracy {history[VAL_ACC][-1]:.3f} is at chance ({chance:.2f}) after training")
    if TRAIN_LOSS in history and history[TRAIN_LOSS][-1] > EXPLOSION * history[TRAIN_LOSS][0]:
        found.append(f"training loss grew from {history[TRAIN_LOSS][0]:.3g} to {history[TRAIN_LOSS][-1]:.3g}")
    return found


def achieved_gflops(spec: dict, result: Result) -> float:
    """Average arithmetic throughput of a finished run."""
    flops = study.current().flops(spec, result.data["n_train"], result.data["n_val"]) * result.steps
    return flops / max(result.train_seconds, 1e-9) / 1e9
