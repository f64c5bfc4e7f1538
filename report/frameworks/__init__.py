"""Frameworks: which libraries compute a run's numbers, and the settings that choose their
kernels. Their versions and settings enter the key of every run they train, so a run of a
NumPy trainer is keyed by NumPy's version alone, one of a TensorFlow trainer by TensorFlow's,
Keras' and NumPy's and by oneDNN's switch.

A trainer module names its framework in a constant, read without importing it
(`FRAMEWORK = "numpy"`); one that names none uses its study's (`Study.framework`). The engine
ships TensorFlow's and NumPy's (`BUILTIN`); a study may declare others (`Study.frameworks`).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata


def _host() -> dict:
    from dlreport.runs import machine

    return {**machine.host(), "gpus": [], "device": "CPU", "threads": os.cpu_count()}


@dataclass(frozen=True)
class Framework:
    """What the engine needs of a framework to key, start and describe a run."""

    name: str  # as a trainer names it (`FRAMEWORK`)
    label: str  # as messages name it
    packages: tuple[str, ...]  # whose versions enter the key of every run it trains
    # the settings that choose its kernels, as a process will import it (a key's "engine")
    settings: Callable[[], dict[str, str]] = field(default=lambda: {})
    # the environment a Ray worker needs to import it with the driver's settings
    environment: Callable[[], dict[str, str]] = field(default=lambda: {})
    load: Callable[[], object] = field(default=lambda: None)  # import it (quietly), once per process
    start: Callable[[int | None], None] = field(default=lambda threads: None)  # before a run: threads, determinism
    hardware: Callable[[], dict] = field(default=_host)  # what ran a run: host, devices, threads
    # how the report names the kernels a run's settings chose ("" for the framework's plain ones)
    kernels: Callable[[dict[str, str]], str] = field(default=lambda settings: "")


@cache
def versions(packages: tuple[str, ...]) -> dict[str, str]:
    """Python's major.minor and each package's version, read from package metadata (importing a
    framework would cost seconds). A patch release of CPython changes no floating-point
    arithmetic (the libraries do the work, with wheels built per minor version); a minor one
    brings other wheels, so it stays in."""
    found = {"python": ".".join(platform.python_version_tuple()[:2])}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def builtin() -> dict[str, Framework]:
    from dlreport.frameworks import numpy, tensorflow

    return {f.name: f for f in (tensorflow.TENSORFLOW, numpy.NUMPY)}


@cache
def of(trainer: str) -> Framework:
    """The framework a trainer module of the study names (`FRAMEWORK`), else the study's: read once
    per process and trainer (every run of a trainer asks), forgotten with the code (`keys.forget`)."""
    from dlreport import project, study
    from dlreport.errors import ReportError
    from dlreport.runs import source

    declared = study.current()
    name = source.constant(f"{project.current().study}.{trainer}", "FRAMEWORK", declared.framework)
    known = {**builtin(), **{f.name: f for f in declared.frameworks}}
    if name not in known:
        raise ReportError(f"trainer {trainer!r} names the framework {name!r}, which neither the engine nor the study "
                          f"declares (known: {', '.join(sorted(known))})")
    return known[name]
