"""Every run's curves as one tidy table: (experiment, part, seed, step, metric, value).

The build writes it beside the report as `results.csv` for readers' own notebooks
(`pandas.read_csv("build/results.csv")`), straight from the runs with the csv module:
a build needs no pandas. `tidy` gives the same table as a pandas DataFrame. Failed runs are
left out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from experiments.metrics import METRICS

COLUMNS = ["experiment", "part", "seed", "step", "metric", "value"]


def rows(runs: list) -> Iterator[tuple]:
    """One row per step and metric of every finished run, in the build's order."""
    for o in runs:
        if "failed" in o.result:
            continue
        for metric in METRICS:
            for step, value in enumerate(o.result["history"][metric], start=1):
                yield o.experiment.id, o.experiment.part, o.seed, step, metric, value


def to_csv(runs: list) -> bytes:
    """The table as CSV, every float written exactly (its shortest round-trip form)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows(runs))
    return buffer.getvalue().encode("utf-8")


def tidy(runs: list):
    """The long table of every finished run's history, as a pandas DataFrame."""
    import pandas as pd

    return pd.DataFrame(list(rows(runs)), columns=COLUMNS)
