"""A build's record made from its runs (the format is `record`'s): what each run gave and
where it came from, each experiment's mean and spread, and what the build was made with.

The build and the preview both make it: the preview's page shows the same build facts
(title page, appendix) as a build's would.
"""

from __future__ import annotations

import dataclasses
import json

from dlreport import ROOT, frameworks, study
from dlreport.builds import record
from dlreport.builds.status import sources_of
from dlreport.facts import analysis, stats
from dlreport.planning import BuildConfig
from dlreport.runs import keys, machine
from dlreport.runs.runner import Outcome
from dlreport.study import Profile

BUILD_INFO = ("id", "time", "git", "versions", "hardware", "counts", "overrides", "missing")  # what the report says of its build


def runs_record(runs: list[Outcome]) -> list[dict]:
    """What the record keeps of each run: enough for `status` and `diff` to explain it later."""
    out = []
    for o in runs:
        r = o.result
        out.append({
            "id": o.experiment.id, "seed": o.seed, "key": o.key, "components": o.components, "source": o.source,
            "seconds": round(o.seconds, 3), "train_seconds": r.train_seconds, "final": r.final, "data": r.data,
            "device": r.hardware["device"], **({"trained_on": o.where} if o.where else {}),
            "gflops": round(analysis.achieved_gflops(o.components["spec"], r), 1) if r.ok else 0.0,
            **({"failed": r.failed.as_dict()} if not r.ok else {}),
            **({"suspect": found} if r.ok and (found := analysis.suspicions(r.history)) else {}),
        })
    return out


def experiments_record(runs: list[dict]) -> dict:
    """Per experiment, the mean and spread of its seeds' final metrics (failed runs left out)."""
    out: dict[str, dict] = {}
    for r in runs:
        out.setdefault(r["id"], {"seeds": [], "finals": []})
        out[r["id"]]["seeds"].append(r["seed"])
        if r["final"]:
            out[r["id"]]["finals"].append(r["final"])
    for e in out.values():
        finals = e.pop("finals")
        estimates = {m: stats.summary([f[m] for f in finals]) for m in study.current().metric_names} if finals else {}
        e.update(n=len(finals), final={m: v.mean for m, v in estimates.items()},
                 sd={m: v.sd for m, v in estimates.items()})
    return out


def make(cfg: BuildConfig, profile: Profile, split: str | None, runs: list[Outcome], render_inputs: str,
         missing: list[dict]) -> dict:
    """The build record's facts that rendering does not change (rendering adds its outputs,
    the judged claims and its duration)."""
    when = record.build_time()
    return {
        "format": record.RECORD_FORMAT,
        "id": record.build_id(when, render_inputs),
        "time": record.time_text(when),
        "git": record.git_state(ROOT),
        "versions": frameworks.versions(tuple(sorted({p for o in runs for p in frameworks.of(o.experiment.trainer).packages}))),
        "hardware": machine.host(),
        "counts": {"run": sum(o.source == "run" for o in runs), "cached": sum(o.source != "run" for o in runs),
                   "failed": sum(not o.result.ok for o in runs)},
        "profile": profile.name,
        "data_choice": split,
        "render_inputs": render_inputs,
        "sources": {name: text for o in runs for name, text in sources_of(o.components).items()},
        "runs": (per_run := runs_record(runs)),
        "experiments": experiments_record(per_run),
        "only": list(cfg.only),
        "seeds": cfg.seeds,  # None: the profile's
        "overrides": [f"{p}.{n}={json.dumps(v)}" for p, n, v in cfg.overrides],
        "placement": dataclasses.asdict(cfg.placement),
        "missing": missing,
    }


def build_info(rec: dict) -> dict:
    """What the report says about its own build (title page, appendix), taken from its record."""
    return {k: rec[k] for k in BUILD_INFO}


def series(runs: list[Outcome]) -> dict[str, dict]:
    """Every run's history by experiment and seed (`series.json` beside the record): what a
    later build's "changes since" figures redraw the old curves from."""
    out: dict[str, dict] = {}
    for o in runs:
        entry = out.setdefault(o.experiment.id, {"unit": o.result.unit, "histories": {}})
        entry["histories"][str(o.seed)] = o.result.history
    return out


def curves_digest(runs: list[Outcome]) -> dict[str, str]:
    """Per experiment, a digest of the curves its figures are drawn from (the record's `figures`)."""
    return {e: keys.digest([o.result.history for o in runs if o.experiment.id == e and o.result.ok])
            for e in dict.fromkeys(o.experiment.id for o in runs)}
