"""The original study's findings, each declared once as a claim that our runs can test.

A claim is stated in the original's own terms: which numbers it compares, read at the
point where the original read them (Part B: epoch 10 unless it said otherwise), and in
which direction. Each test reads one fact per seed of one experiment (optionally minus
another experiment's) and names the region the original's finding puts it in; the
report's statistics (`report.stats.verdict`, one rule for all) then say whether our
seeds confirm it, contradict it, or cannot tell within their noise. A claim is
confirmed when all its tests are, not reproduced when any test is, undecided otherwise.

Facts (computed per seed by `report.analysis.FACTS`):
  value          the metric at the reading step
  gap            training minus validation accuracy at the reading step
  loss_min_step  the step where validation loss is lowest, up to the reading step
  plateau_step   the first step where the metric comes within half a point of its best
  rise           how far validation loss has climbed above its minimum, relative to it
  upward         the sum of every step-to-step increase of the metric (noise of a curve
                 that should only fall)
  gain           the metric's change from the first step to the reading step
  seconds        wall-clock training time
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.metrics import TRAIN_ACC, TRAIN_LOSS, VAL_ACC, VAL_LOSS


@dataclass(frozen=True)
class Reading:
    """One number read off every seed of one experiment."""

    experiment: str
    fact: str
    metric: str = VAL_ACC
    at: int | None = None  # the step it is read at; None: the end of the run


@dataclass(frozen=True)
class Test:
    words: str
    of: Reading
    minus: Reading | None = None
    above: float | None = None  # the claimed region: greater than `above` …
    below: float | None = None  # … and less than `below`


@dataclass(frozen=True)
class Claim:
    id: str
    part: str
    original: str  # the original's finding, in short
    tests: tuple[Test, ...]


def _more(words: str, a: Reading, b: Reading) -> Test:
    return Test(words, a, b, above=0.0)


def _r(exp: str, fact: str, metric: str = VAL_ACC, at: int | None = None) -> Reading:
    return Reading(exp, fact, metric, at)


B_AT = 10  # the epoch at which the original read its Part B numbers

CLAIMS: tuple[Claim, ...] = (
    Claim("1", "A", "A1's accuracies level off after about 200 iterations, above 80 %", (
        Test("A1: iteration where validation accuracy levels off", _r("A1", "plateau_step"), above=100, below=300),
        Test("A1: validation accuracy at iteration 200", _r("A1", "value", at=200), above=0.80),
    )),
    Claim("2", "A", "A1's losses fall until about 150 iterations; the small gap that follows is not overfitting", (
        Test("A1: validation loss above its minimum at the end (relative)", _r("A1", "rise"), below=0.01),
    )),
    Claim("3", "A", "both MLPs reach about 93 % training and 88 % validation accuracy, above A1", (
        *(Test(f"{e}: training accuracy", _r(e, "value", TRAIN_ACC), above=0.92, below=0.94) for e in ("A2a", "A2b")),
        *(Test(f"{e}: validation accuracy", _r(e, "value"), above=0.87, below=0.89) for e in ("A2a", "A2b")),
        *(_more(f"{e} minus A1: validation accuracy", _r(e, "value"), _r("A1", "value")) for e in ("A2a", "A2b")),
    )),
    Claim("4", "A", "both MLPs overfit after about 150 iterations: validation loss turns up while training loss falls", (
        *(Test(f"{e}: iteration of the validation-loss minimum", _r(e, "loss_min_step", VAL_LOSS), above=100, below=250)
          for e in ("A2a", "A2b")),
        *(Test(f"{e}: validation loss above its minimum at the end (relative)", _r(e, "rise"), above=0.01)
          for e in ("A2a", "A2b")),
    )),
    Claim("5", "A", "A2b's loss curve is noisier than A2a's", (
        _more("A2b minus A2a: summed increases of the training loss", _r("A2b", "upward", TRAIN_LOSS),
              _r("A2a", "upward", TRAIN_LOSS)),
    )),
    Claim("6a", "A", "the softmax model took longer to train than the MLPs — read as wall-clock time", (
        *(_more(f"A1 minus {e}: training time (s)", _r("A1", "seconds"), _r(e, "seconds")) for e in ("A2a", "A2b")),
    )),
    Claim("6b", "A", "the softmax model took longer to train than the MLPs — read as iterations to level off", (
        *(_more(f"A1 minus {e}: iteration where validation accuracy levels off", _r("A1", "plateau_step"),
                _r(e, "plateau_step")) for e in ("A2a", "A2b")),
    )),
    Claim("7", "A", "L2: α = 0.001 overfits slightly more than the larger rates; α = 0.006 plateaus near 0.83 "
                    "validation accuracy; α = 0.003 fits best (≈ 0.87 training, 0.86 validation)", (
        *(_more(f"α = 0.001 minus α = {a}: train–validation accuracy gap", _r("A3-L2-0.001", "gap"), _r(f"A3-L2-{a}", "gap"))
          for a in ("0.003", "0.006")),
        Test("α = 0.006: validation accuracy", _r("A3-L2-0.006", "value"), above=0.82, below=0.84),
        *(_more(f"α = {a} minus α = 0.003: validation loss (lower fits better)", _r(f"A3-L2-{a}", "value", VAL_LOSS),
                _r("A3-L2-0.003", "value", VAL_LOSS)) for a in ("0.001", "0.006")),
        Test("α = 0.003: training accuracy", _r("A3-L2-0.003", "value", TRAIN_ACC), above=0.86, below=0.88),
        Test("α = 0.003: validation accuracy", _r("A3-L2-0.003", "value"), above=0.85, below=0.87),
    )),
    Claim("8", "A", "L1: α = 0.0003 fits best (≈ 0.87 training, 0.85 validation); α = 0.0001 overfits slightly; "
                    "α = 0.0006 is less accurate", (
        *(_more(f"α = {a} minus α = 0.0003: validation loss (lower fits better)", _r(f"A3-L1-{a}", "value", VAL_LOSS),
                _r("A3-L1-0.0003", "value", VAL_LOSS)) for a in ("0.0001", "0.0006")),
        Test("α = 0.0003: training accuracy", _r("A3-L1-0.0003", "value", TRAIN_ACC), above=0.86, below=0.88),
        Test("α = 0.0003: validation accuracy", _r("A3-L1-0.0003", "value"), above=0.84, below=0.86),
        _more("α = 0.0001 minus α = 0.0003: train–validation accuracy gap", _r("A3-L1-0.0001", "gap"),
              _r("A3-L1-0.0003", "gap")),
        _more("α = 0.0003 minus α = 0.0006: validation accuracy", _r("A3-L1-0.0003", "value"), _r("A3-L1-0.0006", "value")),
    )),
    Claim("9", "A", "both penalties reduce A2b's overfitting", (
        *(_more(f"A2b minus {e}: train–validation accuracy gap", _r("A2b", "gap"), _r(e, "gap"))
          for e in ("A3-L2-0.003", "A3-L1-0.0003")),
    )),
    Claim("10", "B", "B1's accuracy and loss level off after about one epoch", (
        Test("B1: validation accuracy gained after epoch 1", _r("B1", "gain", at=B_AT), below=0.01),
        Test("B1: validation loss change after epoch 1", _r("B1", "gain", VAL_LOSS, at=B_AT), above=-0.05),
    )),
    Claim("11", "B", "B2's loss converges after about 4 epochs and it overfits from about epoch 6", (
        Test("B2: epoch of the validation-loss minimum", _r("B2", "loss_min_step", VAL_LOSS, B_AT), above=3.5, below=8.5),
    )),
    Claim("12", "B", "deeper models overfit earlier (B2 ≈ 6, B3 ≈ 4, B4 ≈ 3 epochs)", (
        _more("B2 minus B3: epoch of the validation-loss minimum", _r("B2", "loss_min_step", VAL_LOSS, B_AT),
              _r("B3", "loss_min_step", VAL_LOSS, B_AT)),
        _more("B3 minus B4: epoch of the validation-loss minimum", _r("B3", "loss_min_step", VAL_LOSS, B_AT),
              _r("B4", "loss_min_step", VAL_LOSS, B_AT)),
    )),
    Claim("13", "B", "validation accuracy rises slightly with depth (≈ 91, 92, 93 % for B2, B3, B4)", (
        _more("B3 minus B2: validation accuracy", _r("B3", "value", at=B_AT), _r("B2", "value", at=B_AT)),
        _more("B4 minus B3: validation accuracy", _r("B4", "value", at=B_AT), _r("B3", "value", at=B_AT)),
    )),
    Claim("14", "B", "dropout 0.2 delays B3's overfitting to about 13 epochs", (
        Test("B3-d0.2: epoch of the validation-loss minimum", _r("B3-d0.2", "loss_min_step", VAL_LOSS), above=9.5, below=16.5),
        _more("B3-d0.2 minus B3: epoch of the validation-loss minimum", _r("B3-d0.2", "loss_min_step", VAL_LOSS),
              _r("B3", "loss_min_step", VAL_LOSS, B_AT)),
    )),
    Claim("15", "B", "more dropout lowers accuracy and raises loss (read at epoch 10)", (
        *(_more(f"d{a} minus d{b}: training accuracy", _r(f"B3-d{a}", "value", TRAIN_ACC, B_AT),
                _r(f"B3-d{b}", "value", TRAIN_ACC, B_AT)) for a, b in (("0.2", "0.4"), ("0.4", "0.6"))),
        _more("d0.6 minus d0.2: training loss", _r("B3-d0.6", "value", TRAIN_LOSS, B_AT),
              _r("B3-d0.2", "value", TRAIN_LOSS, B_AT)),
        _more("d0.2 minus d0.6: validation accuracy", _r("B3-d0.2", "value", at=B_AT), _r("B3-d0.6", "value", at=B_AT)),
    )),
    Claim("16", "B", "B3 with dropout 0.4 then 0.2 does not overfit, converges around 50 epochs and is the most "
                     "accurate B3 variant", (
        Test("d0.4/0.2: validation loss above its minimum at epoch 50 (relative)", _r("B3-d0.4/0.2", "rise"), below=0.01),
        Test("d0.4/0.2: epoch where validation accuracy levels off", _r("B3-d0.4/0.2", "plateau_step"), above=20),
        _more("d0.4/0.2 minus B3: validation accuracy", _r("B3-d0.4/0.2", "value"), _r("B3", "value", at=B_AT)),
        *(_more(f"d0.4/0.2 minus {e}: validation accuracy", _r("B3-d0.4/0.2", "value"), _r(e, "value", at=B_AT))
          for e in ("B3-d0.2", "B3-d0.4", "B3-d0.6")),
    )),
    Claim("17", "B", "dropout 0.4 corrects B4's overfitting", (
        _more("B4 minus B4-d0.4: validation loss above its minimum at epoch 10 (relative)", _r("B4", "rise", at=B_AT),
              _r("B4-d0.4", "rise", at=B_AT)),
        _more("B4-d0.4 minus B4: epoch of the validation-loss minimum", _r("B4-d0.4", "loss_min_step", VAL_LOSS),
              _r("B4", "loss_min_step", VAL_LOSS, B_AT)),
    )),
    Claim("18", "C", "batch normalisation allows a higher learning rate", (
        _more("with minus without batch norm at learning rate 0.01: validation accuracy",
              _r("C-bn-lr1e-2", "value"), _r("C-plain-lr1e-2", "value")),
    )),
    Claim("19", "C", "batch normalisation makes training converge faster", (
        *(_more(f"with minus without batch norm at learning rate {lr}: validation accuracy after epoch 1",
                _r(f"C-bn-{name}", "value", at=1), _r(f"C-plain-{name}", "value", at=1))
          for name, lr in (("lr1e-3", "0.001"), ("lr1e-2", "0.01"))),
    )),
    Claim("20", "C", "batch normalisation regularises mildly", (
        _more("without minus with batch norm: train–validation accuracy gap", _r("C-plain-lr1e-3", "gap"),
              _r("C-bn-lr1e-3", "gap")),
    )),
)
