"""Every run's curves as one tidy table: (experiment, part, seed, step, step unit, metric,
value), each row also naming its build, profile and overrides so that several builds'
tables stack into one.

The build writes it beside the report as `results.csv` for readers' own notebooks
(`pandas.read_csv("build/results.csv")`, or `dlreport.results()`), straight from the runs
with the csv module: a build needs no pandas. The runs' part is made once per set of runs
and kept (`to_csv`); the build's part is added to every row as the build is saved
(`stamped`). Failed runs are left out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from dlreport import study

RUN_COLUMNS = ["experiment", "part", "seed", "step", "step_unit", "metric", "value"]
FORMAT = 2  # of the kept runs' part: a table kept in another form is made again
BUILD_COLUMNS = ["build", "profile", "overrides"]  # the same in every row of one build
COLUMNS = RUN_COLUMNS + BUILD_COLUMNS


def rows(runs: list) -> Iterator[tuple]:
    """One row per step and metric of every finished run, in the build's order."""
    for o in runs:
        if not o.result.ok:
            continue
        for metric in study.current().metric_names:
            for step, value in enumerate(o.result.history[metric], start=1):
                yield o.experiment.id, o.experiment.part, o.seed, step, o.result.unit, metric, value


def _csv(rows: Iterator | list) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def to_csv(runs: list) -> bytes:
    """The runs' columns as CSV lines (no header), every float written exactly (its shortest
    round-trip form)."""
    return _csv(rows(runs))


def stamped(table: bytes, build: str, profile: str, overrides: list[str]) -> bytes:
    """`results.csv`: the header, then each line of `table` with the build's columns added."""
    suffix = _csv([["", build, profile, " ".join(overrides)]]).rstrip(b"\n")  # ",build,profile,overrides", quoted as needed
    return _csv([COLUMNS]) + table.replace(b"\n", suffix + b"\n")
