"""A run's result, typed: what training one run spec gives, as every stage after it reads it.

The store keeps it as plain JSON (`as_dict`, byte for byte the format results have always
had, so stored and frozen entries stay valid); everything else (runner, record, facts,
figures, a study's own facts) reads this object, so a misspelt field fails where it is
written, not as a missing key three stages later.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The field of a result's `hardware` that says how many runs shared the machine while it
# trained (absent: it trained alone), set by the executor that placed them side by side:
# such runs' times overlap, so their sum is not the time the machine spent.
RUNS_AT_ONCE = "runs_at_once"


@dataclass(frozen=True)
class Failure:
    """Where a run stopped: a metric stopped being a finite number at `step` of `total`."""

    step: int
    total: int
    metrics: list[str]
    reason: str

    def as_dict(self) -> dict:
        return {"step": self.step, "total": self.total, "metrics": list(self.metrics), "reason": self.reason}


@dataclass(frozen=True)
class Result:
    """One run's result. `history`: each metric per step (a model fitted once has one step);
    `final`: each metric's last value (empty for a failed run); `data`, `hardware`, `versions`
    and `engine` are the data's and framework's own summaries, open-ended by design."""

    history: dict[str, list[float]]
    final: dict[str, float]
    unit: str
    train_seconds: float
    data: dict
    hardware: dict
    versions: dict = field(default_factory=dict)
    engine: dict = field(default_factory=dict)
    seed: int | None = None
    failed: Failure | None = None

    @property
    def ok(self) -> bool:
        """Finished: every metric finite to the end."""
        return self.failed is None

    @property
    def steps(self) -> int:
        """How many steps its history holds (0 when none was kept)."""
        return len(next(iter(self.history.values()), []))

    @classmethod
    def of(cls, stored: dict) -> Result:
        """The result a stored entry holds."""
        failed = stored.get("failed")
        return cls(history=stored["history"], final=stored["final"], unit=stored["unit"],
                   train_seconds=stored.get("train_seconds", 0.0), data=stored["data"], hardware=stored["hardware"],
                   versions=stored.get("versions", {}), engine=stored.get("engine", {}), seed=stored.get("seed"),
                   failed=Failure(**failed) if failed else None)

    def as_dict(self) -> dict:
        """The result as the store keeps it."""
        return {
            **({"failed": self.failed.as_dict()} if self.failed else {}),
            "history": self.history, "final": self.final, "unit": self.unit, "train_seconds": self.train_seconds,
            "data": self.data, "hardware": self.hardware, "versions": self.versions, "engine": self.engine,
            "seed": self.seed,
        }
