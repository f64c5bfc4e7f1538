"""The facts layer on generated histories (no TensorFlow, no data): each fact at each reading
point, the one verdict rule, findings judged over seeds, and the prose's numbers found in
the tables they cite."""

from __future__ import annotations

import dataclasses
import html as html_module
import re

import numpy as np
import pytest

from dlreport.claims import Claim, Reading
from dlreport.claims import Test as ClaimTest
from dlreport.facts import analysis, claims, stats
from dlreport.runs.result import Result
from experiments.metrics import METRICS

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
    ("gap", "val_loss", None, 0.8 - 0.4),  # the loss gap: validation minus training
    ("loss_min_step", "val_loss", None, 3),
    ("loss_min_step", "val_loss", 2, 2),
    ("loss_min_step", "train_loss", None, 5),  # the metric it is given, not validation loss
    ("plateau_step", "val_acc", None, 3),  # 0.796 is within half a point of the best, 0.80
    ("plateau_step", "val_acc", 2, 2),
    ("rise", "val_loss", None, 0.8 / 0.65 - 1),
    ("rise", "val_loss", 3, 0.0),
    ("rise", "train_loss", 4, 0.7 / 0.6 - 1),  # the training loss's own rise
    ("upward", "train_loss", None, 0.1),  # the one step up, 0.6 → 0.7
    ("upward", "train_loss", 3, 0.0),
    ("gain", "val_acc", None, 0.79 - 0.5),
    ("gain", "val_acc", 4, 0.80 - 0.5),
    ("gain_share", "val_acc", 2, (0.7 - 0.5) / (0.79 - 0.5)),
    ("gain_share", "val_loss", 3, (0.65 - 1.0) / (0.8 - 1.0)),
    ("after_val_min", "train_loss", None, 0.4 - 0.6),  # training loss since validation loss's minimum (step 3)
    ("settle_step", "val_acc", 4, 2),  # 0.7 is 2/3 of the way to 0.8: not 95 %; 0.796 at step 3 is
])
def test_each_fact_at_each_reading_point(fact, metric, at, expected):
    if fact == "settle_step":
        assert analysis.read(_run(H), fact, metric, at, 0.6) == expected
        assert analysis.read(_run(H), fact, metric, at, 0.95) == 3
    else:
        assert analysis.read(_run(H), fact, metric, at) == pytest.approx(expected)


def test_a_fact_refuses_a_metric_it_cannot_read_and_a_parameter_it_does_not_take():
    with pytest.raises(ValueError, match="validation metric"):
        analysis.read(_run(H), "gap", "train_acc", None)
    with pytest.raises(ValueError, match="takes no parameter"):
        analysis.read(_run(H), "value", "val_acc", None, 0.5)


def test_seconds_is_the_wall_clock_training_time():
    assert analysis.read(_run(H, 12.5), "seconds", "val_acc", None) == 12.5


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


def test_intervals_respect_where_a_quantity_can_lie():
    near_one = stats.summary([0.999, 0.990, 0.9999], stats.Support.PROPORTION)
    assert near_one.hi == 1.0 and near_one.lo < 0.99
    near_zero = stats.summary([0.0, 0.004, 0.001], stats.Support.NONNEGATIVE)
    assert near_zero.lo == 0.0
    steps = stats.summary([3, 5, 10], stats.Support.STEP, top=10)
    assert steps.lo >= 1 and steps.hi <= 10 and steps.whole and steps.median == 5 and steps.range == (3, 10)
    unbounded = stats.summary([0.0, 0.004, 0.001])
    assert unbounded.lo < 0  # a difference may be negative: nothing is clipped


def test_the_original_single_run_is_held_against_a_prediction_interval():
    from scipy import stats as scipy_stats

    ours = stats.summary([0.8856, 0.8868, 0.8859], stats.Support.PROPORTION)  # A2a's seeds
    lo, hi = stats.prediction(ours, stats.Support.PROPORTION)
    sd, n = np.std([0.8856, 0.8868, 0.8859], ddof=1), 3
    expected = scipy_stats.t.interval(0.95, n - 1, loc=ours.mean, scale=sd * np.sqrt(1 + 1 / n))
    assert (lo, hi) == (pytest.approx(expected[0]), pytest.approx(expected[1]))
    assert not ours.contains(0.8840) and lo <= 0.8840 <= hi  # outside the mean's interval, inside the prediction
    assert stats.prediction(stats.summary([0.9])) is None


def test_difference_is_welchs_interval():
    a, b = [1.0, 1.2, 1.1, 1.3], [0.5, 0.9, 0.7]
    d = stats.difference(a, b)
    from scipy import stats as scipy_stats

    ci = scipy_stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert d.mean == pytest.approx(np.mean(a) - np.mean(b)) and (d.lo, d.hi) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert not stats.difference([1.0], b).spread_known


def test_holms_step_down_procedure():
    # sorted: 0.005 <= 0.05/4, 0.01 <= 0.05/3, then 0.03 > 0.05/2: it and everything after stay
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == [True, False, False, True]
    assert stats.holm([0.04]) == [True] and stats.holm([0.06]) == [False] and stats.holm([]) == []
    assert stats.holm([0.03, 0.03]) == [False, False]  # 0.03 > 0.05/2: neither, though each alone would pass


@pytest.mark.parametrize("values, above, below, verdict", [
    ([0.18, 0.2, 0.22], 0.0, None, stats.CONFIRMED),
    ([-0.22, -0.2, -0.18], 0.0, None, stats.NOT_REPRODUCED),
    ([-0.1, 0.0, 0.1], 0.0, None, stats.UNDECIDED),
    ([0.870, 0.872, 0.874], 0.85, 0.89, stats.CONFIRMED),
    ([0.905, 0.91, 0.915], 0.85, 0.89, stats.NOT_REPRODUCED),
    ([0.88, 0.89, 0.90], 0.85, 0.89, stats.UNDECIDED),
    ([0.10, 0.15, 0.2], None, 0.3, stats.CONFIRMED),
    ([0.38, 0.40, 0.42], None, 0.3, stats.NOT_REPRODUCED),
    ([5.0], 0.0, None, stats.UNDECIDED),  # one seed: no spread, never decided
])
def test_a_lone_sub_test_is_decided_exactly_when_its_interval_is_inside_or_outside(values, above, below, verdict):
    e = stats.evidence(values, None, above, below)
    assert stats.judge_family([e]) == [verdict]
    if e.estimate.spread_known:  # the p-values agree with the 95 % interval's position
        assert stats.verdict(e.estimate, above, below) == verdict


def test_holm_keeps_a_family_from_collecting_spurious_verdicts():
    strong = stats.evidence([0.30, 0.31, 0.32], None, 0.0)  # p ≈ 0.0001
    marginal = stats.evidence([0.06, 0.10, 0.14], None, 0.0)  # alone: its 95 % interval just above 0
    assert stats.judge_family([marginal]) == [stats.CONFIRMED]
    assert 0.025 < marginal.p_confirm < 0.05
    assert stats.judge_family([marginal, marginal]) == [stats.UNDECIDED, stats.UNDECIDED]  # neither beats 0.05/2
    assert stats.judge_family([strong, marginal]) == [stats.CONFIRMED, stats.CONFIRMED]  # step-down: the last at 0.05


@pytest.mark.parametrize("verdicts, finding", [
    ([stats.CONFIRMED, stats.CONFIRMED], stats.CONFIRMED),
    ([stats.CONFIRMED, stats.NOT_REPRODUCED, stats.UNDECIDED], stats.PARTLY),
    ([stats.NOT_REPRODUCED, stats.UNDECIDED], stats.NOT_REPRODUCED),
    ([stats.CONFIRMED, stats.UNDECIDED], stats.UNDECIDED),
    ([stats.UNDECIDED], stats.UNDECIDED),
    ([], stats.UNDECIDED),  # nothing testable
])
def test_a_finding_reads_its_sub_tests(verdicts, finding):
    assert stats.finding_verdict(verdicts) == finding


def test_the_smallest_detectable_effect_has_the_stated_power():
    from scipy import stats as scipy_stats

    values = [0.30, 0.35, 0.33, 0.31, 0.36]
    e = stats.evidence(values, None, 0.0)
    se = np.std(values, ddof=1) / np.sqrt(5)
    power = scipy_stats.nct.sf(scipy_stats.t.ppf(0.975, 4), 4, e.detectable / se)
    assert power == pytest.approx(stats.POWER, abs=1e-6)
    more = stats.evidence(values * 3, None, 0.0)
    assert more.detectable < e.detectable  # more seeds see smaller effects


def _run(history: dict[str, list[float]], train_seconds: float = 1.0) -> Result:
    """A finished run with this history (what facts read)."""
    return Result(history=history, final={m: v[-1] for m, v in history.items()}, unit="step", train_seconds=train_seconds,
                  data={}, hardware={})


def _seeds(base: dict, shifts: list[float]) -> list[Result]:
    return [_run({m: [v + s for v in values] for m, values in base.items()}) for s in shifts]


def _claim(cid: str, *tests: ClaimTest, **kw) -> Claim:
    return Claim(cid, "A", cid, False, cid, tests, **{"cause": "our set-up", **kw})


def test_findings_are_judged_over_seeds_with_flags_and_partial_builds_leave_them_out():
    better = {m: [v + 0.05 if "acc" in m else v for v in values] for m, values in H.items()}
    results = {"X": _seeds(H, [0.0, 0.001, -0.001]), "Y": _seeds(better, [0.0, 0.002, -0.002])}
    y_beats_x = ClaimTest("Y minus X", Reading("Y", "value"), Reading("X", "value"), above=0.0)
    x_beats_y = ClaimTest("X minus Y", Reading("X", "value"), Reading("Y", "value"), above=0.0)
    x_mid = ClaimTest("X near 0.5 at step 1", Reading("X", "value", at=1), above=0.4, below=0.6)
    needs_more = ClaimTest("X at 0.9 on other data", Reading("X", "value"), above=0.89, needs="other data")
    judged = claims.judge(results, (
        _claim("t", y_beats_x), _claim("u", x_beats_y), _claim("v", y_beats_x, x_mid), _claim("p", y_beats_x, x_beats_y),
        _claim("n", x_mid, needs_more), _claim("w", ClaimTest("Z", Reading("Z", "value"), above=0.0)),
    ))
    assert [(j.claim.id, j.verdict) for j in judged] == [
        ("t", stats.CONFIRMED), ("u", stats.NOT_REPRODUCED), ("v", stats.CONFIRMED), ("p", stats.PARTLY),
        ("n", stats.CONFIRMED)]  # w needs Z, which the build does not have: left out
    assert judged[0].tests[0].estimate.mean == pytest.approx(0.05)
    n = judged[4]
    assert n.not_testable and not n.tests[1].testable and n.tests[1].verdict == stats.NOT_REPRODUCED
    assert n.tests[1].cause == "the substitute data"  # shown, and left out of the count
    assert claims.judge(results, (_claim("n", x_mid, needs_more),), available=frozenset({"other data"}))[0].verdict \
        == stats.PARTLY  # where the data can answer it, it counts
    assert claims.summary_line(judged) == ("findings: 5 judged — 3 confirmed, 1 partly reproduced, 1 not reproduced, "
                                           "0 undecided (flagged: 1 not testable here, 0 set-up dependent)")
    record = judged[3].as_record()
    assert record["tests"][0]["n"] == [3, 3] and record["verdict"] == "partly reproduced"
    assert record["tests"][1]["cause"] == "our set-up"


def test_a_set_up_dependent_sub_test_is_judged_again_on_the_second_set_up():
    from dlreport.claims import Setup

    faster = {m: [values[0], *values[2:], values[-1]] for m, values in H.items()}  # the same curve, a step sooner
    results = {"X": _seeds(H, [0.0, 0.001, -0.001]), "X2": _seeds(faster, [0.0, 0.001, -0.002])}
    when = ClaimTest("X: step of the validation-loss minimum", Reading("X", "loss_min_step", "val_loss"), above=1.5,
                     below=2.5, setup_dependent=True)
    level = ClaimTest("X: final validation accuracy", Reading("X", "value"), above=0.7)
    (judged,) = claims.judge(results, (_claim("s", when, level),), setup=Setup("sooner", {"X": "X2"}))
    assert judged.setup_dependent and judged.tests[0].verdict == stats.NOT_REPRODUCED  # step 3, not 2
    assert judged.tests[0].alternative.verdict == stats.CONFIRMED and judged.tests[0].survives is False
    assert judged.tests[0].cause == "our set-up"  # it holds on the other set-up
    assert judged.tests[1].alternative is None  # not set-up dependent: judged once


def test_a_threshold_sweep_says_where_the_verdict_changes():
    from dlreport.claims import Sweep

    results = {"X": _seeds(H, [0.0, 0.002, -0.002])}  # final validation accuracy 0.79 ± 0.002

    def make(half: float) -> ClaimTest:
        return ClaimTest("X: final validation accuracy", Reading("X", "value"), above=0.80 - half, below=0.80 + half)

    test = dataclasses.replace(make(0.02), sweep=Sweep("half-width", (0.005, 0.02, 0.05), make, "pp"))
    (judged,) = claims.judge(results, (_claim("h", test),))
    assert judged.tests[0].sweep == ((0.005, stats.NOT_REPRODUCED), (0.02, stats.CONFIRMED), (0.05, stats.CONFIRMED))
    from dlreport.document import findings

    assert findings.sweep(judged.tests[0]) == "half-width: not reproduced at 0.5 pp; confirmed for 2–5 pp"


def test_a_difference_of_two_reading_points_of_one_experiment_is_taken_seed_by_seed():
    results = {"X": _seeds(H, [0.0, 0.05, -0.05])}  # the seeds differ a lot; each seed's own gain does not
    gained = ClaimTest("X: gained after step 1", Reading("X", "value"), Reading("X", "value", at=1), above=0.2)
    (judged,) = claims.judge(results, (_claim("g", gained),))
    e = judged.tests[0].estimate
    assert e.n == (3,) and (e.lo, e.hi) == (pytest.approx(0.29), pytest.approx(0.29)) and judged.verdict == stats.CONFIRMED


# The CPU each part's generated runs "trained on": two, neither the rendering machine's ("test CPU"),
# as when a build takes one part's runs from `frozen/` and trains another itself.
TRAINED_ON = {"A": "Xeon of Part A", "B": "EPYC of Parts B and C", "C": "EPYC of Parts B and C"}


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory) -> tuple[str, list]:
    """The whole report rendered from generated curves for every experiment (two seeds each,
    full-profile lengths): the real context and templates, no training and no data."""
    from dlreport import frameworks
    from dlreport.document import context, render
    from dlreport.document.figure_cache import FigureCache
    from dlreport.runs import keys
    from dlreport.runs.runner import Outcome
    from experiments import STUDY
    from experiments.definitions import EXPERIMENTS, resolve
    from experiments.profiles import PROFILES

    profile, rng, runs = PROFILES["full"], np.random.default_rng(0), []  # full lengths: Part B read before the end
    for exp in EXPERIMENTS:
        for seed in range(2):
            spec = resolve(exp, profile, seed, STUDY.data.spec(exp.dataset, "substitute",
                                                               *profile.data_limits.get(exp.dataset, (None, None))))
            steps = spec["hparams"].get("iterations") or spec["hparams"]["epochs"]
            decay = np.exp(-np.arange(1, steps + 1) / steps)
            history = {"train_loss": list(0.3 + decay), "val_loss": list(0.4 + decay + rng.normal(0, 0.01, steps)),
                       "train_acc": list(0.95 - 0.4 * decay), "val_acc": list(0.9 - 0.4 * decay + rng.normal(0, 0.005, steps))}
            result = Result(history=history, final={m: v[-1] for m, v in history.items()},
                            unit="iteration" if "iterations" in spec["hparams"] else "epoch", train_seconds=2.0 + seed,
                            data={"n_train": 3000, "n_val": 1000, "sha256": "0" * 64},
                            hardware={"device": "CPU", "cpu": TRAINED_ON[exp.part]},
                            engine={"onednn": "on"})
            runs.append(Outcome(exp, seed, keys.digest([exp.id, seed]), {"spec": spec}, result, "cache", 0.0))
    finished: dict[str, list[Result]] = {}
    for o in runs:
        finished.setdefault(o.experiment.id, []).append(o.result)
    build = {"id": "test", "time": "2026-12-01T00:00:00Z", "git": {"commit": "0" * 40, "dirty": False},
             "versions": frameworks.versions(("tensorflow", "keras", "numpy")), "hardware": {"cpu": "test CPU", "cpu_count": 2},
             "counts": {"run": 0, "cached": len(runs)}}

    ctx = context.build_context(runs, claims.judge(finished), profile, "substitute", build,
                                FigureCache(tmp_path_factory.mktemp("figures")))
    return render.render_html(ctx), runs


def test_every_shipped_finding_reads_facts_and_experiments_that_exist():
    from experiments.claims import CAUSES, CLAIMS
    from experiments.definitions import EXPERIMENTS

    ids = {e.id for e in EXPERIMENTS}
    for c in CLAIMS:
        for t in c.tests:
            for r in (t.of, t.minus):
                if r is not None:
                    assert r.experiment in ids and (r.fact in analysis.FACTS or r.fact == "seconds"), (c.id, r)
                    assert r.metric in METRICS
            assert t.above is not None or t.below is not None, c.id
            assert t.why and (t.cause is None or t.cause in CAUSES), (c.id, t.words)
            if t.sweep is not None:  # a sweep varies the threshold of this very test
                assert any(t.sweep.make(v) == dataclasses.replace(t, sweep=None) for v in t.sweep.values), (c.id, t.words)
        assert c.cause in CAUSES and c.quote and c.claim
    assert [c.id for c in CLAIMS] == [str(i) for i in range(1, 21)]  # the original's twenty findings, each once


def test_each_parts_table_against_the_original_holds_each_runs_own_numbers_at_the_originals_reading_point(quick_report):
    """Read from the rendered table (one body per run): the step it names, our mean over the
    generated seeds at that step, the original's number from the definitions and the
    difference, for every metric the original gave."""
    from dlreport import study

    labels = {m.label: m.name for m in study.current().metrics}

    html, runs = quick_report
    by_id: dict[str, list] = {}
    for o in runs:
        by_id.setdefault(o.experiment.id, []).append(o)
    checked = 0
    for table in re.findall(r'<table id="tab-[abc]-results".*?</table>', html, re.S):
        for anchor, body in re.findall(r'<tbody id="([^"]+)" class="run">(.*?)</tbody>', table, re.S):
            exp = next(e for e in by_id.values() if e[0].experiment.id.lower().replace("/", "-").replace(".", "") == anchor)
            ref = exp[0].experiment.reference.as_dict()
            steps = len(exp[0].result.history["val_acc"])
            # each run's reading point in its row, or in the caption when every run shares it
            caption = re.search(r"<caption>(.*?)</caption>", table, re.S)[1]
            at = int((re.search(r"(?:iteration|epoch) (\d+)", body) or re.search(r"every run: \w+ (\d+)", caption))[1])
            assert at == min(ref.get("at") or steps, steps), anchor
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
                cells = [html_module.unescape(re.sub(r"<[^>]+>", " ", c)).split()
                         for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
                metric = labels[" ".join(cells[-7])]
                ours = np.mean([o.result.history[metric][at - 1] for o in exp])
                assert cells[-6][0] == f"{ours:.4f}" and cells[-4][0] == f"{ref[metric]:.4f}", (anchor, metric)
                assert cells[-3][0].replace("\u2212", "-") == f"{ours - ref[metric]:+.4f}", (anchor, metric)
                checked += 1
    assert checked >= 40


def test_a_run_at_chance_or_with_an_exploding_loss_is_suspect_and_a_sound_one_is_not():
    assert analysis.suspicions(H) == []
    at_chance = {**H, "val_acc": [0.1, 0.11, 0.1, 0.09, 0.1]}
    exploded = {**H, "train_loss": [2.3, 50.0, 7e4, 7e5, 7e5]}
    assert "at chance" in analysis.suspicions(at_chance)[0]
    assert "grew from 2.3 to 7e+05" in analysis.suspicions(exploded)[0]


def test_the_run_table_names_the_kernels_each_framework_says_its_runs_chose(quick_report):
    """Every generated run trained with oneDNN on: TensorFlow's framework names that, and the
    engine prints what the framework says, for each experiment's row of the runs table."""
    html, runs = quick_report
    table = re.search(r'<table id="tab-runs".*?</table>', html, re.S)[0]
    rows = re.findall(r"<tr><td>([^<]+)</td>.*?</tr>", table, re.S)
    assert len(rows) == len({o.experiment.id for o in runs})
    assert table.count("CPU, oneDNN") == len(rows)


def test_the_report_names_the_processors_its_runs_recorded_not_the_machine_that_rendered_it(quick_report):
    """A build may take runs trained elsewhere: the compute table's caption, the limitations and the
    appendix name each processor the results recorded, with its parts and runs, and never say
    the rendering machine's CPU trained them."""
    html, runs = quick_report
    text = re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", html)))
    count = {cpu: sum(TRAINED_ON[o.experiment.part] == cpu for o in runs) for cpu in set(TRAINED_ON.values())}
    parts = {"Xeon of Part A": "Part A", "EPYC of Parts B and C": "Parts B and C"}
    named = " and ".join(f"{cpu} ({parts[cpu]}, {count[cpu]} runs)" for cpu in sorted(count, key=lambda c: -count[c]))
    caption = re.sub(r"\s+", " ", re.search(r'<table id="tab-compute">\s*<caption>(.*?)</caption>', html, re.S)[1])
    assert f"on {named}." in caption
    assert f"More than one kind of processor. The runs trained on {named}." in text
    assert f"trained on {named}" in re.sub(r"\s+", " ", re.search(r'<dl class="meta">(.*?)</dl>', html, re.S)[1]
                                            .replace("<dt>trained on</dt><dd>", "trained on "))
    assert "test CPU" not in caption and "trained on test CPU" not in text
