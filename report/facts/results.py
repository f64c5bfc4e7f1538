"""Every run's curves as one tidy table: (experiment, part, seed, step, metric, value).

The facts, tables and figures of the report read their curves from this table, and the
build writes it beside the report as `results.csv` for readers' own notebooks
(`pandas.read_csv("build/results.csv")`). Failed runs are left out.
"""

from __future__ import annotations

import pandas as pd

from experiments.metrics import METRICS

COLUMNS = ["experiment", "part", "seed", "step", "metric", "value"]


def tidy(runs: list) -> pd.DataFrame:
    """The long table of every finished run's history (one row per step and metric)."""
    rows = [
        (o.experiment.id, o.experiment.part, o.seed, step, metric, value)
        for o in runs if "failed" not in o.result
        for metric in METRICS
        for step, value in enumerate(o.result["history"][metric], start=1)
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def histories(table: pd.DataFrame, experiment: str) -> dict[int, dict[str, list[float]]]:
    """Seed → {metric: values by step} of one experiment, read back from the table."""
    rows = table[table["experiment"] == experiment]
    return {
        int(seed): {m: group[group["metric"] == m].sort_values("step")["value"].tolist() for m in METRICS}
        for seed, group in rows.groupby("seed", sort=True)
    }


def to_csv(table: pd.DataFrame) -> bytes:
    """The table as CSV, with every float written exactly (shortest round-trip form)."""
    return table.to_csv(index=False, float_format=None, lineterminator="\n").encode("utf-8")
