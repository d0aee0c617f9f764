"""The trust-sync migration step on a firm made by the previous release (tests/fixtures/firm_schema0.sql): the
outbox and the links keep every row, their indexes and their rules, and now take trust documents."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.services.context import open_firm
from core.settings import Settings

LEGACY = Path(__file__).parents[1] / "fixtures" / "firm_schema0.sql"
TABLES = ("sync_queue", "sync_links", "invoices", "payments", "journal_lines", "trust_transactions")


def _snapshot(conn) -> dict:
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in TABLES}


def test_the_outbox_keeps_its_rows_and_rules_and_takes_trust_documents(tmp_path):
    db = tmp_path / "firm.db"
    conn = sqlite3.connect(db)
    conn.executescript(LEGACY.read_text())
    before = _snapshot(conn)
    balances = conn.execute("SELECT account_id, sum(amount_minor) FROM journal_lines GROUP BY account_id").fetchall()
    conn.close()
    assert before["sync_links"] and before["sync_queue"] and before["trust_transactions"]

    firm = open_firm(Settings(_env_file=None, db=db))
    try:
        c = firm.db.conn
        after = _snapshot(c)
        for table, rows in before.items():
            assert [r[: len(rows[0])] for r in after[table][: len(rows)]] == rows, table
        # what was held in trust before trust reached QBO is queued once, so QBO catches up at the next sync
        queued = after["sync_queue"][len(before["sync_queue"]):]
        posted = c.execute("SELECT id, version FROM trust_transactions WHERE status = 'posted' ORDER BY id").fetchall()
        from_trust = c.execute("SELECT id, version FROM payments WHERE from_trust = 1 AND status = 'posted' "
                               "ORDER BY id").fetchall()
        assert posted and [(r[0], r[1], r[2], r[3], r[4]) for r in queued] == (
            [("trust", i, v, "upsert", "queued") for i, v in posted]
            + [("trust_payment", i, v, "upsert", "queued") for i, v in from_trust])
        assert c.execute("SELECT account_id, sum(amount_minor) FROM journal_lines GROUP BY account_id").fetchall() \
            == balances
        indexes = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN "
                                           "('sync_links','sync_queue') AND sql IS NOT NULL")}
        assert "sync_links_qbo" in indexes
        c.execute("INSERT INTO sync_queue (doc_type, doc_id, version, action, updated_at) "
                  "VALUES ('trust', 9999, 1, 'upsert', 'now')")
        c.execute("INSERT INTO sync_links (doc_type, doc_id, qbo_type, qbo_id, sync_token, updated_at) "
                  "VALUES ('trust', 1, 'JournalEntry', '900', '0', 'now')")
        with pytest.raises(sqlite3.IntegrityError):  # one QBO object, one document: the unique index is back
            c.execute("INSERT INTO sync_links (doc_type, doc_id, qbo_type, qbo_id, sync_token, updated_at) "
                      "VALUES ('trust_payment', 1, 'JournalEntry', '900', '0', 'now')")
        with pytest.raises(sqlite3.IntegrityError):
            c.execute("INSERT INTO sync_queue (doc_type, doc_id, version, action, updated_at) "
                      "VALUES ('bill', 1, 1, 'upsert', 'now')")
        with pytest.raises(sqlite3.IntegrityError):
            c.execute("INSERT INTO sync_links (doc_type, doc_id, qbo_type, updated_at) "
                      "VALUES ('trust', 2, 'Deposit', 'now')")
        c.rollback()
    finally:
        firm.close()
