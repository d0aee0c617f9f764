"""`ledgerlink sync` on an 80-column terminal: the progress bar replaces itself on one line that fits; a dry run
with nothing queued says so (issue 16, item 10)."""

from __future__ import annotations

import io

from core.cli import main
from core.cli.sync_cmds import _Bar
from core.qbo.sync import Progress, QueueCounts


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_fits_80_columns_and_updates_in_place():
    out = Tty()
    bar = _Bar(out, columns=80)
    counts = QueueCounts(queued=2790, sending=30, done=30, parked=1)
    for sent in (0, 30, 2850):
        bar(Progress("Pushing", counts, sent, 2850, "Invoice INV-00012 for Hartley Quinn Holdings (Litigation)",
                     1234.5, sent))
    bar.close()
    text = out.getvalue()
    assert text.count("\n") == 1  # one line, rewritten with \r
    lines = text.rstrip("\n").split("\r")[1:]
    assert len(lines) == 3 and all(len(line) <= 79 for line in lines)
    assert lines[-1].startswith("[####################] 2850/2850 1234/min 1 parked Invoice INV-00012")


def test_dry_run_with_nothing_queued_says_so(capsys, tmp_path):
    db = str(tmp_path / "f.db")
    main(["init", "--country", "US", "--db", db])
    capsys.readouterr()
    assert main(["sync", "--dry-run", "--db", db]) == 0
    assert capsys.readouterr().out == "Nothing is queued: a sync now would send nothing.\n"


def test_watch_runs_again_soon_after_a_document_is_queued(monkeypatch):
    import asyncio

    from core.cli import sync_cmds
    from core.qbo.sync import SyncSummary
    from core.services import sync

    queued = [0, 0, 0, 2]  # what the queue holds at each look: a save arrives at the fourth
    calls = []

    async def fake_run_sync(firm, *, once, progress=None, owner=""):
        calls.append(once)
        return SyncSummary(0, 0, 0, 0, 0, 0.0, counts=QueueCounts())

    monkeypatch.setattr(sync, "run_sync", fake_run_sync)
    monkeypatch.setattr(sync, "queue_counts", lambda firm: QueueCounts(queued=queued.pop(0) if queued else 0))
    monkeypatch.setattr(sync, "next_run_in", lambda firm, summary, first: first)
    asyncio.run(sync_cmds.watch(object(), look=0.001, settle=0.001, period=60, runs=2))
    assert calls == [True, True] and queued == []  # it ran again once the save was seen, not after a minute
