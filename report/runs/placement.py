"""Where and how a build's runs are placed, and what an executor promises: shared by the local
executor (`executor`) and the Ray one (`cluster`), so that neither imports the other's module
to know it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from dlreport.data.rundata import RunData

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class Placement:
    """How the runs of a build are placed: on which executor, with how much of a machine each."""

    executor: str = "local"
    address: str | None = None  # a Ray cluster; None: the one in RAY_ADDRESS, else a Ray started here
    cpus_per_run: int | None = None  # None: see `local_slots` locally, one CPU a task on Ray
    gpus_per_run: float = 0.0
    runs_at_once: int | None = None  # locally; None: see `local_slots`


def local_slots(placement: Placement, cores: int | None = None) -> tuple[int, int | None]:
    """(runs trained at once, threads of each; None: the cores shared out) on this machine.

    Unless told (`runs_at_once`), as many runs as the cores hold at the CPUs asked per run,
    by default a run per core, a thread each: what makes small-batch runs fastest (see
    `executor.Local`); a run alone gets every core. Beside a GPU, one run at a time, which
    has the device to itself (two frameworks would each claim all of its memory)."""
    from dlreport.runs import machine

    cores = cores or machine.available_cores()
    if placement.runs_at_once:
        return placement.runs_at_once, placement.cpus_per_run
    if placement.cpus_per_run:
        return max(1, cores // placement.cpus_per_run), placement.cpus_per_run
    return (1 if machine.has_gpu() else cores), None


class Executor(Protocol):
    def start(self, runs: list, loaded: dict[str, RunData]) -> None:
        """Connect and check everything that could stop training half-way, before anything trains."""

    def train(self, runs: list, loaded: dict[str, RunData]) -> Iterator[tuple]:
        """(planned run, result, where it trained, seconds) for each run, as each finishes."""

    def close(self) -> None: ...


def length(spec: dict) -> int | None:
    """How many steps (iterations or epochs) a run spec trains for, where the study knows it
    beforehand: its progress bar's total."""
    from dlreport import study

    return study.current().steps(spec)


def elapsed_label(k: int, n: int, began: float) -> str:
    return f"[{k}/{n}, {time.perf_counter() - began:.0f} s]"
