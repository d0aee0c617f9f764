"""The trust migration on a firm made by the previous release (tests/fixtures/firm_schema0.sql)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.ledger import trust as T
from core.services import ledger as L
from core.services.context import open_firm
from core.settings import Settings

LEGACY = Path(__file__).parents[1] / "fixtures" / "firm_schema0.sql"


def test_old_trust_rows_keep_their_balances_in_their_account(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_USER", "root")
    db = tmp_path / "firm.db"
    conn = sqlite3.connect(db)
    conn.executescript(LEGACY.read_text())
    old_rows = conn.execute("SELECT id, kind, client_id, matter_id, bank_account_id, date, amount_minor, memo "
                            "FROM trust_transactions ORDER BY id").fetchall()
    old_balances = dict(conn.execute(
        "SELECT l.client_id, -sum(l.amount_minor) FROM journal_lines l JOIN accounts a ON a.id = l.account_id "
        "WHERE a.subtype = 'trust_liability' GROUP BY l.client_id").fetchall())
    conn.close()
    assert old_rows and any(v for v in old_balances.values())

    firm = open_firm(Settings(_env_file=None, db=db))
    try:
        moved = T.list_trust_transactions(firm)
        assert [(t.id, t.kind, t.client_id, t.matter_id, t.bank_account_id, t.date, t.amount_minor, t.memo)
                for t in moved] == old_rows
        assert {(t.version, t.status, t.currency, t.to_bank_account_id) for t in moved} == {(1, "posted", "GBP", None)}
        per_client: dict[int, int] = {}
        for (client, _matter, bank), v in T.all_ledgers(firm).items():
            assert bank == 2  # the firm's one trust account, which the old rows name
            per_client[client] = per_client.get(client, 0) + v
        assert {c: v for c, v in per_client.items() if v} == {c: v for c, v in old_balances.items() if v}
        assert T.book_balance(firm, 2) == sum(old_balances.values())
        assert T.locked_until(firm, 2) is None
        for table in ("trust_statements", "trust_statement_lines", "trust_matches", "trust_outstanding",
                      "trust_reconciliations"):
            assert firm.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
        # the upgraded firm takes new trust moves on the old ledgers
        client = moved[0].client_id
        held = per_client[client]
        T.trust_disbursement(firm, client_id=client, amount=f"{held // 100}.{held % 100:02d}", date="2026-07-01",
                             bank_account_id=2, payee="Land Registry")
        assert sum(v for (c, _m, _b), v in T.all_ledgers(firm).items() if c == client) == 0
        assert L.trial_balance(firm).total_debit_minor == L.trial_balance(firm).total_credit_minor
    finally:
        firm.close()
