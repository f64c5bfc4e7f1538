"""Progress: plain lines off a terminal (rate after warm-up, time left), a live bar on one."""

from __future__ import annotations

import logging
import sys

from dlreport.runs import progress


def test_off_a_terminal_about_ten_lines_with_the_rate_after_warm_up(caplog, monkeypatch):
    clock = iter(range(10, 200))  # the first report comes after 10 s of tracing and compiling; each step then takes 1 s
    monkeypatch.setattr(progress.time, "perf_counter", lambda: float(next(clock)))
    with caplog.at_level(logging.INFO, logger="dlreport.runs.runner"):
        p = progress.RunProgress("A1 seed 0")
        for step in range(1, 101):
            p(step, 100, {"val_acc": 0.5})
        p.close()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 10 and lines[-1].startswith("  A1 seed 0 100/100 (1.0/s")
    assert "(1.0/s, 50 s left)" in lines[4]  # step 50: 50 steps to go at one a second, not the first step's pace


def test_on_a_terminal_a_live_bar_and_no_lines(caplog, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with caplog.at_level(logging.INFO, logger="dlreport"):  # as the command sets it: bars are drawn when INFO is shown
        p = progress.RunProgress("B1 seed 0")
        assert p.bar is not None
        for step in range(1, 4):
            p(step, 3, {"val_acc": 0.5})
        assert p.bar.tasks[0].completed == 3 and p.bar.tasks[0].total == 3
        p.close()
    assert caplog.records == []


def test_a_run_elsewhere_shows_its_own_pace_not_that_of_its_reports(caplog, monkeypatch):
    """A worker's steps arrive in bursts (every half second, or all at once after a pause):
    the rate shown is that of the steps' own times, sent with them."""
    sent = []
    relay = progress.Relay(sent.append, "B1 seed 0")
    clock = iter(float(t) for t in range(1000, 2000, 2))  # the worker's clock: a step every 2 s
    monkeypatch.setattr(progress.time, "time", lambda: next(clock))
    for step in range(1, 11):
        relay(step, 10, {"val_acc": 0.5})
    assert [e[2] for e in sent] == list(range(1, 11))  # a step every tenth of the run is always sent
    with caplog.at_level(logging.INFO, logger="dlreport.runs.runner"):
        shown = progress.Elsewhere({"B1 seed 0": 10})
        shown.event(("start", "B1 seed 0", "in process 42", "B1 seed 0"))
        for event in sent:  # all drained in one go
            shown.event(event)
        shown.finished("B1 seed 0")
        shown.close()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].endswith("B1 seed 0 running in process 42") and "(0.5/s, 0 s left)" in lines[-1], lines
