"""The builds as pandas tables, for a notebook:

    import dlreport
    curves = dlreport.results()                  # the latest build's curves, one row a value
    both = dlreport.results(["previous", "latest"])   # two builds stacked: the `build` column tells them apart
    verdicts = dlreport.findings()               # one row a finding: its verdict, flags, tests passed
    rec = dlreport.record("#3")                  # a build's whole record (a dict)
    dlreport.log()                               # the ledger, one row a build (as `log` prints it)

A build is named as `diff` names it: "latest", "previous", a number ("7" or "#7") or a
prefix of its id; `out` is the output folder (default `build/`). Builds kept before the
table carried a unit and the build's columns get them from their record and series.
"""

from __future__ import annotations

import io
from pathlib import Path

from dlreport import ROOT
from dlreport.builds import ledger
from dlreport.facts import results as results_mod
from dlreport.facts import stats

DEFAULT_OUT = ROOT / "build"  # as the command's default
CATEGORIES = ("experiment", "part", "step_unit", "metric", "build", "profile")


def _entries(build: str | list[str], out: Path | str) -> list[ledger.Entry]:
    book = ledger.Ledger(Path(out))
    return [book.find(ref) for ref in ([build] if isinstance(build, str) else build)]


def results(build: str | list[str] = "latest", out: Path | str = DEFAULT_OUT):
    """The tidy table of a build's curves (several builds' stacked): experiment, part, seed,
    step, step_unit, metric, value, build, profile, overrides."""
    import pandas as pd

    frames = [_table(entry) for entry in _entries(build, out)]
    table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return table.astype({c: "category" for c in CATEGORIES})


def _table(entry: ledger.Entry):
    import pandas as pd

    table = pd.read_csv(io.BytesIO((entry.path / "results.csv").read_bytes()), keep_default_na=False,
                        dtype={"overrides": str})
    if "step_unit" not in table:  # kept before the table named its unit: the series did
        units = {exp: s["unit"] for exp, s in entry.series().items()}
        table.insert(table.columns.get_loc("step") + 1, "step_unit", table["experiment"].map(units))
    if "build" not in table:
        rec = entry.record()
        for column, value in zip(results_mod.BUILD_COLUMNS, (rec["id"], rec["profile"], " ".join(rec["overrides"]))):
            table[column] = value
    return table[results_mod.COLUMNS]


def record(build: str = "latest", out: Path | str = DEFAULT_OUT) -> dict:
    """A build's record: its settings, versions, runs, findings (see `report.builds.record`)."""
    return _entries(build, out)[0].record()


def findings(build: str = "latest", out: Path | str = DEFAULT_OUT):
    """One row a finding of the original: id, part, claim, verdict, flags, tests, and how
    many of its tests were confirmed, not reproduced and undecided."""
    import pandas as pd

    rec = record(build, out)
    rows = []
    for c in rec.get("claims", []):
        tested = [t["verdict"] for t in c.get("tests", [])]
        rows.append({"id": c["id"], "part": c["part"], "claim": c["claim"], "verdict": c["verdict"],
                     "flags": ", ".join(c.get("flags", [])), "tests": len(tested),
                     **{f"tests_{v.replace(' ', '_')}": tested.count(v)
                        for v in (stats.CONFIRMED, stats.NOT_REPRODUCED, stats.UNDECIDED)},
                     "build": rec["id"]})
    return pd.DataFrame(rows)


def log(out: Path | str = DEFAULT_OUT):
    """The ledger, one row a build (what `log --json` prints)."""
    import pandas as pd

    rows = [ledger.summary(e) for e in ledger.Ledger(Path(out)).entries()]
    return pd.DataFrame([{**{k: v for k, v in r.items() if k != "findings"}, **r.get("findings", {})} for r in rows])
