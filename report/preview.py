"""The report's HTML from stored results alone, for `serve`.

Like a --cached-only build it trains nothing and leaves out the runs no store holds, and
says which and why (`status`'s rows); the runs are made from the stored entries alone, no
trainer or executor is called. Unlike a build it writes nothing to `build/` or the ledger
(a preview per saved edit would flood it) and lays out no PDF (WeasyPrint would cost
seconds per edit). Its steps are the build's own: plan, record, judge, context, HTML.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from dlreport.builds import assemble, record
from dlreport.builds import status as status_mod
from dlreport.builds.ledger import Ledger
from dlreport.data.samples import samples_for
from dlreport.document.caches import RenderCaches
from dlreport.planning import BuildConfig, Plan, plan
from dlreport.runs import keys, runner


@dataclass
class Preview:
    html: str  # "" when no run of the build is stored
    left_out: list[dict]  # `status` rows of the runs a build would train (stale or never run): not in the page
    runs: int  # runs shown, all taken from the stores


class Previewer:
    """It lives in a process whose code does not change (`serve` starts a new one after a code
    edit), so what depends on the code alone is kept between renders: the planned runs and
    their keys (hashing the code behind 90 keys takes seconds) and, while the stores hold the
    same runs, the context (facts, statistics, figures). A template edit then costs one Jinja
    render. The stores are read again each time: a run that a build beside it stores appears
    at the next render."""

    def __init__(self, cfg: BuildConfig) -> None:
        self.cfg = dataclasses.replace(cfg, cached_only=True, rerun=frozenset())
        self._planning: Plan | None = None
        self._caches = RenderCaches(self.cfg.cache, self.cfg.frozen_dir)  # its drawing code cannot change here
        self._context: tuple[tuple, dict] | None = None  # (what it was made from, context)

    def render(self) -> Preview:
        cfg = self.cfg
        if self._planning is None:
            self._planning = plan(cfg)
            planned = self._planning.runs
        else:  # the stores are read again: a run a build beside it stored appears now
            planned = [dataclasses.replace(p) for p in self._planning.runs]
        profile = self._planning.profile
        missing = any(p.entry is None for p in planned)
        survey = status_mod.survey(planned, Ledger(cfg.out_dir).last_runs(profile.name) if missing else None)
        left_out = [r.as_dict() for r in survey.to_run]
        stored = [p for p in planned if p.entry is not None]
        if not stored:
            return Preview("", left_out, 0)
        made_from = (tuple(p.key for p in stored), tuple((r["id"], r["seed"]) for r in left_out))
        if self._context is None or self._context[0] != made_from:
            self._context = (made_from, self._make_context(stored, left_out))
        ctx = {**self._context[1], "build": {**self._context[1]["build"], "time": record.time_text(record.build_time())}}
        return Preview(self._caches.html(ctx), left_out, len(stored))

    def _make_context(self, stored: list[runner.Planned], left_out: list[dict]) -> dict:
        from dlreport.document import context as context_mod
        from dlreport.facts import claims

        planning, cfg = self._planning, self.cfg
        runs = [runner.stored_outcome(p) for p in stored]
        inputs = keys.key_of({"keys": [p.key for p in stored], "preview": True})
        missing = [{"id": r["id"], "seed": r["seed"]} for r in left_out]
        rec = assemble.make(cfg, planning.profile, planning.split, runs, inputs, missing)
        return context_mod.build_context(
            runs, claims.judge_runs(runs), planning.profile, planning.split, assemble.build_info(rec),
            self._caches.figures,
            samples_for({o.experiment.dataset for o in runs}, cfg.frozen_dir, cfg.data_dir, cfg.cache.decoded))
