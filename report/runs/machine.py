"""What machine a build or a run happened on."""

from __future__ import annotations

import glob
import os
import platform


def host() -> dict:
    """CPU model and logical CPU count (no GPU probe: that needs TensorFlow)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpu": cpu, "cpu_count": os.cpu_count()}


def available_cores() -> int:
    """The cores this process may run on (a container's or `taskset`'s share, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def has_gpu() -> bool:
    """Whether an NVIDIA GPU is visible to a process started here, judged from the driver's device
    files (asking a framework would import it): runs that share one GPU need their framework
    told how to share its memory, which the engine leaves to a user's --runs-at-once."""
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES")
    return hidden not in ("", "-1") and bool(glob.glob("/dev/nvidia[0-9]*"))
