"""Read-then-write transactions under two real processes (the TUI and a cron `ledgerlink sync` share the file).

A transaction that reads and then writes under a deferred BEGIN must upgrade its read lock; when the other
process wrote in between, SQLite answers SQLITE_BUSY at once ("database is locked"), which busy_timeout does not
retry. core.db's Database takes the write lock at BEGIN (IMMEDIATE), so both processes finish every write."""

from __future__ import annotations

import multiprocessing

from core.settings import Settings

ROUNDS = 150


def _hammer(db_path: str, worker: int, start, out) -> None:
    from core.services import qbo
    from core.services.context import open_firm

    firm = open_firm(Settings(_env_file=None, db=db_path))
    errors = []
    start.wait()
    try:
        for n in range(ROUNDS):
            try:  # reads the settings row, then writes it (core.services.qbo.set_sync_enabled)
                qbo.set_sync_enabled(firm, (n + worker) % 2 == 0, f"2026-{1 + n % 12:02d}-0{1 + worker}")
            except Exception as exc:  # noqa: BLE001  (the test reports what the other process caused)
                errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        firm.close()
    out.put((worker, errors))


def test_two_processes_reading_then_writing_the_sync_settings_never_meet_a_locked_database(tmp_path, capsys):
    from core.cli import main

    db = tmp_path / "firm.db"
    assert main(["--db", str(db), "init", "--country", "US"]) == 0
    capsys.readouterr()
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=_hammer, args=(str(db), w, start, out)) for w in (0, 1)]
    for p in workers:
        p.start()
    start.set()
    results = dict(out.get(timeout=240) for _ in workers)
    for p in workers:
        p.join(timeout=60)
    assert [p.exitcode for p in workers] == [0, 0]
    assert results == {0: [], 1: []}
