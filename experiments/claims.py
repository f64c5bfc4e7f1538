"""The original study's twenty findings, each declared once as a claim our runs can test.

A finding is stated as a reviewer reads it: the original's words (verbatim where a short
fragment of the original's text is known to us, in our words otherwise, and marked so), what
it claims in plain words, and its sub-tests. A sub-test reads one fact per seed of one
experiment (optionally minus another experiment's), at the point where the original read
it, and names the region the finding puts it in, with the reason for both. The engine's
rule (`dlreport.facts.stats`) judges every sub-test and the finding; this file says what is
tested, never how it is judged.

Two flags stand beside a verdict, never inside it: a sub-test that `needs` data we do not
have (absolute epochs on the substitute notMNIST split, whose epoch is 484 steps against
the original's 6,250) is shown but left out of the count, and one that is `setup_dependent`
hangs on a choice the original never stated (optimiser, learning rate, iteration budget,
batch size); those of Part A are judged again on a second set-up (`SECOND_SETUP`).

Facts (computed per seed by `dlreport.facts.analysis.FACTS`):
  value          the metric at the reading step
  gap            the generalisation gap in a validation metric (train − val accuracy, val − train loss)
  loss_min_step  the step where the metric (a loss) is lowest, up to the reading step
  settle_step    the first step by which the metric has made a share (param) of its change
  gain_share     the share of the metric's whole change over the run made by the reading step
  rise           how far the metric (a loss) has climbed above its minimum so far, relative to it
  after_val_min  the metric's change since the step where validation loss was lowest
  upward         the sum of every step-to-step increase of the metric
  gain           the metric's change from the first step to the reading step
  seconds        wall-clock training time
"""

from __future__ import annotations

from dataclasses import replace

from dlreport.claims import SEED_NOISE, SET_UP, Claim, Reading, Setup, Sweep, Test
from experiments.definitions import SENSITIVITY_SUFFIX
from experiments.metrics import TRAIN_ACC, TRAIN_LOSS, VAL_ACC, VAL_LOSS

ORIGINAL_SPLIT = "original split"  # what a sub-test about absolute epochs of Part B needs


SUBSTITUTE_DATA = "the substitute data"  # why a sub-test that needs the original split is not testable here
CAUSES = {
    SEED_NOISE: "our seeds spread too much to tell",
    SET_UP: "a choice the original did not state (optimiser, learning rate, budget)",
    SUBSTITUTE_DATA: "the substitute notMNIST split, 13 times smaller than the original's",
    "the original's own reading": "the original's numbers do not show what its text says",
}


def _r(exp: str, fact: str, metric: str = VAL_ACC, at: int | None = None, param: float | None = None) -> Reading:
    return Reading(exp, fact, metric, at, param)


def _more(words: str, a: Reading, b: Reading, why: str = "", **kw) -> Test:
    return Test(words, a, b, above=0.0, why=why, **kw)


def _about(words: str, reading: Reading, centre: float, why: str, half: float = 0.01, **kw) -> Test:
    """A number the original gave as "about": within `half` of it, swept from half a point to three."""
    def make(h: float) -> Test:
        return Test(words, reading, above=round(centre - h, 6), below=round(centre + h, 6), why=why, **kw)

    return replace(make(half), sweep=Sweep("half-width of \u201cabout\u201d", (0.005, 0.01, 0.015, 0.02, 0.03), make, "pp"))


def _settled_by(words: str, reading: Reading, share: float, why: str, **kw) -> Test:
    """Most of a curve's change made by a step: at least `share` of it, swept from 80 % to 98 %."""
    def make(s: float) -> Test:
        return Test(words, reading, above=s, why=why, **kw)

    return replace(make(share), sweep=Sweep("share of the whole change", (0.8, 0.85, 0.9, 0.95, 0.98), make, "%"))


def _settle_later(words: str, a: str, b: str, why: str, **kw) -> Test:
    """`a` settles later than `b`, where settling means making a share of the change, swept."""
    def make(share: float) -> Test:
        return _more(words, _r(a, "settle_step", param=share), _r(b, "settle_step", param=share), why, **kw)

    return replace(make(0.95), sweep=Sweep("share of the change that counts as settled", (0.9, 0.95, 0.98, 0.99), make, "%"))


B_AT = 10  # the epoch at which the original read its Part B numbers
MLPS = ("A2a", "A2b")
ABSOLUTE_EPOCHS = ("an epoch of the substitute split is 484 steps against the original's 6,250, so an epoch count "
                   "cannot be compared")

_CLAIMS: tuple[Claim, ...] = (
    Claim("1", "A", "almost plateau after 200 iterations \u2026 after which it very slowly increases", True,
          "A1's training and validation accuracy have nearly levelled off by iteration 200, above 80 %, and creep up "
          "slowly afterwards", (
              *(_settled_by(f"A1: share of its {name} accuracy's gain made by iteration 200", _r("A1", "gain_share", metric, 200),
                            0.9, "\u201calmost plateau\u201d read as at least 90 % of the gain the run makes by its end",
                            setup_dependent=True) for name, metric in (("validation", VAL_ACC), ("training", TRAIN_ACC))),
              _more("A1: validation accuracy gained after iteration 200", _r("A1", "value"), _r("A1", "value", at=200),
                    "\u201cvery slowly increases\u201d: it still rises after iteration 200", setup_dependent=True),
              Test("A1: final validation accuracy", _r("A1", "value"), above=0.80, why="the level it plateaus at, above 80 %"),
          )),
    Claim("2", "A", "losses fall steadily until about 150 iterations; the small gap that follows is not overfitting", False,
          "A1's losses fall steadily for the first ≈ 150 iterations, and the small train–validation gap that opens "
          "afterwards is not overfitting", (
              _settled_by("A1: share of its validation loss's fall made by iteration 150", _r("A1", "gain_share", VAL_LOSS, 150),
                          0.9, "\u201cfall until about 150\u201d read as most (90 %) of the whole fall made by then",
                          setup_dependent=True),
              Test("A1: summed increases of the validation loss up to iteration 150", _r("A1", "upward", VAL_LOSS, 150),
                   below=0.001, why="\u201csteadily\u201d: it never turns up on the way (increases below 0.001 in all)",
                   setup_dependent=True),
              Test("A1: validation loss above its minimum at the end (relative)", _r("A1", "rise", VAL_LOSS), below=0.01,
                   why="not overfitting: validation loss ends within 1 % of its lowest value"),
              Test("A1: final train–validation accuracy gap", _r("A1", "gap"), below=0.03,
                   why="\u201csmall gap\u201d: below 3 points"),
          )),
    Claim("3", "A", "both MLPs reach about 93 % training and 88 % validation accuracy, above A1", False,
          "A2a and A2b end near 93 % training and 88 % validation accuracy, both above the softmax model", (
              *(_about(f"{e}: final training accuracy", _r(e, "value", TRAIN_ACC), 0.93, "\u201cabout 93 %\u201d: within a point",
                       setup_dependent=True, cause=SET_UP) for e in MLPS),
              *(_about(f"{e}: final validation accuracy", _r(e, "value"), 0.88, "\u201cabout 88 %\u201d: within a point")
                for e in MLPS),
              *(_more(f"{e} minus A1: final validation accuracy", _r(e, "value"), _r("A1", "value"), "above A1")
                for e in MLPS),
          )),
    Claim("4", "A", "both MLPs overfit after about 150 iterations: validation loss turns up while training loss falls", False,
          "A2a's and A2b's validation loss reaches its minimum near iteration 150 and climbs afterwards, while their "
          "training loss keeps falling", (
              *(Test(f"{e}: validation loss above its minimum at the end (relative)", _r(e, "rise", VAL_LOSS), above=0.01,
                     why="overfitting: validation loss ends more than 1 % above its lowest value") for e in MLPS),
              *(Test(f"{e}: training loss change after the validation-loss minimum", _r(e, "after_val_min", TRAIN_LOSS),
                     below=0.0, why="training loss still falls once validation loss has turned up") for e in MLPS),
              *(Test(f"{e}: iteration of the validation-loss minimum", _r(e, "loss_min_step", VAL_LOSS), above=100, below=250,
                     why="\u201cafter about 150 iterations\u201d: between 100 and 250", setup_dependent=True)
                for e in MLPS),
          ), cause=SET_UP),
    Claim("5", "A", "A2b's loss curve is noisier than A2a's", False,
          "A2b's training loss goes up from one iteration to the next more than A2a's does", (
              _more("A2b minus A2a: summed increases of the training loss", _r("A2b", "upward", TRAIN_LOSS),
                    _r("A2a", "upward", TRAIN_LOSS), "noise of a curve that should only fall: the sum of its increases",
                    setup_dependent=True),
          )),
    Claim("6", "A", "training time", True,
          "the softmax model took longer to train than the MLPs — \u201ctraining time\u201d read two ways: the wall-clock "
          "time of a run, and the iterations until accuracy settles", (
              *(_more(f"A1 minus {e}: wall-clock training time (s)", _r("A1", "seconds"), _r(e, "seconds"),
                      "first reading: seconds of training", cause="the original's own reading") for e in MLPS),
              *(_settle_later(f"A1 minus {e}: iterations until validation accuracy settles", "A1", e,
                              "second reading: iterations until 95 % of the run's gain in validation accuracy is made",
                              setup_dependent=True) for e in MLPS),
          ), note="A softmax model does far less arithmetic per iteration than an MLP, so in seconds it cannot take longer "
                  "at the same iteration count; the original's remark can only hold in iterations."),
    Claim("7", "A", "best fit", True,
          "L2: α = 0.001 overfits slightly more than the larger rates, α = 0.006 plateaus near 0.83 validation accuracy, "
          "and α = 0.003 is the best fit — the middle ground between the smallest rate's gap and the largest rate's "
          "accuracy — at about 0.87 training and 0.86 validation accuracy", (
              *(_more(f"α = 0.001 minus α = {a}: final train–validation accuracy gap", _r("A3-L2-0.001", "gap"),
                      _r(f"A3-L2-{a}", "gap"), "overfits more: a larger gap") for a in ("0.003", "0.006")),
              _more("α = 0.003 minus α = 0.006: final validation accuracy", _r("A3-L2-0.003", "value"),
                    _r("A3-L2-0.006", "value"), "best fit, second half: more accurate than the largest rate"),
              _about("α = 0.006: final validation accuracy", _r("A3-L2-0.006", "value"), 0.83, "\u201cplateaus near 0.83\u201d"),
              _about("α = 0.003: final training accuracy", _r("A3-L2-0.003", "value", TRAIN_ACC), 0.87, "\u201cabout 0.87\u201d",
                     setup_dependent=True, cause=SET_UP),
              _about("α = 0.003: final validation accuracy", _r("A3-L2-0.003", "value"), 0.86, "\u201cabout 0.86\u201d"),
          ), note="The original chose the middle rate for its smaller train–validation gap while conceding that the "
                  "smallest rate was more accurate; \u201cbest fit\u201d is read here as that trade-off, not as the lowest "
                  "validation loss."),
    Claim("8", "A", "best fit", True,
          "L1: α = 0.0003 is the best fit, at about 0.87 training and 0.85 validation accuracy; α = 0.0001 overfits "
          "slightly and α = 0.0006 is less accurate", (
              _more("α = 0.0001 minus α = 0.0003: final train–validation accuracy gap", _r("A3-L1-0.0001", "gap"),
                    _r("A3-L1-0.0003", "gap"), "0.0001 overfits more: a larger gap"),
              _more("α = 0.0003 minus α = 0.0006: final validation accuracy", _r("A3-L1-0.0003", "value"),
                    _r("A3-L1-0.0006", "value"), "0.0006 is less accurate"),
              _about("α = 0.0003: final training accuracy", _r("A3-L1-0.0003", "value", TRAIN_ACC), 0.87,
                     "\u201cabout 0.87\u201d", setup_dependent=True, cause=SET_UP),
              _about("α = 0.0003: final validation accuracy", _r("A3-L1-0.0003", "value"), 0.85, "\u201cabout 0.85\u201d"),
          ), note="As for L2, \u201cbest fit\u201d is the original's trade-off of gap against accuracy."),
    Claim("9", "A", "both penalties reduce A2b's overfitting and are worth adding", False,
          "an L2 or L1 penalty at its best rate makes A2b overfit less, and improves it", (
              *(_more(f"A2b minus {e}: final train–validation accuracy gap", _r("A2b", "gap"), _r(e, "gap"),
                      "less overfitting: a smaller gap") for e in ("A3-L2-0.003", "A3-L1-0.0003")),
              *(_more(f"A2b minus {e}: rise of validation loss above its minimum", _r("A2b", "rise", VAL_LOSS),
                      _r(e, "rise", VAL_LOSS), "less overfitting: validation loss climbs less") for e in ("A3-L2-0.003",
                                                                                                    "A3-L1-0.0003")),
              *(_more(f"{e} minus A2b: final validation accuracy", _r(e, "value"), _r("A2b", "value"),
                      "worth adding: the penalised network is more accurate", cause="the original's own reading")
                for e in ("A3-L2-0.003", "A3-L1-0.0003")),
          ), note="The original's own numbers give A2b 0.885 validation accuracy and its penalised versions about 0.86 and "
                  "0.85: the penalties reduce overfitting, but they do not make the network more accurate."),
    Claim("10", "B", "B1's accuracy and loss level off after about one epoch", False,
          "B1 (softmax regression) gains little after its first epoch", (
              Test("B1: validation accuracy gained after epoch 1", _r("B1", "gain", at=B_AT), below=0.01,
                   why="level off: less than a point more by epoch 10", needs=ORIGINAL_SPLIT),
              Test("B1: validation loss change after epoch 1", _r("B1", "gain", VAL_LOSS, at=B_AT), above=-0.05,
                   why="level off: the loss falls by less than 0.05 more by epoch 10", needs=ORIGINAL_SPLIT),
          ), cause="the substitute data",
          note="The original also called B1 \u201csignificantly overfitting\u201d while its own validation accuracy (0.857) "
               "is above its training accuracy (0.835)."),
    Claim("11", "B", "B2's loss converges after about 4 epochs and it overfits from about epoch 6", False,
          "B2's validation loss bottoms out near epoch 4–6 and then climbs", (
              Test("B2: validation loss above its minimum at epoch 10 (relative)", _r("B2", "rise", VAL_LOSS, B_AT),
                   above=0.01, why="it overfits within the original's 10 epochs"),
              Test("B2: epoch of the validation-loss minimum", _r("B2", "loss_min_step", VAL_LOSS, B_AT), above=3.5,
                   below=8.5, why="\u201cfrom about epoch 6\u201d: epochs 4 to 8", needs=ORIGINAL_SPLIT),
          ), cause="the substitute data"),
    Claim("12", "B", "deeper models overfit earlier (B2 \u2248 6, B3 \u2248 4, B4 \u2248 3 epochs)", False,
          "the deeper the network, the earlier its validation loss turns up", (
              _more("B2 minus B3: epoch of the validation-loss minimum", _r("B2", "loss_min_step", VAL_LOSS, B_AT),
                    _r("B3", "loss_min_step", VAL_LOSS, B_AT), "earlier: a smaller epoch for the deeper network"),
              _more("B3 minus B4: epoch of the validation-loss minimum", _r("B3", "loss_min_step", VAL_LOSS, B_AT),
                    _r("B4", "loss_min_step", VAL_LOSS, B_AT), "earlier: a smaller epoch for the deeper network"),
              *(Test(f"{e}: epoch of the validation-loss minimum", _r(e, "loss_min_step", VAL_LOSS, B_AT), above=c - 1.5,
                     below=c + 1.5, why=f"\u201c\u2248 {c}\u201d: within one epoch", needs=ORIGINAL_SPLIT)
                for e, c in (("B2", 6), ("B3", 4), ("B4", 3))),
          ), cause="the substitute data"),
    Claim("13", "B", "validation accuracy rises slightly with depth (\u2248 91, 92, 93 % for B2, B3, B4)", False,
          "each added hidden layer raises validation accuracy by about a point", (
              _more("B3 minus B2: validation accuracy at epoch 10", _r("B3", "value", at=B_AT), _r("B2", "value", at=B_AT),
                    "rises with depth, where the original read it"),
              _more("B4 minus B3: validation accuracy at epoch 10", _r("B4", "value", at=B_AT), _r("B3", "value", at=B_AT),
                    "rises with depth, where the original read it"),
              *(_about(f"{e}: validation accuracy at epoch 10", _r(e, "value", at=B_AT), c, f"\u201c\u2248 {c:.0%}\u201d",
                       needs=ORIGINAL_SPLIT) for e, c in (("B2", 0.91), ("B3", 0.92), ("B4", 0.93))),
          ), cause="the substitute data"),
    Claim("14", "B", "overfit only after 13 epochs", True,
          "dropout 0.2 delays B3's overfitting, to about epoch 13", (
              _more("B3-d0.2 minus B3: epoch of the validation-loss minimum", _r("B3-d0.2", "loss_min_step", VAL_LOSS),
                    _r("B3", "loss_min_step", VAL_LOSS, B_AT), "delays: a later minimum with dropout"),
              Test("B3-d0.2: epoch of the validation-loss minimum", _r("B3-d0.2", "loss_min_step", VAL_LOSS), above=9.5,
                   below=16.5, why="\u201cafter 13 epochs\u201d: epochs 10 to 16", needs=ORIGINAL_SPLIT),
          ), cause="the substitute data"),
    Claim("15", "B", "more dropout lowers accuracy and raises loss", False,
          "the higher B3's dropout rate, the lower its validation accuracy and the higher its validation loss, at epoch 10", (
              *(_more(f"d{a} minus d{b}: validation accuracy at epoch 10", _r(f"B3-d{a}", "value", at=B_AT),
                      _r(f"B3-d{b}", "value", at=B_AT), "lower accuracy with more dropout, read on the validation set "
                      "(training values are measured with dropout on)") for a, b in (("0.2", "0.4"), ("0.4", "0.6"))),
              *(_more(f"d{b} minus d{a}: validation loss at epoch 10", _r(f"B3-d{b}", "value", VAL_LOSS, B_AT),
                      _r(f"B3-d{a}", "value", VAL_LOSS, B_AT), "higher loss with more dropout, on the validation set",
                      cause="the original's own reading") for a, b in (("0.2", "0.4"), ("0.4", "0.6"))),
          ), cause="the substitute data",
          note="The original's loss rises with the rate only in training (0.157, 0.263, 0.370), measured with dropout "
               "switched on; its validation loss is lowest at 0.4 (0.278, 0.241, 0.283)."),
    Claim("16", "B", "converges around 50 epochs", True,
          "B3 with dropout 0.4 then 0.2 does not overfit, is still improving up to about epoch 50, and is the most "
          "accurate B3 variant", (
              Test("d0.4/0.2: validation loss above its minimum at epoch 50 (relative)", _r("B3-d0.4/0.2", "rise", VAL_LOSS),
                   below=0.01, why="does not overfit over its 50 epochs", needs=ORIGINAL_SPLIT),
              Test("d0.4/0.2: epoch by which 95 % of its validation-accuracy gain is made",
                   _r("B3-d0.4/0.2", "settle_step", param=0.95), above=20,
                   why="\u201cconverges around 50 epochs\u201d: still improving well past epoch 20", needs=ORIGINAL_SPLIT),
              *(_more(f"d0.4/0.2 minus {e}: validation accuracy at epoch 10", _r("B3-d0.4/0.2", "value", at=B_AT),
                      _r(e, "value", at=B_AT), "most accurate, compared at equal epochs")
                for e in ("B3", "B3-d0.2", "B3-d0.4", "B3-d0.6")),
          ), note="The original compares this run's 50th epoch with the other variants' 10th; at equal epochs the "
                  "comparison is a different one.", cause="the substitute data"),
    Claim("17", "B", "dropout 0.4 corrects B4's overfitting", False,
          "with dropout 0.4 on every hidden layer, B4 no longer overfits within the original's 10 epochs", (
              _more("B4 minus B4-d0.4: validation loss above its minimum at epoch 10 (relative)",
                    _r("B4", "rise", VAL_LOSS, B_AT), _r("B4-d0.4", "rise", VAL_LOSS, B_AT), "less overfitting at epoch 10"),
              _more("B4-d0.4 minus B4: epoch of the validation-loss minimum, up to epoch 10",
                    _r("B4-d0.4", "loss_min_step", VAL_LOSS, B_AT), _r("B4", "loss_min_step", VAL_LOSS, B_AT),
                    "its validation loss turns up later, if at all"),
              _more("B4 minus B4-d0.4: train–validation accuracy gap at epoch 10", _r("B4", "gap", at=B_AT),
                    _r("B4-d0.4", "gap", at=B_AT), "a smaller gap"),
          ), cause="the substitute data"),
    Claim("18", "C", "batch normalisation allows a higher learning rate", False,
          "with batch normalisation a 10\u00d7 learning rate (0.01) trains well; without it, it costs accuracy", (
              _more("with minus without batch norm at learning rate 0.01: validation accuracy", _r("C-bn-lr1e-2", "value"),
                    _r("C-plain-lr1e-2", "value"), "at the higher rate the normalised network is more accurate"),
              Test("with batch norm: learning rate 0.01 minus 0.001, validation accuracy", _r("C-bn-lr1e-2", "value"),
                   _r("C-bn-lr1e-3", "value"), above=-0.01,
                   why="the normalised network loses less than a point at the 10\u00d7 rate"),
          )),
    Claim("19", "C", "batch normalisation makes training converge faster", False,
          "a normalised network, trained at the higher rate it allows, is further along after its first epochs than "
          "the plain network at its usual rate", (
              *(_more(f"batch norm at rate 0.01 minus plain at 0.001: validation accuracy after epoch {at}",
                      _r("C-bn-lr1e-2", "value", at=at), _r("C-plain-lr1e-3", "value", at=at),
                      "faster, as the original linked it: through the higher rate batch norm allows") for at in (1, 2)),
              _more("with minus without batch norm at rate 0.001: validation accuracy after epoch 1",
                    _r("C-bn-lr1e-3", "value", at=1), _r("C-plain-lr1e-3", "value", at=1),
                    "faster at the same rate (our own reading)"),
          )),
    Claim("20", "C", "batch normalisation regularises mildly", False,
          "the normalised network overfits a little less than the plain one", (
              _more("without minus with batch norm: final train–validation accuracy gap", _r("C-plain-lr1e-3", "gap"),
                    _r("C-bn-lr1e-3", "gap"), "regularises: a smaller gap"),
              _more("without minus with batch norm: rise of validation loss above its minimum",
                    _r("C-plain-lr1e-3", "rise", VAL_LOSS), _r("C-bn-lr1e-3", "rise", VAL_LOSS),
                    "regularises: validation loss climbs less"),
          )),
)

CLAIMS = tuple(replace(c, cause=c.cause or SET_UP) for c in _CLAIMS)  # a finding's likeliest cause where it names none


SECOND_SETUP = Setup("Adam at learning rate 0.003 (3\u00d7 ours)",
                     {e: f"{e}-{SENSITIVITY_SUFFIX}" for e in ("A1", "A2a", "A2b")})
