"""The protocol migration step on a firm made by the previous release (tests/fixtures/firm_schema0.sql):
documents, balances and links kept; no lock date, nothing voided, no decisions, no mirror yet; two clients
that the old release had linked by name to one QBO customer are told apart (the first keeps the link)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.services.context import open_firm
from core.settings import Settings

LEGACY = Path(__file__).parents[1] / "fixtures" / "firm_schema0.sql"


def _legacy(path: Path, shared_customer: bool = False) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(LEGACY.read_text())
    if shared_customer:  # what linking by name alone did to "X: Estate" and "X- Estate"
        conn.execute("UPDATE sync_customers SET qbo_id = '9' WHERE client_id = 3")
        conn.commit()
    conn.close()
    return path


def _snapshot(conn) -> dict:
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()
            for t in ("invoices", "payments", "journal_lines", "sync_links", "credit_notes", "invoice_lines")}


@pytest.mark.parametrize("shared", [False, True])
def test_the_protocol_step_keeps_every_document_and_gives_new_columns_sensible_values(tmp_path, shared):
    db = _legacy(tmp_path / "firm.db", shared)
    conn = sqlite3.connect(db)
    before = _snapshot(conn)
    links_before = dict(conn.execute("SELECT client_id, qbo_id FROM sync_customers"))
    balances = conn.execute("SELECT account_id, sum(amount_minor) FROM journal_lines GROUP BY account_id").fetchall()
    conn.close()

    firm = open_firm(Settings(_env_file=None, db=db))
    try:
        c = firm.db.conn
        after = _snapshot(c)
        for table, rows in before.items():
            assert [r[: len(rows[0])] for r in after[table]] == rows, table
        assert c.execute("SELECT account_id, sum(amount_minor) FROM journal_lines GROUP BY account_id").fetchall() \
            == balances
        assert c.execute("SELECT lock_date FROM firm").fetchone() == (None,)
        assert c.execute("SELECT count(*) FROM invoices WHERE voided_at IS NOT NULL").fetchone() == (0,)
        assert c.execute("SELECT count(*) FROM payments WHERE voided_at IS NOT NULL").fetchone() == (0,)
        assert c.execute("SELECT count(*) FROM customer_decisions").fetchone() == (0,)
        assert c.execute("SELECT count(*) FROM qbo_mirror").fetchone() == (0,)  # the next reconcile reads all
        links = dict(c.execute("SELECT client_id, qbo_id FROM sync_customers"))
        if shared:
            assert links[2] == "9" and links[3] is None
            assert {k: v for k, v in links.items() if k != 3} == {k: v for k, v in links_before.items() if k != 3}
        else:
            assert links == links_before
        qbo_ids = [v for v in links.values() if v]
        assert len(qbo_ids) == len(set(qbo_ids))
        with pytest.raises(sqlite3.IntegrityError):
            c.execute("UPDATE sync_customers SET qbo_id = '9' WHERE client_id = 4")
    finally:
        firm.close()
