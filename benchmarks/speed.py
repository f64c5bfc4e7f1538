"""Speed benchmark: prints figures measured side by side in one run, and writes them as JSON.

    .venv/bin/python benchmarks/speed.py [--data-dir DIR] [--json build/bench.json]

Measured here, on this machine, in this order:
  * build level: a no-op build, rebuilds (HTML + PDF) after a visible edit of the
    introduction's template and in each of the longest pieces of the PDF, `status`
    — wall time of the real command, best of three, in a scratch copy of the project
    that shares this checkout's cached results (so nothing is trained);
  * Part A (A2b shape, full batch, real Fashion-MNIST): our graph-compiled step against a
    naive eager GradientTape loop of the same maths, and against a measured matmul peak;
  * Part B (B4, batch 32, real notMNIST substitute split): our training loop against a
    default `model.fit` of the same model and data;
  * the full profile's multi-seed study against its FLOP floors (all its arithmetic at that
    peak; each product at the best rate measured for its own shape): timed now, each
    experiment for a few steps with the real trainer, one run at a time on every thread
    and as a local build trains it by default (a run per core, side by side), and as the
    latest full build recorded it (`--study-only` measures just this);
  * peak resident memory of each measuring process.
Nothing here asserts a speed: a benchmark reports, tests check behaviour.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scratch import copy_project

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dlreport import planning  # noqa: E402
from dlreport.runs.machine import available_cores  # noqa: E402
from experiments import networks  # noqa: E402

CHECKOUT = planning.BuildConfig(data_dir=Path())  # this checkout's default output folder, cache and frozen store


def _best_wall(cmd: list[str], cwd: Path, env: dict, repeat: int = 3, before=None) -> float:
    times = []
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


# where the benchmark edits a section: the start of each part, and the longest pieces
# within one (each starts at an `h3` of class "starts-page")
SECTION_EDITS = [("part_a.html.j2", ""), ("part_a.html.j2", 'id="a-depth"'), ("part_b.html.j2", ""),
                 ("part_b.html.j2", 'id="b-dropout"'), ("part_c.html.j2", ""), ("part_c.html.j2", 'id="c-evidence"')]


def build_level(data_dir: Path) -> dict:
    """No-op build, template-edit rebuilds (with and without drawn figures kept) and status,
    in a scratch copy of the project with a copy of this checkout's cached results."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp)
        copy_project(copy)
        if (ROOT / ".cache" / "results").is_dir():
            shutil.copytree(ROOT / ".cache" / "results", copy / ".cache" / "results")
        env = {**os.environ, "REPORT_DATA_DIR": str(data_dir), "REPORT_NOTMNIST_SPLIT": "substitute"}
        cmd = [sys.executable, "build.py", "-q"]
        subprocess.run(cmd, cwd=copy, env=env, check=True, capture_output=True)  # warm: renders once
        edits = iter(range(1000))

        def edit(template: str, after: str = "") -> None:
            """A visible change: one more sentence at the end of the first paragraph after `after`."""
            path = copy / "templates" / template
            text = path.read_text()
            end = text.index("</p>", text.index(after))
            path.write_text(f"{text[:end]} Benchmark edit {next(edits)}.{text[end:]}")

        def edit_forget_figures() -> None:
            shutil.rmtree(copy / ".cache" / "figures", ignore_errors=True)
            edit("intro.html.j2")

        # an edit in each of the largest pieces the PDF is laid out in (report/document/pdf_assembly.py)
        sections = {f"{template}{' after ' + after if after else ''}": _best_wall(
            cmd, copy, env, repeat=2, before=lambda template=template, after=after: edit(template, after))
            for template, after in SECTION_EDITS}
        return {
            "noop_build_s": _best_wall(cmd, copy, env),
            "template_edit_rebuild_s": _best_wall(cmd, copy, env, before=lambda: edit("intro.html.j2")),
            "template_edit_sections_s": sections,
            "template_edit_worst_section_s": max(sections.values()),
            "template_edit_rebuild_cold_figures_s": _best_wall(cmd, copy, env, before=edit_forget_figures),
            "status_s": _best_wall([*cmd[:2], "status", *cmd[2:]], copy, env),
        }


A2B_HIDDEN = [300, 100]
A2B = networks.mlp(A2B_HIDDEN)
SQUARES = [(1024, 1024, 1024), (2048, 2048, 2048), (4096, 4096, 4096)]
TIMING_S = 0.3  # seconds of one timing of one product shape on one engine


class ProductRates:
    """Best sustained fp32 GFLOP/s of one matrix product of a given shape on this machine,
    through TensorFlow (plain and XLA) and NumPy's BLAS, the best of three timings each.

    Each shape is measured once, when first asked for. The machine's peak is the best rate
    of square sizes and A2b's products, the study's largest (a single square size can
    under-read it). A run's products, each at its own shape's best rate, give a second,
    tighter floor: what no code can beat with these kernels on this CPU. A small product's
    rate includes one call's overhead, as a training loop's products do."""

    def __init__(self, tf) -> None:
        plain = tf.function(lambda x, y: tf.reduce_sum(x @ y))
        xla = tf.function(lambda x, y: tf.reduce_sum(x @ y), jit_compile=True)
        self._engines = {"tensorflow": (tf.constant, plain), "tensorflow+xla": (tf.constant, xla),
                         "numpy": (np.asarray, np.matmul)}
        self._best: dict[tuple[int, int, int], dict] = {}
        self.rows: list[dict] = []

    def best(self, m: int, k: int, n: int) -> dict:
        """{"gflops", "engine"} of the fastest engine for an (m × k) by (k × n) product."""
        if (m, k, n) not in self._best:
            rng = np.random.default_rng(0)
            a, b = rng.standard_normal((m, k), np.float32), rng.standard_normal((k, n), np.float32)
            flops = 2.0 * m * k * n
            rows = []
            for engine, (convert, multiply) in self._engines.items():
                f = functools.partial(multiply, convert(a), convert(b))
                f()  # traces and compiles
                start = time.perf_counter()
                np.asarray(f())
                repeat = max(3, int(TIMING_S / (time.perf_counter() - start)))  # a timing lasts about TIMING_S
                best = 0.0
                for _ in range(3):
                    start = time.perf_counter()
                    for _ in range(repeat):
                        np.asarray(f())
                    best = max(best, flops * repeat / (time.perf_counter() - start) / 1e9)
                rows.append({"shape": f"{m}x{k}x{n}", "engine": engine, "gflops": round(best, 1)})
            self.rows += rows
            self._best[(m, k, n)] = max(rows, key=lambda r: r["gflops"])
        return self._best[(m, k, n)]

    def seconds(self, products) -> float:
        """Time of these products, each at the best rate measured for its shape."""
        return sum(p.flops / (self.best(p.m, p.k, p.n)["gflops"] * 1e9) for p in products)

    def peak(self) -> dict:
        """The machine's matmul peak: {"gflops", "best" (engine and shape)}."""
        from experiments.flops import products_per_step

        largest = {(p.m, p.k, p.n) for p in products_per_step({"hparams": {"hidden": A2B_HIDDEN}}, 60000, 0)}
        top = max((self.best(*shape) for shape in [*SQUARES, *sorted(largest)]), key=lambda r: r["gflops"])
        return {"gflops": top["gflops"], "best": f"{top['engine']} {top['shape']}"}


def part_a(tf, data, iterations: int = 8) -> dict:
    """A2b, full batch: our compiled training step against an eager GradientTape loop."""
    from dlreport.runs.checkpoints import Checkpoint
    from experiments import lowlevel
    from experiments.flops import flops_per_step

    spec = {"hparams": {"hidden": [300, 100], "penalty": None, "alpha": 0.0, "learning_rate": 1e-3,
                        "iterations": iterations}, "seed": 0}
    flops = flops_per_step(spec, len(data.y_train), len(data.y_val))

    def ours() -> float:
        stamps: list[float] = []
        with tempfile.TemporaryDirectory() as tmp:
            # time between the ends of the first and the last step: excludes tracing and XLA compilation
            lowlevel.train(spec, data, lambda *a: stamps.append(time.perf_counter()), Checkpoint(Path(tmp) / "c"))
        return (stamps[-1] - stamps[0]) / (len(stamps) - 1)

    params = lowlevel.init_params(A2B.sizes, 0)
    variables = [v for pair in params for v in pair]
    x, onehot = tf.constant(data.x_train.T), tf.one_hot(data.y_train, networks.N_CLASSES, axis=0)
    xv, onehot_v = tf.constant(data.x_val.T), tf.one_hot(data.y_val, networks.N_CLASSES, axis=0)
    optimizer = tf.keras.optimizers.Adam(1e-3)

    def eager_step() -> None:
        with tf.GradientTape() as tape:
            loss = lowlevel.cross_entropy(lowlevel.forward(params, x), onehot)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        float(lowlevel.cross_entropy(lowlevel.forward(params, xv), onehot_v))

    def naive() -> float:
        eager_step()
        start = time.perf_counter()
        for _ in range(iterations):
            eager_step()
        return (time.perf_counter() - start) / iterations

    ours, naive = _alternated(ours, naive)
    n = len(data.y_train)
    return {
        "ours_s_per_iteration": ours, "naive_s_per_iteration": naive,
        "ours_examples_per_s": n / ours, "naive_examples_per_s": n / naive,
        "ours_gflops": flops / ours / 1e9, "naive_gflops": flops / naive / 1e9,
    }


def products_alone(tf, data, hidden: list[int], batch: int = 32) -> float:
    """Seconds for one epoch of nothing but a training step's matrix products at this
    batch size (forward, and backward without the images' gradient) in one compiled
    loop: what no training loop at this batch size can go below, whatever it fuses."""
    weights = [tf.constant(np.random.default_rng(0).standard_normal((a, b), np.float32) * 0.01)
               for a, b in zip(networks.mlp(hidden).sizes[:-1], networks.mlp(hidden).sizes[1:])]
    x, steps = tf.constant(data.x_train), len(data.y_train) // batch

    @tf.function
    def epoch() -> tf.Tensor:
        def body(i, total):
            activations = [x[i * batch:(i + 1) * batch]]
            for w in weights:
                activations.append(activations[-1] @ w)
            grad = activations[-1]
            for k in reversed(range(len(weights))):
                total += tf.reduce_sum(tf.transpose(activations[k]) @ grad)  # weight gradient
                if k:
                    grad = grad @ tf.transpose(weights[k])  # gradient passed down
            return i + 1, total
        return tf.while_loop(lambda i, _: i < steps, body, (tf.constant(0), tf.constant(0.0)))[1]

    return _best_time(lambda: float(epoch()))


def adam_alone(tf, hidden: list[int], steps: int) -> float:
    """Seconds for `steps` fused Adam updates of every weight and bias of a network, and
    nothing else: the memory traffic (read weights, gradients and both moments, write three
    of them back) that any Adam step must pay, however the rest is fused."""
    sizes = networks.mlp(hidden).sizes
    shapes = [s for a, b in zip(sizes[:-1], sizes[1:]) for s in ((a, b), (b,))]
    weights = [tf.Variable(tf.zeros(s)) for s in shapes]
    moments = [(tf.Variable(tf.zeros(s)), tf.Variable(tf.zeros(s))) for s in shapes]
    grads = [tf.fill(s, 1e-3) for s in shapes]

    @tf.function
    def run() -> tf.Tensor:
        def body(i):
            for w, (m, v), g in zip(weights, moments, grads):
                tf.raw_ops.ResourceApplyAdam(var=w.handle, m=m.handle, v=v.handle, beta1_power=0.5, beta2_power=0.5,
                                             lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-7, grad=g)
            return (i + 1,)
        return tf.while_loop(lambda i: i < steps, body, (tf.constant(0),))[0]

    return _best_time(run)


def _alternated(first, second, rounds: int = 2) -> tuple[float, float]:
    """The best time of each of two measurements, taken in turn: on a machine whose speed
    drifts, a slow spell then hurts both sides instead of one."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        times[0].append(first())
        times[1].append(second())
    return min(times[0]), min(times[1])


def _best_time(f, repeat: int = 3) -> float:
    """Best of `repeat` timings of `f`, after one untimed call that traces and warms it."""
    f()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def part_b(tf, data, rates: ProductRates, epochs: int = 2) -> dict:
    """B4 at batch 32: our training loop (the real `keras_models.train`: Keras' `train_step`
    in one compiled loop per epoch, fused Adam, a checkpoint after each epoch) against a
    default `fit` of Keras' Adam, same data; and both against the products alone."""
    import keras

    from dlreport.runs.checkpoints import Checkpoint
    from experiments import keras_models
    from experiments.flops import flops_per_step, products_per_step

    hp = {"hidden": [600, 400, 200], "dropout": [0.0] * 3, "batch_norm": False, "learning_rate": 1e-3,
          "batch_size": 32, "epochs": epochs + 1}
    flops = flops_per_step({"hparams": hp}, len(data.y_train), len(data.y_val))

    def default_fit() -> float:
        keras.utils.set_random_seed(0)
        model = keras_models.build_model(networks.of(hp))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(data.x_train[:2048], data.y_train[:2048], batch_size=32, epochs=1, verbose=0)  # compile
        start = time.perf_counter()
        model.fit(data.x_train, data.y_train, batch_size=32, epochs=epochs,
                  validation_data=(data.x_val, data.y_val), verbose=0)
        return (time.perf_counter() - start) / epochs

    def ours() -> float:
        ends: list[float] = []
        with tempfile.TemporaryDirectory() as tmp:
            keras_models.train({"hparams": hp, "seed": 0}, data, lambda *a: ends.append(time.perf_counter()),
                               Checkpoint(Path(tmp) / "ck.npz"))
        return (ends[-1] - ends[0]) / epochs  # epoch 1 (tracing, compiling) left out

    default, our = _alternated(default_fit, ours)
    floor = products_alone(tf, data, hp["hidden"])
    adam = adam_alone(tf, hp["hidden"], len(data.y_train) // hp["batch_size"])
    n = len(data.y_train)
    return {
        "ours_s_per_epoch": our, "default_fit_s_per_epoch": default, "products_alone_s_per_epoch": floor,
        "ours_examples_per_s": n / our, "default_fit_examples_per_s": n / default,
        "ours_gflops": flops / our / 1e9, "default_fit_gflops": flops / default / 1e9,
        "adam_alone_s_per_epoch": adam,
        "most_possible_speed_up": default / (floor + adam),
        "products_best_gflops": max(rates.best(p.m, p.k, p.n)["gflops"]
                                    for p in products_per_step({"hparams": hp}, n, len(data.y_val))),
    }


def _unit(spec: dict) -> str:
    """What a run's length counts: full-batch iterations (Part A) or epochs (Parts B and C)."""
    return "iterations" if "iterations" in spec["hparams"] else "epochs"


def _against_floor(parts: dict[str, dict], peak_gflops: float) -> dict:
    """Trainer -> {tflop, train_s, shape_floor_s} set against two floors: all that arithmetic
    at the machine's peak, and each product at the best rate its own shape reaches here.
    Split by trainer, because the two parts sit at different distances from either floor."""
    for part in parts.values():
        part["floor_s"] = part["tflop"] * 1e12 / (peak_gflops * 1e9)
        part["ratio"] = part["train_s"] / part["floor_s"]
        part["shape_ratio"] = part["train_s"] / part["shape_floor_s"]
    tflop, seconds = sum(p["tflop"] for p in parts.values()), sum(p["train_s"] for p in parts.values())
    floor, shape_floor = tflop * 1e12 / (peak_gflops * 1e9), sum(p["shape_floor_s"] for p in parts.values())
    return {"tflop": tflop, "train_s": seconds, "floor_s": floor, "ratio": seconds / floor,
            "shape_floor_s": shape_floor, "shape_ratio": seconds / shape_floor, "by_trainer": parts}


def study_against_floor(peak_gflops: float, rates: ProductRates) -> dict | None:
    """The latest full-profile build's recorded training time against its FLOP floor: all
    its arithmetic at the measured matmul peak (from build/record.json; None without one).
    Its times were measured whenever each run trained, on whichever machine trained it (the
    CPUs are counted: a study trained across machines is set against this one's peak) and
    maybe busy with other work then; a run trained beside others counts for its share of the
    machine's time; `study_now` measures in the same minutes as the peak."""
    from dlreport.builds import record
    from dlreport.runs.result import RUNS_AT_ONCE
    from dlreport.runs.store import ResultStore
    from experiments.flops import products_per_step

    rec = record.read(CHECKOUT.out_dir / "record.json")
    if rec is None or rec["profile"] != "full":
        return None
    runs = {r["key"]: r for r in rec["runs"] if "failed" not in r}  # a run shared by two ids counts once
    store = ResultStore(CHECKOUT.cache.results, CHECKOUT.frozen_dir)
    parts: dict[str, dict] = {}
    for key, e in runs.items():
        spec = e["components"]["spec"]
        part = _add_arithmetic(parts, spec, rates, products_per_step(spec, e["data"]["n_train"], e["data"]["n_val"]),
                               spec["hparams"][_unit(spec)])
        stored = store.get(key)
        hardware = stored["result"]["hardware"] if stored else {}
        part["train_s"] += e["train_seconds"] / hardware.get(RUNS_AT_ONCE, 1)  # its share of the machine's time
        cpu = hardware.get("cpu", "unknown")
        part.setdefault("trained_on", {})
        part["trained_on"][cpu] = part["trained_on"].get(cpu, 0) + 1
    return {"runs": len(runs), **_against_floor(parts, peak_gflops)}


def _add_arithmetic(parts: dict[str, dict], spec: dict, rates: ProductRates, products: list, steps: int) -> dict:
    """Count a run's products, `steps` times over, into its trainer's total and shape floor;
    returns its trainer's part, to which the caller adds the run's time."""
    part = parts.setdefault(spec["trainer"], {"tflop": 0.0, "train_s": 0.0, "shape_floor_s": 0.0})
    part["tflop"] += sum(p.flops for p in products) * steps / 1e12
    part["shape_floor_s"] += rates.seconds(products) * steps
    return part


TIMED_STEPS = {"iterations": 6, "epochs": 3}  # per experiment: enough steps after the compiling first one


def _pace(spec: dict, data, threads: int | None = None) -> tuple[float, float]:
    """Seconds to a run's first step's end, and for each step after it."""
    from dlreport.runs import training
    from dlreport.runs.checkpoints import Checkpoint

    stamps: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        training.run_spec(spec, data, lambda *a: stamps.append(time.perf_counter()), Checkpoint(Path(tmp) / "c.npz"),
                          threads)
    return stamps[0] - began, (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def _start_side_worker() -> None:
    """A worker of `_Paces`: the framework imported and its threads sized before anything is timed."""
    from dlreport.frameworks.tensorflow import start

    start(1)


class _Paces:
    """Each experiment's pace, timed as a build trains it: alone in one process on the
    framework's default threads (`at_once` 1), or `at_once` runs side by side, each in a
    worker process of its own on one thread (the local executor's default on this many
    cores), where a run's share of the time is the pace of each divided by `at_once`."""

    def __init__(self, at_once: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.at_once, self.pool = at_once, None
        if at_once > 1:
            self.pool = ProcessPoolExecutor(at_once, multiprocessing.get_context("spawn"), _start_side_worker)
            list(self.pool.map(int, range(at_once)))  # every worker started before anything is timed

    def __call__(self, spec: dict, data) -> tuple[float, float]:
        if self.pool is None:
            return _pace(spec, data)
        paces = [f.result() for f in [self.pool.submit(_pace, spec, data, 1) for _ in range(self.at_once)]]
        return tuple(sum(values) / len(values) / self.at_once for values in zip(*paces))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def full_study(data_dir: Path) -> tuple[list, dict]:
    """The full profile's planned runs (none taken from a store) and their data, read once for
    every way `study_now` times them."""
    from dlreport.runs import runner

    with tempfile.TemporaryDirectory() as tmp:
        cfg = planning.BuildConfig(data_dir=data_dir, profile="full", data_choice="substitute",
                                   cache_dir=Path(tmp), frozen_dir=Path(tmp) / "no-frozen")
        planned = planning.plan(cfg).runs
        return planned, runner.load_data(planned, data_dir, CHECKOUT.cache)  # the checkout's decoded datasets


def study_now(study: tuple[list, dict], peak_gflops: float, rates: ProductRates, at_once: int = 1) -> dict:
    """The full profile's multi-seed study (every planned run, every seed: `full_study`) as our
    training code runs it now, against its FLOP floor at the peak measured in this same run.

    Each experiment is trained for a few steps with the real `training.run_spec` (its own
    network, data, penalty, dropout, checkpoints), alone or `at_once` side by side (`_Paces`);
    a run's time is its first step (building, tracing, compiling) plus its other steps at
    the measured pace. Seeds change no arithmetic, so one experiment's pace serves all its
    seeds. A build's recorded times are the truth of that build; this is the figure that
    can sit beside today's peak."""
    from dlreport.runs import keys
    from experiments.flops import products_per_step

    planned, loaded = study
    paced = _Paces(at_once)
    paces: dict[str, tuple[float, float]] = {}  # experiment -> (first step s, each further step s)
    parts: dict[str, dict] = {}
    trained: set[str] = set()
    try:
        for p in planned:
            if p.key in trained:  # a run shared by two experiments (C's plain 1e-3 is B4) trains once
                continue
            trained.add(p.key)
            spec, unit = p.spec, _unit(p.spec)
            data = loaded[keys.digest(spec["data"])]
            if p.experiment.id not in paces:
                paces[p.experiment.id] = paced({**spec, "hparams": {**spec["hparams"], unit: TIMED_STEPS[unit]}}, data)
            first, each = paces[p.experiment.id]
            steps = spec["hparams"][unit]
            part = _add_arithmetic(parts, spec, rates, products_per_step(spec, len(data.y_train), len(data.y_val)), steps)
            part["train_s"] += first + (steps - 1) * each
    finally:
        paced.close()
    return {"runs": len(trained), "at_once": at_once,
            "paces_s": {e: {"first_step": round(f, 3), "each_step": round(e_s, 4)} for e, (f, e_s) in paces.items()},
            **_against_floor(parts, peak_gflops)}


def _print_comparisons(results: dict) -> None:
    a, b = results["part_a"], results["part_b"]
    print(f"no-op build              {results['build']['noop_build_s']:.2f} s")
    print(f"template edit → HTML+PDF {results['build']['template_edit_rebuild_s']:.2f} s (introduction; "
          f"at worst {results['build']['template_edit_worst_section_s']:.2f} s in a part of the study; "
          f"{results['build']['template_edit_rebuild_cold_figures_s']:.2f} s drawing every figure afresh)")
    print(f"status                   {results['build']['status_s']:.2f} s")
    peak = results["matmul_peak"]
    share = a["ours_gflops"] / peak["gflops"]
    print(f"Part A (A2b, full batch) ours {a['ours_gflops']:.0f} GFLOP/s ({share:.0%} of peak), naive eager "
          f"{a['naive_gflops']:.0f} GFLOP/s: {a['naive_s_per_iteration'] / a['ours_s_per_iteration']:.2f}×")
    print(f"Part B (B4, batch 32)    ours {b['ours_examples_per_s']:.0f} ex/s ({b['ours_gflops']:.0f} GFLOP/s), default fit "
          f"{b['default_fit_examples_per_s']:.0f} ex/s: {b['default_fit_s_per_epoch'] / b['ours_s_per_epoch']:.2f}×; "
          f"its products at batch 32 reach at most {b['products_best_gflops']:.0f} GFLOP/s")
    print(f"Part B ceiling           an epoch of B4's products alone takes {b['products_alone_s_per_epoch']:.2f} s, "
          f"its Adam updates alone {b['adam_alone_s_per_epoch']:.2f} s (ours {b['ours_s_per_epoch']:.2f} s, "
          f"default fit {b['default_fit_s_per_epoch']:.2f} s): no Adam loop at batch 32 can beat default fit "
          f"by more than {b['most_possible_speed_up']:.2f}×")


def _print_study(title: str, st: dict) -> None:
    print(f"{title}: {st['tflop']:.0f} TFLOP in {st['train_s'] / 60:.1f} min of training; "
          f"floor at peak {st['floor_s'] / 60:.1f} min: {st['ratio']:.2f}× the floor; each product at its "
          f"shape's best rate {st['shape_floor_s'] / 60:.1f} min: {st['shape_ratio']:.2f}×")
    for trainer, part in st["by_trainer"].items():
        print(f"  {trainer:<22} {part['tflop']:.0f} TFLOP in {part['train_s'] / 60:.1f} min; "
              f"floor {part['floor_s'] / 60:.1f} min: {part['ratio']:.2f}×; each product at its shape's best "
              f"{part['shape_floor_s'] / 60:.1f} min: {part['shape_ratio']:.2f}×")
        if "trained_on" in part:
            print("    trained on " + ", ".join(f"{cpu} ({n} runs)" for cpu, n in part["trained_on"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("REPORT_DATA_DIR"))
    parser.add_argument("--json", type=Path, default=CHECKOUT.out_dir / "bench.json")
    parser.add_argument("--study-only", action="store_true",
                        help="measure only the matmul peak, the product shapes and the full study against its floors")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from dlreport.data import datasets, files
    from dlreport.frameworks.tensorflow import import_tensorflow
    from experiments.data import specs, splits

    data_dir = files.resolve_data_dir(args.data_dir)
    results = {} if args.study_only else {"build": build_level(data_dir)}
    tf = import_tensorflow()
    rates = ProductRates(tf)
    results["matmul_peak"] = peak = rates.peak()
    if not args.study_only:
        cache = datasets.DecodedCache(CHECKOUT.cache.decoded)
        fashion = splits.load_run_data(specs.data_spec("fashion-mnist", None, None, None), data_dir, cache)
        notmnist = splits.load_run_data(specs.data_spec("notmnist", "substitute", None, None), data_dir, cache)
        results["part_a"] = part_a(tf, fashion)
        results["part_b"] = part_b(tf, notmnist, rates)
    cores = available_cores()
    study = full_study(data_dir)
    results["study_now_one_at_a_time"] = study_now(study, peak["gflops"], rates)
    results["study_now"] = study_now(study, peak["gflops"], rates, cores) if cores > 1 else results["study_now_one_at_a_time"]
    results["study"] = study_against_floor(peak["gflops"], rates)
    results["product_rates"] = rates.rows
    results["peak_rss_mb"] = {
        "benchmark_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "build_subprocesses": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    if not args.study_only:
        _print_comparisons(results)
    print(f"matmul peak              {peak['gflops']:.0f} GFLOP/s ({peak['best']}; "
          f"{len(rates.rows)} shape/engine pairs in the JSON)")
    before = results["study_now_one_at_a_time"]
    _print_study(f"full study, now, one run at a time ({before['runs']} runs timed by experiment)", before)
    if results["study_now"] is not before:
        _print_study(f"full study, now, {cores} runs at once (the local default here)", results["study_now"])
    if results["study"]:
        _print_study(f"full study, as recorded ({results['study']['runs']} runs of the last build)", results["study"])
    print(f"peak RSS                 {results['peak_rss_mb']['benchmark_process']:.0f} MB (benchmark), "
          f"{results['peak_rss_mb']['build_subprocesses']:.0f} MB (builds)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n")
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
