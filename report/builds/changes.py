"""What changed between two builds, and why: `build.py diff` and the report's
"Changes since build X" section.

Works from build records alone (the ledger keeps them): final metrics are compared
under per-metric tolerances, and the cause of a difference is read off the cache keys'
components exactly as `status` does. An experiment whose key is the same in both
builds and that the newer build took from the cache is identical by construction —
the same stored result — and is marked so rather than compared number by number.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from dlreport import study
from dlreport.builds import status
from dlreport.errors import ReportError
from dlreport.facts import stats

CACHE_HIT = "identical (cache hit)"
WITHIN_NOISE, BEYOND_NOISE, NOISE_UNKNOWN = "within seed noise", "beyond noise", "noise unknown (a side has one seed)"


@dataclass(frozen=True)
class Tolerances:
    """How far a metric may move before it counts as changed: |new − old| > atol + rtol·|old|."""

    atol: dict[str, float] = field(default_factory=dict)
    rtol: dict[str, float] = field(default_factory=dict)

    def changed(self, metric: str, old: float, new: float) -> bool:
        return abs(new - old) > self.atol.get(metric, 0.0) + self.rtol.get(metric, 0.0) * abs(old)

    def describe(self) -> str:
        parts = [f"{kind} {m}={v:g}" for kind, values in (("atol", self.atol), ("rtol", self.rtol)) for m, v in values.items()]
        return ", ".join(parts) or "none (any difference counts)"


def parse_tolerances(atol: list[str], rtol: list[str]) -> Tolerances:
    """`["0.01"]` applies to every metric, `["val_acc=0.005"]` to one; later items win."""
    def parse(items: list[str], option: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for item in items:
            metric, _, value = item.rpartition("=")
            names = study.current().metric_names
            targets = [metric] if metric else list(names)
            if metric and metric not in names:
                raise ReportError(f"{option} {item}: unknown metric {metric!r} (one of {', '.join(names)})")
            try:
                number = float(value)
            except ValueError:
                number = -1.0
            if not math.isfinite(number) or number < 0:
                raise ReportError(f"{option} {item}: the tolerance must be a number ≥ 0")
            out.update(dict.fromkeys(targets, number))
        return out

    return Tolerances(parse(atol, "--atol"), parse(rtol, "--rtol"))


def _noise(old: list[float], new: list[float]) -> str:
    """Whether the change of a mean is within what the seeds of both builds vary by: the
    Welch 95 % interval of the difference includes zero (see `report.facts.stats`)."""
    estimate = stats.difference(new, old)
    if not estimate.spread_known:
        return NOISE_UNKNOWN
    return WITHIN_NOISE if estimate.contains(0.0) else BEYOND_NOISE


def _experiment(exp_id: str, old: list[dict], new: list[dict], sources: tuple[dict, dict], tol: Tolerances) -> dict:
    """One experiment's runs (its seeds) in two builds: how its mean final metrics moved, and why."""
    olds, news = [r["final"] for r in old if r["final"]], [r["final"] for r in new if r["final"]]
    metrics = {}
    for m in (study.current().metric_names if olds and news else ()):
        before, after = [f[m] for f in olds], [f[m] for f in news]
        mean_old, mean_new = sum(before) / len(before), sum(after) / len(after)
        metrics[m] = {"old": mean_old, "new": mean_new, "change": mean_new - mean_old, "n": [len(before), len(after)],
                      "changed": tol.changed(m, mean_old, mean_new), "noise": _noise(before, after)}
    old_keys, new_keys = sorted(r["key"] for r in old), sorted(r["key"] for r in new)
    row = {"id": exp_id, "metrics": metrics, "causes": [], "seeds": [len(old), len(new)]}
    if old_keys == new_keys and all(r["source"] != "run" for r in new):
        return {**row, "state": CACHE_HIT}
    by_seed = {r["seed"]: r for r in old}
    moved = [(by_seed.get(r["seed"]), r) for r in new if by_seed.get(r["seed"], {}).get("key") != r["key"]]
    if not moved:
        row["causes"] = [{"cause": "same keys, trained again (--rerun)", "diff": ""}]
    elif moved[0][0] is None:
        row["causes"] = [{"cause": f"seeds {len(old)} → {len(new)}", "diff": ""}]
    else:
        row["causes"] = status.explain(moved[0][0]["components"], moved[0][1]["components"], *sources)
    if len(old) != len(new) and moved and moved[0][0] is not None:
        row["causes"].append({"cause": f"seeds {len(old)} → {len(new)}", "diff": ""})
    if any("failed" in r for r in new):
        state = "failed"
    elif not metrics or any(v["changed"] for v in metrics.values()):
        state = "changed"
    elif all(v["change"] == 0 for v in metrics.values()):
        state = "identical (retrained)"
    else:
        state = "within tolerance"
    return {**row, "state": state}


def _claims(old: list[dict], new: list[dict]) -> list[dict]:
    """Findings whose verdict differs between the builds (or that are judged in only one)."""
    before = {c["id"]: c for c in old if "verdict" in c}
    after = {c["id"]: c for c in new if "verdict" in c}
    return [
        {"id": i, "claim": (after.get(i) or before[i])["claim"],
         "old": before[i]["verdict"] if i in before else "absent", "new": after[i]["verdict"] if i in after else "absent"}
        for i in [*after, *(i for i in before if i not in after)]
        if (before.get(i) or {}).get("verdict") != (after.get(i) or {}).get("verdict")
    ]


def _runs_by_experiment(rec: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rec["runs"]:
        out.setdefault(r["id"], []).append(r)
    return out


def compare(old: dict, new: dict, tol: Tolerances, labels: tuple[str, str], order: list[str] = ()) -> dict:
    """Every experiment of two build records, old against new, with causes and verdicts,
    listed in `order` (the study's order of definition; others after, by name)."""
    olds, news = _runs_by_experiment(old), _runs_by_experiment(new)
    sources = (old.get("sources", {}), new.get("sources", {}))
    rank = {exp_id: i for i, exp_id in enumerate(order)}
    rows = []
    for exp_id in sorted({*olds, *news}, key=lambda i: (rank.get(i, len(rank)), i)):
        if exp_id not in olds:
            rows.append({"id": exp_id, "state": "added", "metrics": {}, "causes": []})
        elif exp_id not in news:
            rows.append({"id": exp_id, "state": "removed", "metrics": {}, "causes": []})
        else:
            rows.append(_experiment(exp_id, olds[exp_id], news[exp_id], sources, tol))
    setting = [
        f"{name} {old.get(name)} → {new.get(name)}" for name in ("profile", "data_choice") if old.get(name) != new.get(name)
    ]
    if old["git"] != new["git"]:
        def commit(git: dict) -> str:
            return git["commit"][:10] + (" with uncommitted changes" if git["dirty"] else "")

        setting.append(f"source git {commit(old['git'])} → {commit(new['git'])}")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
    return {
        "old": {"build": labels[0], "id": old["id"], "time": old["time"]},
        "new": {"build": labels[1], "id": new["id"], "time": new["time"]},
        "tolerances": {"atol": tol.atol, "rtol": tol.rtol},
        "settings": setting,
        "experiments": rows,
        "claims": _claims(old.get("claims", []), new.get("claims", [])),
        "counts": counts,
        "any_change": any(r["state"] in ("changed", "failed", "added", "removed") for r in rows),
    }


def _cell(v: dict) -> str:
    return f"{v['old']:.4f} → {v['new']:.4f} ({v['change']:+.4f}, {v['noise']})"


def _summary(diff: dict) -> str:
    return ", ".join(f"{n} {state}" for state, n in sorted(diff["counts"].items(), key=lambda kv: -kv[1]))


def _shown(diff: dict, everything: bool) -> list[dict]:
    """The rows to print: all with `everything`, else those that are not the same stored run."""
    return [r for r in diff["experiments"] if everything or r["state"] != CACHE_HIT]


def format_text(diff: dict, everything: bool = False) -> str:
    o, n = diff["old"], diff["new"]
    lines = [f"old: {o['build']} ({o['time']})", f"new: {n['build']} ({n['time']})",
             f"tolerances: {Tolerances(**diff['tolerances']).describe()}"]
    lines += [f"setting changed: {s}" for s in diff["settings"]]
    for r in _shown(diff, everything):
        lines.append(f"{r['id']:<14} {r['state']}" + (": " + "; ".join(c["cause"] for c in r["causes"]) if r["causes"] else ""))
        if r["state"] != CACHE_HIT:
            for m, v in r["metrics"].items():
                mark = "  *" if v["changed"] else ""
                lines.append(f"    {m:<10} {_cell(v)}{mark}")
        for c in r["causes"]:
            lines += ["      " + ln for ln in c["diff"].splitlines()]
    for c in diff["claims"]:
        lines.append(f"finding {c['id']} {c['old']} → {c['new']}: {c['claim']}")
    hidden = len(diff["experiments"]) - len(_shown(diff, everything))
    lines.append(f"summary: {_summary(diff)}; claims changed: {len(diff['claims'])}"
                 + (f" ({hidden} identical rows hidden: --all shows them)" if hidden else ""))
    return "\n".join([*lines, *_legend(diff, everything)])


LEGEND = {  # a mark or state of the text: what it means
    "*": "the mean over seeds moved beyond the tolerances",
    CACHE_HIT: "the same stored runs in both builds",
    "identical (retrained)": "trained again, the same numbers",
    "within tolerance": "trained again or changed, every mean within the tolerances",
    "changed": "a mean moved beyond the tolerances (or the experiment has no finished run in one build)",
    "failed": "a run of the new build failed",
    "added": "only in the new build",
    "removed": "only in the old build",
    WITHIN_NOISE: "the change is inside the seeds' own spread (Welch 95 % interval of the difference holds 0)",
    BEYOND_NOISE: "the change is outside the seeds' own spread",
    NOISE_UNKNOWN: "too few seeds to know the spread",
}


def _legend(diff: dict, everything: bool) -> list[str]:
    """What each mark and state printed above means (only those printed)."""
    rows = _shown(diff, everything)
    used = {r["state"] for r in rows} | {v["noise"] for r in rows if r["state"] != CACHE_HIT for v in r["metrics"].values()}
    if any(v["changed"] for r in rows if r["state"] != CACHE_HIT for v in r["metrics"].values()):
        used.add("*")
    return ["legend:"] + [f"  {mark}: {meaning}" for mark, meaning in LEGEND.items() if mark in used] if used else []


def format_markdown(diff: dict, everything: bool = False) -> str:
    o, n = diff["old"], diff["new"]
    lines = [f"## Changes from `{o['build']}` to `{n['build']}`", "",
             f"Tolerances: {Tolerances(**diff['tolerances']).describe()}.", ""]
    lines += [f"- setting changed: {s}" for s in diff["settings"]]
    names = study.current().metric_names
    lines += ["", "| experiment | result | cause | " + " | ".join(names) + " |", "|---" * (3 + len(names)) + "|"]
    for r in _shown(diff, everything):
        cause = "; ".join(c["cause"] for c in r["causes"]).replace("|", "\\|") or "—"
        cells = [("**" + _cell(r["metrics"][m]) + "**" if r["metrics"][m]["changed"] else _cell(r["metrics"][m]))
                 if r["metrics"] and r["state"] != CACHE_HIT else "" for m in names]
        lines.append(f"| {r['id']} | {r['state']} | {cause} | " + " | ".join(cells) + " |")
    if diff["claims"]:
        lines += ["", "Findings whose verdict changed:", ""]
        lines += [f"- {c['id']}. {c['claim']}: {c['old']} → **{c['new']}**" for c in diff["claims"]]
    lines += ["", f"Summary: {_summary(diff)}."]
    return "\n".join(lines)


def format_json(diff: dict, everything: bool = True) -> str:
    return json.dumps(diff, indent=1)


FORMATS = {"text": format_text, "markdown": format_markdown, "json": format_json}
