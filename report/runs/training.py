"""Training one run: the one place where TensorFlow trains, wherever the run executes.

`run_spec` is a pure function of its arguments: a run spec (plain data) and its arrays
in, a result (plain data) out, no hidden state. That is what lets the same function
run in the build's process (`executor.Local`) or as a task on a Ray cluster
(`cluster.Ray`) and give the same numbers. TensorFlow is imported inside it, so a
build that trains nothing never pays for it.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import tempfile
import time

from dlreport import study
from dlreport.data import splits
from dlreport.fsutil import private_temp_folder
from dlreport.runs import keys, machine
from dlreport.runs.checkpoints import Checkpoint


def import_tensorflow():
    """Import TensorFlow with its native start-up chatter (CUDA probing) kept off the console.

    That chatter is written by C++ code straight to file descriptor 2, which Python's
    logging cannot filter, so the descriptor is pointed at /dev/null for the import only.
    The kernel settings the cache keys assume (`keys.engine`) are put in place first.
    """
    os.environ.setdefault(keys.ONEDNN_VARIABLE, keys.ONEDNN_DEFAULT)
    if "tensorflow" not in sys.modules:
        # autograph writes a module for every function it converts into the temporary folder
        # and deletes them only at a clean exit, so each killed run left some for good: they
        # go into a folder of this process's own instead, which a later process sweeps
        tempfile.tempdir = str(private_temp_folder("tensorflow"))
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")
            tf.get_logger().setLevel(logging.ERROR)  # its retracing warnings are for TensorFlow's developers
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tf


def hardware() -> dict:
    """What ran the experiment: the host's CPU, any GPU TensorFlow sees, and how many threads
    TensorFlow's kernels had (its default: one per core)."""
    tf = import_tensorflow()

    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    return {**machine.host(), "gpus": gpus, "device": "GPU" if gpus else "CPU", "threads": threads}


def size_thread_pools(threads: int | None) -> None:
    """TensorFlow's kernels on `threads` threads (a cluster task's CPUs), before its runtime starts.

    The thread count can change the rounding of a large reduction, so a run and its
    comparison must use the same count (the record keeps it). Asking again for the same
    count in a process whose runtime already started is harmless; another count is not
    possible there, and is said so."""
    if not threads:
        return
    tf = import_tensorflow()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        logging.getLogger(__name__).warning("TensorFlow already started with %d threads; %d asked for",
                                            tf.config.threading.get_intra_op_parallelism_threads(), threads)


class Diverged(Exception):
    """A metric stopped being a finite number: the run cannot go on."""

    def __init__(self, step: int, total: int, metrics: list[str]) -> None:
        super().__init__(f"diverged at step {step} of {total}: {', '.join(metrics)} not finite")
        self.failure = {"step": step, "total": total, "metrics": metrics, "reason": str(self)}


def run_spec(spec: dict, data: splits.RunData, progress, checkpoint: Checkpoint, threads: int | None = None) -> dict:
    """Train one run spec on its data and return its result: histories, final metrics, time, hardware.

    A run whose loss or accuracy becomes NaN or infinite is stopped there and its result
    says so (`failed`: where and which metric), with the history up to the last finite
    step; like any result it is a pure function of the spec, so it is cached too."""
    size_thread_pools(threads)
    tf = import_tensorflow()
    tf.config.experimental.enable_op_determinism()
    trainer = study.current().trainer(spec["trainer"])
    seen: dict[str, list[float]] = {}

    def watched(step: int, total: int, metrics: dict) -> None:
        bad = [k for k, v in metrics.items() if not math.isfinite(float(v))]
        if bad:
            raise Diverged(step, total, bad)
        for name, value in metrics.items():
            seen.setdefault(name, []).append(float(value))
        progress(step, total, metrics)

    start = time.perf_counter()
    failed = None
    try:
        history = trainer.train(spec, data, watched, checkpoint)
    except Diverged as exc:
        failed = exc.failure
        # only a history seen from step 1 (not resumed from a checkpoint) is complete enough to plot
        history = seen if all(len(v) == failed["step"] - 1 for v in seen.values()) else {}
    seconds = time.perf_counter() - start
    return {
        **({"failed": failed} if failed else {}),
        "history": history,
        "final": {} if failed else {name: values[-1] for name, values in history.items()},
        "unit": "iteration" if "iterations" in spec["hparams"] else "epoch",
        "train_seconds": round(seconds, 3),
        "data": data.summary(),
        "hardware": hardware(),
        "versions": keys.versions(),
        "engine": keys.engine(),
        "seed": spec["seed"],
    }


