"""`sync --watch` never runs in a tight loop: documents a run left queued (QuickBooks failing for now) wait for the
watch's backoff (core.qbo.backoff.after_run), while a new save still wakes it at once."""

from __future__ import annotations

import asyncio

from core.qbo.sync_events import SyncSummary
from core.qbo.sync_store import QueueCounts


def _watch(monkeypatch, queued: list[int], runs: int):
    from core.cli import sync_cmds
    from core.services import sync

    events: list[str] = []
    waits: list[tuple] = []

    async def fake_run_sync(firm, *, once, progress=None, owner=""):
        events.append("run")
        return SyncSummary(0, 0, 3, 0, 0, 0.0, counts=QueueCounts(queued=3))

    def counts(firm):
        events.append("look")
        return QueueCounts(queued=queued.pop(0) if len(queued) > 1 else queued[0])

    def next_run_in(firm, summary, first):
        waits.append((summary.pushed, summary.waiting, first))
        return 0.02

    monkeypatch.setattr(sync, "run_sync", fake_run_sync)
    monkeypatch.setattr(sync, "queue_counts", counts)
    monkeypatch.setattr(sync, "next_run_in", next_run_in)
    asyncio.run(sync_cmds.watch(object(), look=0.001, settle=0.0, period=30, runs=runs))
    return events, waits


def test_documents_left_queued_wait_for_the_backoff_instead_of_running_again_at_once(monkeypatch):
    events, waits = _watch(monkeypatch, [3], runs=2)
    between = events[events.index("run") + 1: len(events) - 1 - events[::-1].index("run")]
    assert between.count("look") > 2  # it looked at the queue until the wait was over, then ran
    assert waits == [(0, 3, 30)]  # the wait came from the backoff, told that 3 documents wait and none went


def test_a_save_while_documents_wait_still_wakes_it_at_once(monkeypatch):
    events, _ = _watch(monkeypatch, [3, 3, 4, 4], runs=2)
    between = events[events.index("run") + 1: len(events) - 1 - events[::-1].index("run")]
    assert between == ["look", "look", "look"]  # left 3 queued; 3 (wait); 4: a new save, run now
