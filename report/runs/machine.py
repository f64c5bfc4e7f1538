"""What machine a build or a run happened on."""

from __future__ import annotations

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
