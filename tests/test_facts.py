"""The facts layer on generated histories (no TensorFlow, no data): each fact at each reading
point, the one verdict rule, findings judged over seeds, and the prose's numbers found in
the tables they cite."""

from __future__ import annotations

import html as html_module
import re

import numpy as np
import pytest

from experiments.claims import Claim, Reading
from experiments.claims import Test as ClaimTest
from experiments.metrics import METRICS
from report.facts import analysis, claims, stats

H = {  # five steps; validation loss lowest at step 3, accuracy best at step 4
    "train_loss": [1.0, 0.8, 0.6, 0.7, 0.4],
    "val_loss": [1.0, 0.7, 0.65, 0.7, 0.8],
    "train_acc": [0.5, 0.7, 0.8, 0.85, 0.9],
    "val_acc": [0.5, 0.7, 0.796, 0.80, 0.79],
}


@pytest.mark.parametrize("fact, metric, at, expected", [
    ("value", "val_acc", None, 0.79),
    ("value", "val_acc", 2, 0.7),
    ("value", "val_acc", 99, 0.79),  # a reading point past a shorter run's end reads its end
    ("gap", "val_acc", None, 0.9 - 0.79),
    ("gap", "val_acc", 3, 0.8 - 0.796),
    ("loss_min_step", "val_loss", None, 3),
    ("loss_min_step", "val_loss", 2, 2),
    ("plateau_step", "val_acc", None, 3),  # 0.796 is within half a point of the best, 0.80
    ("plateau_step", "val_acc", 2, 2),
    ("rise", "val_loss", None, 0.8 / 0.65 - 1),
    ("rise", "val_loss", 3, 0.0),
    ("upward", "train_loss", None, 0.1),  # the one step up, 0.6 → 0.7
    ("upward", "train_loss", 3, 0.0),
    ("gain", "val_acc", None, 0.79 - 0.5),
    ("gain", "val_acc", 4, 0.80 - 0.5),
])
def test_each_fact_at_each_reading_point(fact, metric, at, expected):
    assert analysis.read({"history": H}, fact, metric, at) == pytest.approx(expected)


def test_seconds_is_the_wall_clock_training_time():
    assert analysis.read({"history": H, "train_seconds": 12.5}, "seconds", "val_acc", None) == 12.5


def test_summary_is_scipys_student_interval_and_one_seed_has_none():
    from scipy import stats as scipy_stats

    values = [0.9247, 0.9112, 0.9166]
    e = stats.summary(values)
    lo, hi = scipy_stats.t.interval(0.95, 2, loc=np.mean(values), scale=scipy_stats.sem(values))
    assert e.n == (3,) and e.mean == pytest.approx(np.mean(values)) and e.sd == pytest.approx(np.std(values, ddof=1))
    assert (e.lo, e.hi) == (pytest.approx(lo), pytest.approx(hi))
    one = stats.summary([0.9])
    assert one.sd is None and not one.spread_known and one.contains(0.9) is None
    same = stats.summary([6, 6, 6])
    assert (same.lo, same.hi, same.sd) == (6, 6, 0.0)


def test_difference_is_welchs_interval():
    a, b = [1.0, 1.2, 1.1, 1.3], [0.5, 0.9, 0.7]
    d = stats.difference(a, b)
    from scipy import stats as scipy_stats

    ci = scipy_stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert d.mean == pytest.approx(np.mean(a) - np.mean(b)) and (d.lo, d.hi) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert not stats.difference([1.0], b).spread_known


@pytest.mark.parametrize("lo, hi, above, below, verdict", [
    (0.1, 0.3, 0.0, None, stats.CONFIRMED),
    (-0.3, -0.1, 0.0, None, stats.NOT_REPRODUCED),
    (-0.1, 0.1, 0.0, None, stats.UNDECIDED),
    (0.86, 0.88, 0.85, 0.89, stats.CONFIRMED),
    (0.90, 0.92, 0.85, 0.89, stats.NOT_REPRODUCED),
    (0.88, 0.90, 0.85, 0.89, stats.UNDECIDED),
    (0.1, 0.2, None, 0.3, stats.CONFIRMED),
    (0.3, 0.4, None, 0.3, stats.NOT_REPRODUCED),
])
def test_the_verdict_rule(lo, hi, above, below, verdict):
    assert stats.verdict(stats.Estimate((lo + hi) / 2, (3,), None, lo, hi), above, below) == verdict


def test_one_seed_is_always_undecided():
    assert stats.verdict(stats.Estimate(5.0, (1,)), 0.0, None) == stats.UNDECIDED


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory) -> str:
    """The whole report rendered from generated curves for every experiment (two seeds each,
    full-profile lengths): the real context and templates, no training and no data."""
    from experiments.definitions import EXPERIMENTS, resolve
    from experiments.profiles import PROFILES
    from report.data import splits
    from report.document import context, render
    from report.document.figure_cache import FigureCache
    from report.runs import keys
    from report.runs.runner import Outcome

    profile, rng, runs = PROFILES["full"], np.random.default_rng(0), []  # full lengths: Part B read before the end
    for exp in EXPERIMENTS:
        for seed in range(2):
            spec = resolve(exp, profile, seed, splits.data_spec(exp.dataset, "substitute" if exp.dataset == "notmnist" else None,
                                                                *profile.data_limits.get(exp.dataset, (None, None))))
            steps = spec["hparams"].get("iterations") or spec["hparams"]["epochs"]
            decay = np.exp(-np.arange(1, steps + 1) / steps)
            history = {"train_loss": list(0.3 + decay), "val_loss": list(0.4 + decay + rng.normal(0, 0.01, steps)),
                       "train_acc": list(0.95 - 0.4 * decay), "val_acc": list(0.9 - 0.4 * decay + rng.normal(0, 0.005, steps))}
            result = {"history": history, "final": {m: v[-1] for m, v in history.items()},
                      "unit": "iteration" if "iterations" in spec["hparams"] else "epoch", "train_seconds": 2.0 + seed,
                      "data": {"n_train": 3000, "n_val": 1000, "sha256": "0" * 64}, "hardware": {"device": "CPU"},
                      "engine": {"onednn": "on"}}
            runs.append(Outcome(exp, seed, keys.digest([exp.id, seed]), {"spec": spec}, result, "cache", 0.0))
    finished: dict[str, list[dict]] = {}
    for o in runs:
        finished.setdefault(o.experiment.id, []).append(o.result)
    build = {"id": "test", "time": "2026-12-01T00:00:00Z", "git": {"commit": "0" * 40, "dirty": False},
             "versions": keys.versions(), "hardware": {"cpu": "test CPU", "cpu_count": 2},
             "counts": {"run": 0, "cached": len(runs)}}
    from report.facts import results

    ctx = context.build_context(runs, results.tidy(runs), claims.judge(finished), profile, "substitute", build,
                                FigureCache(tmp_path_factory.mktemp("figures")))
    return render.render_html(ctx)


def _seeds(base: dict, shifts: list[float]) -> list[dict]:
    return [{"history": {m: [v + s for v in values] for m, values in base.items()}, "train_seconds": 1.0} for s in shifts]


def test_findings_are_judged_over_seeds_and_partial_builds_leave_them_out():
    better = {m: [v + 0.05 if "acc" in m else v for v in values] for m, values in H.items()}
    results = {"X": _seeds(H, [0.0, 0.001, -0.001]), "Y": _seeds(better, [0.0, 0.002, -0.002])}
    finding = Claim("t", "A", "Y beats X", (ClaimTest("Y minus X", Reading("Y", "value"), Reading("X", "value"), above=0.0),))
    against = Claim("u", "A", "X beats Y", (ClaimTest("X minus Y", Reading("X", "value"), Reading("Y", "value"), above=0.0),))
    mixed = Claim("v", "A", "both", (*finding.tests, ClaimTest("X near 0.5", Reading("X", "value", at=1), above=0.4, below=0.6)))
    missing = Claim("w", "A", "needs Z", (ClaimTest("Z", Reading("Z", "value"), above=0.0),))
    judged = claims.judge(results, (finding, against, mixed, missing))
    assert [(j.claim.id, j.verdict) for j in judged] == [("t", stats.CONFIRMED), ("u", stats.NOT_REPRODUCED),
                                                        ("v", stats.CONFIRMED)]
    assert judged[0].tests[0].estimate.mean == pytest.approx(0.05)
    assert claims.summary_line(judged) == "claims: 2 confirmed, 1 not reproduced, 0 undecided within seed noise"
    record = judged[0].as_record()
    assert record["tests"][0]["n"] == [3, 3] and record["verdict"] == "confirmed"


def test_every_shipped_finding_reads_facts_and_experiments_that_exist():
    from experiments.claims import CLAIMS
    from experiments.definitions import EXPERIMENTS

    ids = {e.id for e in EXPERIMENTS}
    for c in CLAIMS:
        for t in c.tests:
            for r in (t.of, t.minus):
                if r is not None:
                    assert r.experiment in ids and (r.fact in analysis.FACTS or r.fact == "seconds"), (c.id, r)
                    assert r.metric in METRICS
            assert t.above is not None or t.below is not None, c.id
    assert len({c.id for c in CLAIMS}) == len(CLAIMS)
    assert {c.id.rstrip("ab") for c in CLAIMS} == {str(i) for i in range(1, 21)}  # every finding of the spec


def test_every_number_the_prose_cites_from_a_results_table_is_in_that_table(quick_report):
    """The sentence after each results table's figure quotes the table: its numbers must be
    the table's own (the same reading point, the same rounding)."""
    html = quick_report
    cited = 0
    for sentence, exp_id in re.findall(r'<p>(At (?:iteration|epoch) \d+ (\S+) reaches a validation accuracy of .*?)</p>',
                                       html, re.S):
        anchor = re.search(r'href="#(tab-[^"]+-results)"', sentence)[1]
        table = re.search(rf'<table id="{anchor}">(.*?)</table>', html, re.S)[1]
        text = html_module.unescape(re.sub(r"<[^>]+>", " ", sentence.split("Validation accuracy comes within")[0]))
        table_text = html_module.unescape(re.sub(r"<[^>]+>", " ", table))
        for number in re.findall(r"[−+-]?\d+\.\d{4}", text):
            assert number in table_text, (exp_id, number)
            cited += 1
    assert cited >= 20


def test_a_run_at_chance_or_with_an_exploding_loss_is_suspect_and_a_sound_one_is_not():
    assert analysis.suspicions(H) == []
    at_chance = {**H, "val_acc": [0.1, 0.11, 0.1, 0.09, 0.1]}
    exploded = {**H, "train_loss": [2.3, 50.0, 7e4, 7e5, 7e5]}
    assert "at chance" in analysis.suspicions(at_chance)[0]
    assert "grew from 2.3 to 7e+05" in analysis.suspicions(exploded)[0]
