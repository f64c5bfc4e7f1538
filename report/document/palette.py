"""One colour per experiment, the same in every figure of the report.

The colours are Okabe and Ito's colour-blind-safe set (without its yellow, too pale on
white, and its black, kept for text), with Paul Tol's wine and indigo for a seventh and
eighth. Experiments shown together in a figure (a group of the study's experiments) must
differ, and an experiment must keep its colour from figure to figure: each experiment, in
the study's order, takes the first colour that no experiment it shares a group with has
taken already. The split is told by line style (training solid, validation dashed), never
by colour.
"""

from __future__ import annotations

from dlreport.facts import stats

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#332288")
KEY = "#444444"  # the line samples of a figure's key where several runs share it
EARLIER = "#8C8C8C"  # an earlier build's curves, beside this build's in a "Changes since" figure
# the forest plot's verdicts (Okabe-Ito, as above), the claimed region, a sub-test the data cannot answer
VERDICTS = {stats.CONFIRMED: "#009E73", stats.NOT_REPRODUCED: "#D55E00", stats.UNDECIDED: "#7F7F7F"}
REGION = "#D5E6F3"
NOT_TESTABLE = "#9A9A9A"


def colours(order: list[str], groups: list[list[str]]) -> dict[str, str]:
    """Each experiment's colour: `order` the study's experiments, `groups` those drawn together."""
    together: dict[str, set[str]] = {e: set() for e in order}
    for group in groups:
        for e in group:
            together.setdefault(e, set()).update(g for g in group if g != e)
    taken: dict[str, str] = {}
    for e in order:
        used = {taken[o] for o in together[e] if o in taken}
        free = [c for c in PALETTE if c not in used]
        if not free:
            raise ValueError(f"{e} is drawn beside {len(used)} others: the palette has {len(PALETTE)} colours")
        taken[e] = free[0]
    return taken
