"""Training one run: the one place where a trainer trains, wherever the run executes.

`run_spec` is a pure function of its arguments: a run spec (plain data) and its arrays
in, a result (plain data) out, no hidden state. That is what lets the same function
run in the build's process (`executor.Local`) or as a task on a Ray cluster
(`cluster.Ray`) and give the same numbers. The trainer's framework is imported inside it
(`frameworks`), so a build that trains nothing never pays for it.
"""

from __future__ import annotations

import math
import time

from dlreport import frameworks, study
from dlreport.data.rundata import RunData
from dlreport.runs.checkpoints import Checkpoint
from dlreport.runs.result import Failure, Result


class Diverged(Exception):
    """A metric stopped being a finite number: the run cannot go on."""

    def __init__(self, step: int, total: int, metrics: list[str]) -> None:
        super().__init__(f"diverged at step {step} of {total}: {', '.join(metrics)} not finite")
        self.failure = Failure(step, total, metrics, str(self))


def run_spec(spec: dict, data: RunData, progress, checkpoint: Checkpoint, threads: int | None = None) -> Result:
    """Train one run spec on its data and return its result: histories, final metrics, time, hardware.

    A run whose loss or accuracy becomes NaN or infinite is stopped there and its result
    says so (`failed`: where and which metric), with the history up to the last finite
    step; like any result it is a pure function of the spec, so it is cached too."""
    framework = frameworks.of(spec["trainer"])
    framework.start(threads)
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
        history = seen if all(len(v) == failed.step - 1 for v in seen.values()) else {}
    seconds = time.perf_counter() - start
    return Result(
        history=history,
        final={} if failed else {name: values[-1] for name, values in history.items()},
        unit=study.current().unit(spec),
        train_seconds=round(seconds, 3),
        data=data.summary(),
        hardware=framework.hardware(),
        versions=frameworks.versions(framework.packages),
        engine=framework.settings(),
        seed=spec["seed"],
        failed=failed,
    )


