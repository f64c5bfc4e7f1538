"""`build.py status`: before building, what is cached, what is stale and exactly why.

"Why" is read off the cache key's components: the latest build record keeps, for every
experiment, the components its key was made of and the source of every function those
fingerprints cover, so a changed key can be explained at the level of the change —
`learning_rate 0.001 → 0.01`, `forward() changed` with a diff of the function,
`tensorflow 2.20.0 → 2.21.0`. No TensorFlow is imported.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from dataclasses import dataclass

from dlreport.data.interface import LIMITS
from dlreport.runs import keys

ABSENT = "(absent)"


def _flat(value: object, prefix: str = "") -> dict[str, object]:
    """Nested dicts as dotted keys, so a change deep inside a spec is named precisely."""
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: value}


def _show(value: object, key: str = "") -> str:
    if value is None and key.rpartition(".")[2] in LIMITS:
        return "all"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def _changes(old: dict, new: dict, label: str) -> list[str]:
    before, after = _flat(old), _flat(new)
    return [
        f"{label}{k} {_show(before.get(k, ABSENT), k)} → {_show(after.get(k, ABSENT), k)}"
        for k in sorted(set(before) | set(after))
        if before.get(k, ABSENT) != after.get(k, ABSENT)
    ]


def _current_source(spec: dict, name: str) -> str:
    try:
        return keys.code_sources(spec).get(name, "")
    except (KeyError, OSError, SyntaxError):
        return ""


def code_diff(old_source: str | None, new_source: str) -> str:
    """A short unified diff of one function's two versions ("" when the old one is unknown)."""
    if old_source is None:
        return ""
    lines = difflib.unified_diff(old_source.splitlines(), new_source.splitlines(), "before", "now", n=1, lineterm="")
    return "\n".join(list(lines)[2:])


def explain(old: dict, new: dict, old_sources: dict[str, str], new_sources: dict[str, str] | None = None) -> list[dict]:
    """Each difference between two sets of key components, as {"cause", "diff"}.

    Function diffs compare the old record's source with `new_sources` (another record's),
    or with the files as they are now when that is None (what `status` wants). Sources are
    looked up by fingerprint, not by name: two trainers may each have a `train`."""
    causes: list[dict] = []
    old_spec, new_spec = old["spec"], new["spec"]
    for part, label in (("hparams", ""), ("data", "data ")):
        causes += [{"cause": c, "diff": ""} for c in _changes(old_spec.get(part, {}), new_spec.get(part, {}), label)]
        if part == "data" and old_spec["data"].get("sources") != new_spec["data"].get("sources"):
            causes = [c for c in causes if not c["cause"].startswith("data sources.")]
            causes.append({"cause": "data checksum changed", "diff": ""})
    for field in ("profile", "seed", "trainer"):
        if old_spec.get(field) != new_spec.get(field):
            causes.append({"cause": f"{field} {old_spec.get(field)} → {new_spec.get(field)}", "diff": ""})
    for name in sorted(set(old["code"]) | set(new["code"])):
        if old["code"].get(name) != new["code"].get(name):
            what = "added" if name not in old["code"] else "removed" if name not in new["code"] else "changed"
            new_text = (_current_source(new_spec, name) if new_sources is None
                        else new_sources.get(new["code"].get(name, ""), ""))
            causes.append({"cause": f"{name.split(':')[-1]}() {what}",
                           "diff": code_diff(old_sources.get(old["code"].get(name, "")), new_text)})
    for part in ("versions", "engine"):  # "engine" is absent from keys made before it existed
        causes += [{"cause": c, "diff": ""} for c in _changes(old.get(part, {}), new.get(part, {}), "")]
    if old.get("scheme") != new.get("scheme"):
        causes.append({"cause": f"key scheme {old.get('scheme')} → {new.get('scheme')}", "diff": ""})
    return causes


def sources_of(components: dict) -> dict[str, str]:
    """Fingerprint → the source text behind it, for every code fingerprint of a key, for later
    diffs. Keyed by fingerprint because names are not unique across a study's runs (each
    trainer has a `train`), and one build's record holds the sources of all its runs."""
    return {components["code"][name]: text for name, text in keys.code_sources(components["spec"]).items()}


def makespan(durations: list[float], slots: int) -> float:
    """Wall time of runs placed longest first, each on the slot that frees up first (what a
    cluster's scheduler does, near enough: within 4/3 of the best placement)."""
    ends = [0.0] * max(1, slots)
    for d in sorted(durations, reverse=True):
        ends[ends.index(min(ends))] += d
    return max(ends)


CACHED, FAILED, STALE, NEVER_RUN = "cached", "failed", "stale", "never-run"


@dataclass
class RunState:
    """One planned run as `status` sees it: stored (`where`: its tier), failed (`reason`),
    stale (`causes`: what changed, each with a diff) or never run."""

    id: str
    seed: int
    key: str
    state: str
    where: str | None = None
    reason: str | None = None
    causes: list[dict] | None = None

    @property
    def to_run(self) -> bool:
        """A build would train it (a failed run is kept, not retrained, until its definition changes)."""
        return self.state in (STALE, NEVER_RUN)

    def as_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass
class Survey:
    """Every planned run's state, and the time a build would take to train what is to run."""

    runs: list[RunState]
    estimate_s: float
    without_estimate: int  # runs to train with no recorded duration to go by
    slots: int

    @property
    def to_run(self) -> list[RunState]:
        return [r for r in self.runs if r.to_run]

    def as_dict(self) -> dict:
        """As `status --json` prints it."""
        return {"experiments": [r.as_dict() for r in self.runs], "estimate_s": self.estimate_s,
                "without_estimate": self.without_estimate, "slots": self.slots}


def survey(planned: list, previous: dict | None, slots: int = 1) -> Survey:
    """Every planned experiment's state (cached / failed / stale / never-run) with causes, and the
    time to bring all up to date on `slots` runs at a time, estimated from recorded durations.

    What it knows of a stored run comes from the store's index (`Planned.stored`), so it reads
    no stored result: its cost is one `stat` a run, and the previous record only when
    something is stale and must be explained."""
    before = {(r["id"], r["seed"]): r for r in (previous or {}).get("runs", [])}
    old_sources = (previous or {}).get("sources", {})
    rows, durations, unknown = [], [], 0
    # durations to estimate from: other seeds of the same experiment that are stored (same profile by
    # construction: the profile is in the key), frozen ones included, else the last build's run,
    # if it had the same profile
    stored: dict[str, list[float]] = {}
    for p in planned:
        if p.stored is not None and p.stored.failed is None:
            stored.setdefault(p.experiment.id, []).append(p.stored.train_seconds)
    same_profile = previous is not None and all(p.spec["profile"] == previous.get("profile") for p in planned)

    def duration(p) -> float | None:
        if p.experiment.id in stored:
            return sum(stored[p.experiment.id]) / len(stored[p.experiment.id])
        old = before.get((p.experiment.id, p.seed))
        return old.get("train_seconds") if old and same_profile else None

    for p in planned:
        row = RunState(p.experiment.id, p.seed, p.key, NEVER_RUN)
        if p.stored is not None and p.stored.failed is not None:
            row.state, row.where, row.reason = FAILED, p.stored.tier, p.stored.failed
        elif p.stored is not None:
            row.state, row.where = CACHED, p.stored.tier
        elif (p.experiment.id, p.seed) in before:
            old = before[(p.experiment.id, p.seed)]
            row.state = STALE
            row.causes = explain(old["components"], p.components, old_sources) or [
                {"cause": "same key, but its result is missing from the cache (deleted or damaged)", "diff": ""}]
        if row.to_run:
            if (seconds := duration(p)) is None:
                unknown += 1
            else:
                durations.append(seconds)
        rows.append(row)
    return Survey(rows, round(makespan(durations, slots), 1), unknown, slots)


def format_text(report: Survey) -> str:
    lines = []
    width = max((len(r.id) for r in report.runs), default=0) + 8
    for row in report.runs:
        label = f"{row.id} seed {row.seed}".ljust(width)
        if row.state == CACHED:
            lines.append(f"{label} cached ({row.where})")
        elif row.state == FAILED:
            lines.append(f"{label} failed: {row.reason} (cached; fix the definition or --rerun it)")
        elif row.state == NEVER_RUN:
            lines.append(f"{label} never run")
        else:
            lines.append(f"{label} stale: " + "; ".join(c["cause"] for c in row.causes))
            for c in row.causes:
                lines += ["    " + ln for ln in c["diff"].splitlines()]
    to_run = len(report.to_run)
    summary = f"{to_run} of {len(report.runs)} runs (experiment × seed) to run"
    if to_run:
        took = report.estimate_s
        summary += f", about {f'{took / 60:.1f} min' if took >= 60 else f'{took:.0f} s'} of training by the durations of " \
                   "their stored seeds"
        if report.slots > 1:
            summary += f" with {report.slots} runs at a time"
        if report.without_estimate:
            summary += f" plus {report.without_estimate} with no duration of this profile to go by"
    return "\n".join([*lines, summary])
