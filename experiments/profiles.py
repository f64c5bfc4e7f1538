"""Profiles: the full study, or a small slice of it for tests and CI.

A profile only shrinks a run (less data, fewer iterations or epochs); it never changes
what a run *is*, so the quick report has the same sections, figures and tables as the
full one, with numbers that are clearly labelled as not the study's.
"""

from __future__ import annotations

from dlreport.study import Profile

# Part A's full-batch runs vary less from seed to seed than Part B's mini-batch ones, and cost
# about eight times as much: fewer seeds.
PROFILES = {
    "full": Profile("full", "the study's settings: all data, all iterations and epochs",
                    seeds={"A": 3, "B": 5, "C": 5}),
    "quick": Profile(
        "quick",
        "a smoke-test slice: 3,000 training and 1,000 validation images, "
        "at most 60 iterations or 3 epochs per experiment",
        data_limits={"fashion-mnist": (3000, 1000), "notmnist": (3000, 1000)},
        max_iterations=60,
        max_epochs=3,
        seeds={"A": 2, "B": 2, "C": 2},
    ),
}
