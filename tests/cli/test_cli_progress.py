"""The terminal progress bar and the per-step lines."""

from __future__ import annotations

from whimbrel.cli.output import render_progress, render_step
from whimbrel.results import StepEvent


def test_progress_bar_counts_finished_steps() -> None:
    start = StepEvent("abc123", "up", "start", "create things", 3, 4)
    end = StepEvent("abc123", "up", "end", "create things", 3, 4, 0.012)
    assert render_progress(start, done=False, width=8) == "[####....] 2/4 up abc123 create things"
    assert render_progress(end, done=True, width=8) == "[######..] 3/4 up abc123 create things"
    assert render_step(end) == "[3/4] up   abc123  create things (12 ms)"
