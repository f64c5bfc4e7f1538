"""TensorFlow (with Keras) as a framework: the one place the engine imports it.

Its oneDNN kernels are off by default on CPUs without AVX-512; turned on, a full-batch
training step of the first study ran 17 % faster with bit-identical results, so builds turn them on unless told
otherwise. They change rounding elsewhere (Keras' own kernels), hence the setting's place in
every key of a TensorFlow run.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile

from dlreport.frameworks import Framework
from dlreport.fsutil import private_temp_folder

ONEDNN_VARIABLE, ONEDNN_DEFAULT = "TF_ENABLE_ONEDNN_OPTS", "1"


def settings() -> dict[str, str]:
    """The settings that choose TensorFlow's kernels, as the process will import it."""
    value = os.environ.get(ONEDNN_VARIABLE, ONEDNN_DEFAULT).strip().lower()
    return {"onednn": "on" if value in ("1", "true") else "off"}


def environment() -> dict[str, str]:
    return {ONEDNN_VARIABLE: os.environ.get(ONEDNN_VARIABLE, ONEDNN_DEFAULT), "TF_CPP_MIN_LOG_LEVEL": "3"}


def import_tensorflow():
    """Import TensorFlow with its native start-up chatter (CUDA probing) kept off the console.

    That chatter is written by C++ code straight to file descriptor 2, which Python's
    logging cannot filter, so the descriptor is pointed at /dev/null for the import only.
    The kernel settings the keys assume (`settings`) are put in place first.
    """
    os.environ.setdefault(ONEDNN_VARIABLE, ONEDNN_DEFAULT)
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
    from dlreport.runs import machine

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


def start(threads: int | None) -> None:
    """Before a run: its thread pools sized, and every op deterministic (a run is a pure function of its spec)."""
    size_thread_pools(threads)
    import_tensorflow().config.experimental.enable_op_determinism()


TENSORFLOW = Framework("tensorflow", "TensorFlow", ("tensorflow", "keras", "numpy"), settings=settings,
                       environment=environment, load=import_tensorflow, start=start, hardware=hardware,
                       kernels=lambda chosen: "oneDNN" if chosen.get("onednn") == "on" else "")
