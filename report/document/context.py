"""The template context: everything the report says, computed from the build's results.

Templates only arrange and phrase; every number, table row, figure and listing they
show is produced here from the outcomes of this build.
"""

from __future__ import annotations

from dlreport import frameworks, project, study
from dlreport.builds import changes
from dlreport.data.samples import Samples
from dlreport.document import findings, listings, palette, scales
from dlreport.document.figure_cache import Figure, FigureCache
from dlreport.facts import analysis, stats
from dlreport.facts.claims import Judged
from dlreport.facts.claims import counts as finding_counts
from dlreport.runs.result import RUNS_AT_ONCE
from dlreport.runs.runner import Outcome, by_experiment
from dlreport.study import TRAIN, TRAIN_ACC, TRAIN_LOSS, VAL, VAL_ACC, VAL_LOSS, Experiment, Profile

STANDARD = (TRAIN_LOSS, TRAIN_ACC, VAL_LOSS, VAL_ACC)  # the metrics the engine reads facts from and draws as loss and accuracy


def _anchor(exp_id: str) -> str:
    return exp_id.lower().replace("/", "-").replace(".", "")


def results_table(histories: list[dict[str, list[float]]], reference: dict[str, float | None]) -> list[dict]:
    """Ours (over seeds), the original's, the difference of our mean from it, and whether the
    original's single run lies inside the 95 % prediction interval of one more run of ours —
    per metric, at the step the original's numbers were read (the end of the run unless the
    reference says otherwise)."""
    steps = len(next(iter(histories[0].values())))
    at = min(reference.get("at") or steps, steps)
    rows = []
    for metric, label in ((m.name, m.label) for m in study.current().metrics):
        support = analysis.support("value", metric)
        ours, ref = stats.summary((analysis.value(h, metric, at) for h in histories), support), reference.get(metric)
        predicted = stats.prediction(ours, support)
        rows.append({"label": label, "metric": metric, "ours": ours, "ref": ref, "at": at, "predicted": predicted,
                     "diff": None if ref is None else ours.mean - ref,
                     "inside": None if ref is None or predicted is None else predicted[0] <= ref <= predicted[1]})
    return rows


def _facts(histories: list[dict[str, list[float]]]) -> dict:
    """Each fact of `analysis.facts` over the seeds: an estimate, or a count of seeds for a yes/no fact.
    Those facts read the engine's loss and accuracy curves; a run without them (other metrics, or a
    model fitted once) has its number of steps only."""
    steps = len(next(iter(histories[0].values())))
    if steps < 2 or not set(STANDARD) <= set(histories[0]):
        return {"steps": steps}
    per_seed = [analysis.facts(h) for h in histories]
    out: dict = {}
    for name in analysis.Facts.names():
        values = [getattr(f, name) for f in per_seed]
        out[name] = sum(values) if isinstance(values[0], bool) else values[0] if name == "steps" else stats.summary(values)
    return out


def experiment(exp: Experiment, outcomes: list[Outcome], cache: FigureCache, colour: str) -> dict:
    """One experiment over its seeds: what ran, its curves (the histories its runs stored,
    which `results.csv` holds too), its numbers with their spread."""
    results = [o.result for o in outcomes]
    histories = [o.result.history for o in outcomes]
    spec = outcomes[0].components["spec"]
    reference = exp.reference.as_dict()
    declared = study.current()
    network = declared.network(spec)
    framework = frameworks.of(exp.trainer)
    sources = sorted({o.source for o in outcomes})
    comparable = study.current().data.comparable(spec["data"])  # the original's numbers are drawn only beside its data
    drawn = reference if comparable else {}
    return {
        "id": exp.id,
        "anchor": _anchor(exp.id),
        "title": exp.title,
        "part": exp.part,
        "groups": list(exp.groups),
        "n": len(outcomes),
        "seeds": [o.seed for o in outcomes],
        "hparams": [{"name": label, "value": text} for label, text in declared.describe(spec["hparams"])],
        "spec": spec["hparams"],
        "data": results[0].data,
        "params": network.params if network is not None else None,
        "unit": results[0].unit,
        "final": {m: stats.summary(r.final[m] for r in results) for m in declared.metric_names},
        "table": results_table(histories, reference),
        "has_reference": (has_reference := any(v is not None for k, v in reference.items() if k != "at")),
        "draws_reference": comparable and has_reference,
        "reference": drawn,
        "colour": colour,
        "figure": panels([(exp.id, histories, colour, drawn)], results[0].unit, cache),
        "diagram": Figure(cache, drawing[0], *drawing[1]) if (drawing := declared.diagram(spec)) else None,
        "facts": _facts(histories),
        "first": {m: stats.summary(h[m][0] for h in histories) for m in declared.metric_names},
        "train_seconds": stats.summary(r.train_seconds for r in results),
        "at_once": max(r.hardware.get(RUNS_AT_ONCE, 1) for r in results),
        "processors": [processor(r.hardware) for r in results],
        "gflops": sum(analysis.achieved_gflops(spec, r) for r in results) / len(results),
        "device": ", ".join(sorted({r.hardware["device"] for r in results})),
        "kernels": kernels.pop() if len(kernels := {framework.kernels(r.engine) for r in results}) == 1 else "",
        "source": sources[0] if len(sources) == 1 else "mixed",
        "run_keys": [o.key for o in outcomes],
        "histories": histories,
    }


def panels(runs: list[scales.Run], unit: str, cache: FigureCache) -> dict | None:
    """A figure as its panels, each drawn apart so that a narrow screen stacks them at a legible
    size, and what its key (printed under them in the HTML) explains: loss, with the validation
    loss enlarged in an inset where the panel would hide its rise (`scales.hidden_rise`), and
    accuracy, where the runs have the engine's loss and accuracy; then one panel for each other
    kind of metric the study declares. None for runs of one step (a model fitted once): their
    numbers are tabled, there is no curve to draw."""
    have = set(runs[0][1][0])
    if len(runs[0][1][0][next(iter(have))]) < 2:
        return None
    drawn, labels, zoom = [], [], False
    if {TRAIN_LOSS, VAL_LOSS} <= have:
        zoom = scales.hidden_rise([hs for _, hs, _, _ in runs])
        drawn.append(Figure(cache, "panel", runs, unit, "loss", zoom))
        labels.append("loss")
    if {TRAIN_ACC, VAL_ACC} <= have:
        drawn.append(Figure(cache, "panel", runs, unit, "acc"))
        labels.append("accuracy")
    own: dict[str, dict[str, str]] = {}
    for m in study.current().metrics:
        if m.name in have and m.name not in STANDARD:
            own.setdefault(m.kind, {})[m.split] = m.name
    for kind, names in own.items():
        drawn.append(Figure(cache, "metric_panel", runs, unit, names, kind))
        labels.append(kind)
    return {"panels": drawn, "labels": labels,
            "zoomed": zoom,
            "runs": [{"label": label, "colour": colour} for label, _, colour, _ in runs],
            "ink": palette.KEY if len(runs) > 1 else runs[0][2],  # the key's line samples: the run's colour when alone
            "seeds": max(len(hs) for _, hs, _, _ in runs),
            "reference": [split for split in (TRAIN, VAL) if any(ref.get(m.name) is not None for _, _, _, ref in runs
                                                                for m in study.current().metrics if m.split == split)]}


def failure(outcome: Outcome, cache: FigureCache, colour: str) -> dict:
    """A run that diverged: where, why, and its curves up to there when it has any."""
    result = outcome.result
    return {
        "id": outcome.experiment.id, "seed": outcome.seed, "title": outcome.experiment.title, "unit": result.unit,
        **result.failed.as_dict(),
        "figure": panels([(outcome.experiment.id, [result.history], colour, {})], result.unit, cache)
        if result.steps > 1 else None,
    }


def sweep(members: list[dict], cache: FigureCache) -> dict:
    """A group of runs compared in one figure."""
    return {
        "members": members,
        "figure": panels([(m["id"], m["histories"], m["colour"], m["reference"]) for m in members], members[0]["unit"], cache),
        "has_reference": any(m["has_reference"] for m in members),
    }


def _listings(parts, trainers: dict[str, str]) -> dict[str, dict]:
    """Per part, the listings its text shows (`Part.in_text`), and those for the appendix,
    where code a part shares with an earlier one (a part that trains with an earlier part's loop) is
    listed once."""
    text: dict[str, list[dict]] = {}
    appendix: dict[str, list[dict]] = {}
    listed: set[tuple[str, str]] = set()
    for p in parts:
        items = [item for module, entry in _listed(p, trainers) for item in listings.function_listings(module, entry)]
        text[p.letter] = [i for i in items if not p.in_text or i["name"] in p.in_text]
        appendix[p.letter] = [i for i in items if p.in_text and i["name"] not in p.in_text
                              and (i["module"], i["name"]) not in listed]
        listed |= {(i["module"], i["name"]) for i in items}
    return {"listings": text, "appendix_listings": {k: v for k, v in appendix.items() if v}}


def _listed(part, trainers: dict[str, str]) -> list[tuple[str, str]]:
    """(module, entry) of the code a part lists: its trainer's `train`, then its own listings."""
    trainer = [(f"{project.current().study}.{trainers[part.letter]}", "train")] if part.letter in trainers else []
    return trainer + list(part.listings)


def changes_section(diff: dict, old_series: dict, runs: dict[str, dict], cache: FigureCache) -> dict:
    """The "Changes since build X" section: the comparison, and for every experiment whose
    result is not the same stored one, its old and new curves re-plotted in one figure."""
    overlays = []
    for row in diff["experiments"]:
        if row["state"] in (changes.CACHE_HIT, "added", "removed") or row["id"] not in old_series or row["id"] not in runs:
            continue
        e = runs[row["id"]]
        old = [h for h in old_series[row["id"]]["histories"].values() if h]
        if not old:
            continue
        pair = [(diff["old"]["build"], old, palette.EARLIER, {}), ("this build", e["histories"], e["colour"], {})]
        overlays.append({"id": row["id"], "anchor": "chg-" + _anchor(row["id"]), "causes": row["causes"],
                         "figure": panels(pair, e["unit"], cache)})
    shown = [m for m in study.current().metrics if m.split == VAL]  # the numbers a reader compares builds by
    return {**diff, "overlays": overlays, "hit": changes.CACHE_HIT, "columns": [(m.name, m.label) for m in shown]}


def setup_grid(members: list[dict]) -> dict:
    """What the experiments of a part ran with, as one table: the settings every one shares
    (said once), and a row per experiment with the settings that differ among them."""
    found = []
    for e in members:
        own = {p["name"]: p["value"] for p in e["hparams"]}
        own["parameters"] = f"{e['params']:,}" if e["params"] is not None else "—"
        own["data (training / validation)"] = f"{e['data']['n_train']:,} / {e['data']['n_val']:,}"
        own["seeds"] = str(e["n"])
        found.append(own)
    names = list(dict.fromkeys(name for own in found for name in own))
    settings = {name: [own.get(name, "—") for own in found] for name in names}
    shared = {name: values[0] for name, values in settings.items() if len(set(values)) == 1}
    columns = [name for name in settings if name not in shared]
    return {"shared": shared, "columns": columns,
            "rows": [{"id": e["id"], "values": [settings[c][i] for c in columns]}
                     for i, e in enumerate(members)]}


def processor(hardware: dict) -> str:
    """What a run trained on, as its result recorded it: a GPU where it used one, else its CPU.

    Read from each run, not from the machine that renders: a build takes runs from a cache or
    `frozen/` that other machines may have filled."""
    return f"a GPU beside {hardware['cpu']}" if hardware["device"] == "GPU" else hardware["cpu"]


def _compute(parts: dict[str, list[dict]]) -> dict:
    """The training time of every run, by part and in all (the record's, summed over seeds), the
    most runs that trained at once (their times overlap: their sum is not the wall time), and the
    processors they trained on, each with its runs and parts, most runs first."""
    by_part = {p: {"runs": sum(e["n"] for e in es), "seconds": sum(e["train_seconds"].mean * e["n"] for e in es)}
               for p, es in parts.items()}
    processors: dict[str, dict] = {}
    for p, es in parts.items():
        for name in (name for e in es for name in e["processors"]):
            on = processors.setdefault(name, {"name": name, "runs": 0, "parts": []})
            on["runs"] += 1
            on["parts"] += [p] if p not in on["parts"] else []
    return {"parts": by_part, "runs": sum(c["runs"] for c in by_part.values()),
            "seconds": sum(c["seconds"] for c in by_part.values()),
            "at_once": max((e["at_once"] for es in parts.values() for e in es), default=1),
            "processors": sorted(processors.values(), key=lambda on: -on["runs"])}


def sample_grids(samples: dict[str, Samples | None], cache: FigureCache) -> dict[str, dict]:
    """Per dataset whose sample images are at hand, their grid (a dataset without them is
    absent, and its part says so in one line)."""
    return {d: {"figure": Figure(cache, "samples", list(s.classes), s.images.tolist()), "classes": s.classes,
                "shape": list(s.images.shape[1:])}
            for d, s in samples.items() if s is not None}


DIP = 0.02  # a fall of validation accuracy from one step to the next at least this large is named in the text


def dips(experiments: list[dict]) -> list[dict]:
    """Sudden falls of one seed's validation accuracy (at least `DIP` from one step to the
    next), gathered per seed into episodes (falls less than a tenth of the run apart): where,
    how many falls, the largest, and whether the level before the first was regained by the
    end. The seeds' mean shows them only as notches, so the text names them."""
    declared = study.current()
    primary = declared.declared(declared.primary)
    sign = -1 if primary is not None and not primary.higher_is_better else 1
    found = []
    for e in experiments:
        for seed, h in zip(e["seeds"], e["histories"]):
            acc = [sign * v for v in h[declared.primary]]  # a fall is a worsening, whichever way the metric is better
            falls = [i for i in range(1, len(acc)) if acc[i - 1] - acc[i] >= DIP]
            gap = max(2, len(acc) // 10)
            for episode in _episodes(falls, gap):
                before = acc[episode[0] - 1]
                found.append({"id": e["id"], "seed": seed, "unit": e["unit"], "first": episode[0] + 1,
                              "last": episode[-1] + 1, "falls": len(episode), "n": e["n"],
                              "largest": max(acc[i - 1] - acc[i] for i in episode),
                              "regained": max(acc[episode[-1]:]) >= before})
    return found


def _episodes(steps: list[int], gap: int) -> list[list[int]]:
    """`steps` (ascending) cut wherever two are more than `gap` apart."""
    runs: list[list[int]] = []
    for s in steps:
        if runs and s - runs[-1][-1] <= gap:
            runs[-1].append(s)
        else:
            runs.append([s])
    return runs


def _left_out(missing: list[dict], present: set[str]) -> dict:
    """The runs a `--cached-only` build had to leave out, and what that did to each of their
    experiments: left out whole (no seed stored), or judged over fewer seeds."""
    ids = list(dict.fromkeys(m["id"] for m in missing))
    return {"runs": missing, "absent": [i for i in ids if i not in present], "fewer_seeds": [i for i in ids if i in present]}


def build_context(runs: list[Outcome], judged: list[Judged], profile: Profile, split: str | None, build: dict,
                  cache: FigureCache, samples: dict[str, Samples | None] | None = None) -> dict:
    """The whole report's context: experiments (over their seeds) by part and group, the
    judged claims, listings, sample images of the data, build metadata.

    A build of some experiments only (`--only`) gets the sections whose runs it has:
    a comparison is drawn only when every run of its group is present (`sweeps`)."""
    declared = study.current()
    every = declared.experiments
    groups = {g for e in every for g in e.groups}
    colour = palette.colours([e.id for e in every], [[e.id for e in every if g in e.groups] for g in groups])
    failed = [failure(o, cache, colour[o.experiment.id]) for o in runs if not o.result.ok]
    suspect = [{"id": o.experiment.id, "seed": o.seed, "why": "; ".join(found)} for o in runs
               if o.result.ok and (found := analysis.suspicions(o.result.history))]
    by_id = by_experiment(runs)
    defined = [e for e in every if e.id in by_id]
    experiments = {e.id: experiment(e, by_id[e.id], cache, colour[e.id]) for e in defined}
    parts: dict[str, list[dict]] = {}
    for e in defined:
        parts.setdefault(e.part, []).append(experiments[e.id])
    sweeps = {
        g: sweep([experiments[e.id] for e in defined if g in e.groups], cache)
        for g in sorted(groups)
        if all(e.id in experiments for e in every if g in e.groups) and sum(g in e.groups for e in every) > 1
    }
    for e in experiments.values():  # a curve already drawn beside others (with the original's values) is not drawn alone
        drawn_in = [g for g in sorted(e["groups"]) if g in sweeps]
        e["shown_in"] = "fig-" + drawn_in[0].lower() if drawn_in else None
    trainers = {e.part: e.trainer for e in defined}
    claims = {j.claim.id: j for j in judged}
    seeds = sorted({len(v) for v in by_id.values()})
    return {
        **declared.context(profile, split),
        "study": {"title": declared.title, "subtitle": declared.subtitle, "original": declared.original},
        "metrics": [{"name": m.name, "label": m.label} for m in declared.metrics],
        "runs": experiments,
        "n_defined": len(every),
        "failed": failed,
        "suspect": suspect,
        "overrides": build.get("overrides", []),
        "claims": claims,
        "claims_by_part": {p.letter: [j for j in judged if j.claim.part == p.letter] for p in declared.parts},
        "verdict_counts": finding_counts(judged),
        "findings": {"headline": findings.headline(judged), "forest": findings.forest(judged, cache),
                     "second_setup": findings.second_setup(judged),
                     "setup": declared.second_setup.name if declared.second_setup else None, "causes": declared.causes,
                     "verdicts": stats.FINDING_VERDICTS, "alpha": stats.ALPHA, "power": stats.POWER},
        "seeds": {"min": seeds[0] if seeds else 0, "max": seeds[-1] if seeds else 0},
        "sweeps": sweeps,
        "members": lambda group: [experiments[e.id] for e in defined if group in e.groups],
        "profile": {"name": profile.name, "description": profile.description, "quick": profile.name != "full"},
        "split": split,
        "parts": parts,
        "document_parts": [p for p in declared.parts if p.letter in parts],
        **_listings(declared.parts, trainers),
        "pygments_css": listings.css(),
        "samples": sample_grids(samples or {}, cache),
        "build": build,
        "left_out": _left_out(build.get("missing") or [], set(by_id)),
        "compute": _compute(parts),
        "setups": {p: setup_grid(es) for p, es in parts.items()},
        "dips": {p: dips(es) for p, es in parts.items()},
        "dip": DIP,
        "changes": None,
    }
