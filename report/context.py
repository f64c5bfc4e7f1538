"""The template context: everything the report says, computed from the build's results.

Templates only arrange and phrase; every number, table row, figure and listing they
show is produced here from the outcomes of this build.
"""

from __future__ import annotations

from dataclasses import asdict

from experiments.definitions import DROPOUT_EPOCHS, EXPERIMENTS
from experiments.profiles import Profile
from report import analysis, changes, listings
from report.figure_cache import Figure, FigureCache
from report.runner import Outcome

METRICS = (
    ("train_acc", "train accuracy"),
    ("train_loss", "train loss"),
    ("val_acc", "validation accuracy"),
    ("val_loss", "validation loss"),
)
HPARAM_LABELS = {
    "hidden": "hidden layers (ReLU units)",
    "dropout": "dropout after each hidden layer",
    "batch_norm": "batch normalisation before each ReLU",
    "penalty": "weight penalty",
    "alpha": "penalty rate α",
    "optimizer": "optimiser",
    "learning_rate": "learning rate",
    "iterations": "iterations (full batch)",
    "epochs": "epochs",
    "batch_size": "batch size",
    "init": "weight initialisation",
}
SPLIT_LABELS = {
    "original": "Original split: 200,000 training images from notMNIST_large, validation on notMNIST_small "
                "without unreadable files and duplicates of training images",
    "substitute": "Substitute split of notMNIST_small (de-duplicated, 85 % train / 15 % validation per letter); "
                  "notMNIST_large was not available, so these numbers are not comparable with the original's",
}


def _anchor(exp_id: str) -> str:
    return exp_id.lower().replace("/", "-").replace(".", "")


def _hparam_text(name: str, value: object) -> str:
    if name == "hidden":
        return " → ".join(map(str, value)) if value else "none (softmax only)"
    if name == "dropout":
        return ", ".join(f"{r:g}" for r in value) if any(value) else "none"
    if name == "penalty":
        return {"l1": "L1 (α·Σ|w|)", "l2": "L2 (α·Σw²)"}.get(value, "none")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "init":
        return {"he_normal": "He normal"}.get(value, str(value))
    if name == "optimizer":
        return {"adam": "Adam"}.get(value, str(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def layer_summary(hparams: dict) -> dict:
    """The network's layers and parameter counts, derived from its definition (like
    Keras' `summary()`, without building the model)."""
    sizes = [784, *hparams["hidden"], 10]
    dropout = hparams.get("dropout") or [0.0] * len(hparams["hidden"])
    rows = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        rows.append({"layer": f"Dense ({'softmax' if last else 'ReLU'})", "units": n_out, "params": n_in * n_out + n_out})
        if not last and dropout[i]:
            rows.append({"layer": f"Dropout ({dropout[i]:g})", "units": n_out, "params": 0})
    return {"rows": rows, "total": sum(r["params"] for r in rows)}


def results_table(history: dict[str, list[float]], reference: dict[str, float | None]) -> list[dict]:
    """Ours, the original's, and the difference, per metric, at the step the original's
    numbers were read (the end of the run unless the reference says otherwise)."""
    steps = len(history["val_acc"])
    at = min(reference.get("at") or steps, steps)
    rows = []
    for metric, label in METRICS:
        ours, ref = history[metric][at - 1], reference.get(metric)
        rows.append({"label": label, "ours": ours, "ref": ref, "diff": None if ref is None else ours - ref, "at": at})
    return rows


def experiment(outcome: Outcome, cache: FigureCache) -> dict:
    exp, result = outcome.experiment, outcome.result
    spec = outcome.components["spec"]
    reference = asdict(exp.reference)
    return {
        "id": exp.id,
        "anchor": _anchor(exp.id),
        "title": exp.title,
        "hparams": [
            {"name": HPARAM_LABELS.get(k, k), "value": _hparam_text(k, v)}
            for k, v in spec["hparams"].items()
            if not (k == "alpha" and not spec["hparams"].get("penalty"))
        ],
        "data": result["data"],
        "layers": layer_summary(spec["hparams"]),
        "unit": result["unit"],
        "final": result["final"],
        "table": results_table(result["history"], reference),
        "figure": Figure(cache, "curves", result["history"], result["unit"], reference),
        "diagram": Figure(cache, "network", spec["hparams"]["hidden"], True, spec["hparams"]["dropout"])
        if spec["hparams"].get("batch_norm") else None,
        "history": result["history"],
        "facts": analysis.facts(result["history"]),
        "alpha": spec["hparams"].get("alpha"),
        "learning_rate": spec["hparams"].get("learning_rate"),
        "dropout": spec["hparams"].get("dropout"),
        "train_seconds": result["train_seconds"],
        "gflops": analysis.achieved_gflops(spec, result),
        "device": result["hardware"]["device"],
        "onednn": result.get("engine", {}).get("onednn") == "on",
        "source": outcome.source,
        "key": outcome.key,
        "seconds": outcome.seconds,
    }


def failure(outcome: Outcome, cache: FigureCache) -> dict:
    """A run that diverged: where, why, and its curves up to there when it has any."""
    result = outcome.result
    history = result["history"]
    return {
        "id": outcome.experiment.id, "title": outcome.experiment.title, "unit": result["unit"], **result["failed"],
        "figure": Figure(cache, "overlay", [(outcome.experiment.id, history)], result["unit"])
        if history and len(next(iter(history.values()))) > 1 else None,
    }


def sweep(members: list[dict], histories: list[dict], cache: FigureCache) -> dict:
    """A group of runs compared in one overlay figure, with its best member named."""
    best = analysis.best_of({m["id"]: m["facts"] for m in members})
    return {
        "members": members,
        "figure": Figure(cache, "overlay", [(m["id"], h) for m, h in zip(members, histories)], members[0]["unit"]),
        "best": next(m for m in members if m["id"] == best),
        "middle_is_best": len(members) == 3 and members[1]["id"] == best,
    }


BN_RUNS = ("C-plain-lr1e-3", "C-bn-lr1e-3", "C-plain-lr1e-2", "C-bn-lr1e-2")


def batchnorm_evidence(runs: dict[str, dict]) -> dict | None:
    """What Part C's claims rest on: how fast each run reaches a common accuracy target.

    The target is one point below the best validation accuracy of plain B4 at the usual
    rate, so "reaches it" means "trains about as well as the baseline ever does".
    """
    if not all(i in runs for i in BN_RUNS):
        return None
    target = max(runs["C-plain-lr1e-3"]["history"]["val_acc"]) - 0.01
    return {
        "target": target,
        "epochs": {i: analysis.first_reaching(runs[i]["history"]["val_acc"], target) for i in BN_RUNS},
    }


def changes_section(diff: dict, old_series: dict, outcomes: list[Outcome], cache: FigureCache) -> dict:
    """The "Changes since build X" section: the comparison, and for every experiment whose
    result is not the same stored one, its old and new curves re-plotted in one figure."""
    outcome_of = {o.experiment.id: o for o in outcomes}
    overlays = []
    for row in diff["experiments"]:
        if row["state"] in (changes.CACHE_HIT, "added", "removed") or row["id"] not in old_series:
            continue
        result = outcome_of[row["id"]].result
        runs = [(diff["old"]["build"], old_series[row["id"]]["history"]), ("this build", result["history"])]
        overlays.append({"id": row["id"], "anchor": "chg-" + _anchor(row["id"]), "causes": row["causes"],
                         "figure": Figure(cache, "overlay", runs, result["unit"])})
    return {**diff, "overlays": overlays}


def build_context(outcomes: list[Outcome], profile: Profile, split: str | None, build: dict,
                  cache: FigureCache) -> dict:
    """The whole report's context: experiments grouped by part and sweep, listings, build metadata.

    A build of some experiments only (`--only`) gets the sections whose runs it has:
    a comparison is drawn only when every run of its group is present (`sweeps`, `have`)."""
    parts: dict[str, list[dict]] = {}
    trainers: dict[str, str] = {}
    grouped: dict[str, tuple[list[dict], list[dict]]] = {}
    failed = [failure(o, cache) for o in outcomes if "failed" in o.result]
    for outcome in outcomes:
        if "failed" in outcome.result:
            continue
        e = experiment(outcome, cache)
        parts.setdefault(outcome.experiment.part, []).append(e)
        trainers.setdefault(outcome.experiment.part, outcome.experiment.trainer)
        for group in outcome.experiment.groups:
            members, histories = grouped.setdefault(group, ([], []))
            members.append(e)
            histories.append(outcome.result["history"])
    runs = {e["id"]: e for part in parts.values() for e in part}
    complete = {g for g, (members, _) in grouped.items() if len(members) == sum(g in e.groups for e in EXPERIMENTS)}
    return {
        "runs": runs,
        "have": lambda *ids: all(i in runs for i in ids),
        "n_defined": len(EXPERIMENTS),
        "failed": failed,
        "dropout_epochs": min(DROPOUT_EPOCHS, profile.max_epochs or DROPOUT_EPOCHS),
        "bn": batchnorm_evidence(runs),
        "sweeps": {name: sweep(members, histories, cache) for name, (members, histories) in grouped.items() if name in complete},
        "profile": {"name": profile.name, "description": profile.description, "quick": profile.name != "full"},
        "split": split,
        "split_label": SPLIT_LABELS.get(split or "", ""),
        "parts": parts,
        "listings": {
            **{part: listings.function_listings(f"experiments.{trainer}", "train") for part, trainer in trainers.items()},
            "batchnorm": listings.function_listings("experiments.batchnorm", "batch_norm"),
        },
        "pygments_css": listings.css(),
        "build": build,
        "changes": None,
    }
