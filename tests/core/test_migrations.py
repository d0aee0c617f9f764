"""The firm database's schema: versioned, upgraded in place, and never written when it is not ours.

`tests/fixtures/firm_schema0.sql` is a dump of a firm made by the release before schema versions existed (a UK
demo firm connected to the sandbox and synced: documents, balances, maps, links and sync records).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from core import migrations
from core.cli import main
from core.errors import ConfigError
from core.services.context import open_firm, schema_version
from core.settings import Settings

LEGACY = Path(__file__).parents[1] / "fixtures" / "firm_schema0.sql"


def _legacy_db(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(LEGACY.read_text())
    conn.close()
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(conn, table: str) -> list[tuple]:
    return conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()


KEPT = ("invoices", "invoice_lines", "payments", "payment_allocations", "credit_notes", "credit_note_lines",
        "journal_entries", "journal_lines", "contacts", "matters", "trust_transactions", "sync_links",
        "sync_customers", "qbo_maps", "qbo_connection", "sync_records", "sync_queue")


def test_a_firm_made_before_schema_versions_upgrades_in_place_keeping_everything(tmp_path, capsys):
    db = _legacy_db(tmp_path / "firm.db")
    before = sqlite3.connect(db)
    kept = {t: _rows(before, t) for t in KEPT}
    before.close()
    assert kept["invoices"] and kept["sync_links"] and kept["journal_lines"]
    settings = Settings(_env_file=None, db=db)

    with pytest.raises(ConfigError, match="schema 0 .* `ledgerlink migrate`"):
        open_firm(settings, readonly=True)
    assert main(["--db", str(db), "migrate"]) == 0
    assert "from schema 0 to" in capsys.readouterr().out

    firm = open_firm(settings, readonly=True)
    try:
        for table, rows in kept.items():
            # later steps may add columns at the end of a row, and queue the trust money the old release held
            assert [r[: len(rows[0])] for r in _rows(firm.db.conn, table)[: len(rows)]] == rows, table
        added = _rows(firm.db.conn, "sync_queue")[len(kept["sync_queue"]):]
        assert added and {r[0] for r in added} <= {"trust", "trust_payment"}
        from core.services.ledger import trial_balance

        trial = trial_balance(firm)
    finally:
        firm.close()
    assert trial.total_debit_minor == trial.total_credit_minor > 0
    assert schema_version(settings) == migrations.LATEST
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == migrations.APPLICATION_ID
    # the upgraded firm still works: the queue and links are read by status
    assert main(["--db", str(db), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["queue"]["done"] == sum(1 for row in kept["sync_queue"] if row[4] == "done") > 0
    assert status["queue"]["queued"] == len(added)
    assert status["connection"]["realm_id"] == "9341452718213542"


def test_migrate_again_is_a_no_op_and_says_so(tmp_path, capsys):
    db = _legacy_db(tmp_path / "firm.db")
    assert main(["--db", str(db), "migrate"]) == 0
    capsys.readouterr()
    digest = _digest(db)
    assert main(["--db", str(db), "migrate", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"ok": True, "from_version": migrations.LATEST,
                                                   "to_version": migrations.LATEST}
    assert _digest(db) == digest


def test_a_new_firm_is_at_the_newest_schema(tmp_path):
    db = tmp_path / "new.db"
    assert main(["--db", str(db), "init", "--country", "US"]) == 0
    assert schema_version(Settings(_env_file=None, db=db)) == migrations.LATEST


def test_a_database_newer_than_the_code_is_refused_untouched(tmp_path, capsys):
    db = tmp_path / "firm.db"
    assert main(["--db", str(db), "init", "--country", "US"]) == 0
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    conn.close()
    digest = _digest(db)
    for argv in (["status"], ["sync", "--once"], ["migrate"]):
        assert main(["--db", str(db), *argv]) == 1
        err = capsys.readouterr().err
        assert f"made by a newer Ledgerlink (schema {migrations.LATEST + 1}" in err and "Traceback" not in err
    assert _digest(db) == digest


@pytest.mark.parametrize("argv", [["status"], ["status", "--json"], ["report", "trial-balance"], ["sync", "--once"],
                                  ["migrate"], ["users", "grant", "bob", "admin"]])
def test_another_applications_sqlite_file_is_refused_and_never_written(tmp_path, capsys, argv):
    db = tmp_path / "other.db"
    conn = sqlite3.connect(db)
    conn.executescript("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'x');")
    conn.close()
    digest = _digest(db)
    assert main(["--db", str(db), *argv]) == 1
    captured = capsys.readouterr()
    assert "is not a Ledgerlink firm database (it holds the tables notes); it was left untouched" in (
        captured.err + captured.out)
    assert _digest(db) == digest
    assert not Path(str(db) + "-wal").exists()
    conn = sqlite3.connect(db)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path, capsys):
    db = tmp_path / "notes.txt"
    db.write_text("dear diary\n" * 200)
    digest = _digest(db)
    assert main(["--db", str(db), "status"]) == 1
    assert f"The database {db} cannot be used (file is not a database)" in capsys.readouterr().err
    assert _digest(db) == digest


def test_read_only_commands_write_nothing(tmp_path, capsys):
    db = tmp_path / "firm.db"
    assert main(["--db", str(db), "init", "--country", "UK"]) == 0
    assert main(["--db", str(db), "demo", "--clients", "3", "--invoices", "5", "--payments", "2",
                 "--credits", "1"]) == 0
    capsys.readouterr()
    digest = _digest(db)
    for argv in (["status", "--json"], ["report", "trial-balance"], ["report", "aging", "--json"],
                 ["report", "trust"], ["users", "list"], ["map", "show"], ["sync", "parked"]):
        assert main(["--db", str(db), *argv]) == 0, argv
        assert _digest(db) == digest, argv


def test_migration_steps_are_numbered_without_gaps_and_the_baseline_is_frozen():
    steps = migrations.steps()
    assert [s.number for s in steps] == list(range(1, migrations.LATEST + 1))
    assert steps[0].name == "baseline"
    # the baseline is the first release's schema: its tables are exactly those of the legacy dump
    fresh = sqlite3.connect(":memory:")
    steps[0].apply(fresh)
    legacy = sqlite3.connect(":memory:")
    legacy.executescript(LEGACY.read_text())
    names = "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1, 2"
    assert fresh.execute(names).fetchall() == legacy.execute(names).fetchall()
