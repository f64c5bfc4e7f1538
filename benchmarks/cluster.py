"""Ray benchmark: what running on a cluster costs and gives, measured side by side in one run.

    .venv/bin/python benchmarks/cluster.py [--data-dir DIR] [--json build/bench-cluster.json]

On this machine, with quick-profile runs on the real data (their results thrown away):
  * Ray's start-up (a Ray started here, its nodes probed: TensorFlow imported, keys compared);
  * overhead per run: the same runs trained in this process and on one Ray worker with
    the same threads, one at a time; the difference per run, and as a share of the mean
    full-profile run of the frozen store;
  * on this machine's cores: one worker with all threads against one single-threaded
    worker per core (throughput ratio), and why;
  * what a run spends waiting for its data from the object store.
Nothing is asserted: a benchmark reports.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dlreport import planning  # noqa: E402
from dlreport.cachedir import CacheDir  # noqa: E402
from dlreport.data.files import resolve_data_dir  # noqa: E402
from dlreport.frameworks import tensorflow  # noqa: E402
from dlreport.runs import runner  # noqa: E402
from dlreport.runs.executor import Local  # noqa: E402
from dlreport.runs.placement import Placement  # noqa: E402

RUNS = ("A1", "A2a", "B1", "B2")  # quick profile, two seeds each: 8 runs


def _planned(data_dir: Path, cache: Path) -> tuple[list, dict]:
    cfg = planning.BuildConfig(data_dir=data_dir, profile="quick", data_choice="substitute", only=RUNS,
                               cache_dir=cache, frozen_dir=cache / "no-frozen")
    planned = planning.plan(cfg).runs
    return planned, runner.load_data(planned, data_dir, cfg.cache)


def _timed(executor, planned: list, loaded: dict) -> tuple[float, list[tuple]]:
    began = time.perf_counter()
    out = [(p.key, result, where) for p, result, where, _ in executor.train(planned, loaded)]
    return time.perf_counter() - began, out


def _ray(placement: Placement, planned: list, loaded: dict) -> dict:
    from dlreport.runs.cluster import Ray

    executor = Ray(placement)
    began = time.perf_counter()
    try:
        executor.start(planned, loaded)
        start_s = time.perf_counter() - began
        seconds, out = _timed(executor, planned, loaded)
    finally:
        executor.close()
    return {"start_s": round(start_s, 2), "train_s": round(seconds, 2), "out": out}


def _mean_full_run_s() -> float:
    """The mean training time of a full-profile run in the frozen store."""
    times = [json.loads(p.read_text())["result"]["train_seconds"] for p in (ROOT / "frozen").glob("*/*.json")
             if json.loads(p.read_text())["components"]["spec"]["profile"] == "full"]
    return statistics.mean(times) if times else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir")
    ap.add_argument("--json", type=Path, default=ROOT / "build" / "bench-cluster.json")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="dlreport-bench-") as tmp:
        planned, loaded = _planned(resolve_data_dir(args.data_dir), Path(tmp))
        tensorflow.import_tensorflow()  # as a Ray worker does while its node is probed (counted in start-up there)
        local_s, local_out = _timed(Local(Path(tmp), CacheDir(Path(tmp)), threads=cores), planned, loaded)
        one = _ray(Placement("ray", None, cores), planned, loaded)  # one worker with every core: one run at a time
        per_core = _ray(Placement("ray", None, 1), planned, loaded)  # one single-threaded run per core
    n = len(planned)
    same = {k: r["history"] for k, r, _ in local_out} == {k: r["history"] for k, r, _ in one["out"]}
    overhead = (one["train_s"] - local_s) / n
    full = _mean_full_run_s()
    waits = [w["data_wait_s"] for _, _, w in one["out"] + per_core["out"]]
    figures = {
        "runs": n, "cores": cores,
        "local_s": round(local_s, 2), "ray_one_worker_s": one["train_s"], "ray_start_s": one["start_s"],
        "overhead_per_run_s": round(overhead, 3), "ratio_ray_to_local": round(one["train_s"] / local_s, 3),
        "mean_full_profile_run_s": round(full, 1), "overhead_share_of_full_run": round(overhead / full, 4),
        "ray_one_thread_per_core_s": per_core["train_s"], "ray_per_core_start_s": per_core["start_s"],
        "throughput_ratio_per_core_vs_one_worker": round(one["train_s"] / per_core["train_s"], 3),
        "data_wait_s_mean": round(statistics.mean(waits), 4), "data_wait_s_max": round(max(waits), 4),
        "ray_matches_local_bit_for_bit": same,
    }
    print(f"{n} quick runs on {cores} cores")
    print(f"  in this process ({cores} threads)        {local_s:7.1f} s")
    print(f"  one Ray worker ({cores} threads)          {one['train_s']:7.1f} s   ratio {figures['ratio_ray_to_local']:.3f}, "
          f"{overhead:+.2f} s a run = {100 * overhead / full:.2f} % of a full-profile run ({full:.0f} s mean)")
    print(f"  Ray start-up (start, probe the nodes)  {one['start_s']:7.1f} s")
    print(f"  {cores} single-threaded Ray workers        {per_core['train_s']:7.1f} s   throughput "
          f"×{figures['throughput_ratio_per_core_vs_one_worker']:.2f} against one {cores}-thread worker")
    print(f"  waiting for data (object store)        mean {figures['data_wait_s_mean'] * 1000:.1f} ms, "
          f"max {figures['data_wait_s_max'] * 1000:.1f} ms a run")
    print(f"  Ray's results equal local ones bit for bit: {same}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
