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
    cpus_per_run: int | None = None  # None: the framework's default threads locally, one CPU a task on Ray
    gpus_per_run: float = 0.0


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
