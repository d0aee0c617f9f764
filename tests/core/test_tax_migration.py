"""The tax-components migration: a firm made by the previous release keeps every document and balance, and its
rates become single-component rates that post exactly as before."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.cli import main
from core.services import ledger as L
from core.services.context import open_firm
from core.settings import Settings

LEGACY = Path(__file__).parents[1] / "fixtures" / "firm_schema0.sql"
KEPT = ("invoices", "invoice_lines", "payments", "payment_allocations", "credit_notes", "credit_note_lines",
        "journal_entries", "journal_lines", "tax_rates", "accounts")


def _upgraded(tmp_path, capsys):
    db = tmp_path / "firm.db"
    conn = sqlite3.connect(db)
    conn.executescript(LEGACY.read_text())
    kept = {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in KEPT}
    balances = dict(conn.execute("SELECT account_id, sum(amount_minor) FROM journal_lines GROUP BY account_id"))
    open_ = dict(conn.execute(
        "SELECT l.invoice_id, sum(l.amount_minor) FROM journal_lines l JOIN accounts a ON a.id = l.account_id "
        "WHERE a.subtype = 'receivable' AND l.invoice_id IS NOT NULL GROUP BY l.invoice_id"))
    conn.close()
    assert main(["--db", str(db), "migrate"]) == 0
    capsys.readouterr()
    return db, kept, balances, open_


def test_existing_rates_become_one_component_each_and_documents_are_kept(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_USER", "root")
    db, kept, balances, open_ = _upgraded(tmp_path, capsys)
    firm = open_firm(Settings(_env_file=None, db=db))
    try:
        for table, rows in kept.items():
            # later steps may add columns at the end of a table (e.g. invoices.voided_at): the old ones are kept
            assert [r[: len(rows[0])] for r in firm.db.execute(f"SELECT * FROM {table} ORDER BY rowid")] == rows, table
        rates = {r.name: r for r in L.list_tax_rates(firm)}
        standard = rates["Standard (20%)"]
        assert [(c.name, c.rate_ppm, c.tax_account_id) for c in standard.components] == [
            ("Standard (20%)", 200000, standard.tax_account_id)]
        assert rates["Reduced (5%)"].components[0].rate_ppm == 50000
        assert rates["Zero-rated (0%)"].components == () and rates["Exempt"].components == ()
        tb = L.trial_balance(firm)
        assert {r.account_id: r.debit_minor - r.credit_minor for r in tb.rows} == {
            a: b for a, b in balances.items() if b}
        assert {i.id: i.open_balance_minor for i in L.list_invoices(firm) if i.open_balance_minor} == {
            i: b for i, b in open_.items() if b}
        assert firm.db.execute("SELECT count(*) FROM tax_adjustments").fetchone()[0] == 0

        # a new invoice at the migrated single rate posts as the previous release did: per line, one account
        client = L.list_clients(firm)[0].id
        fees = next(a.id for a in L.list_accounts(firm, subtypes=["fee_income"], active_only=True))
        line = dict(description="x", account_id=fees, quantity=1, unit_price="0.03", tax_rate_id=standard.id)
        inv = L.create_invoice(firm, client_id=client, date="2026-06-01", lines=[line, line])
        assert [ln.tax_minor for ln in inv.lines] == [1, 1]  # 0.006 -> 0.01 per line
        before = balances.get(standard.tax_account_id, 0)
        assert L.account_balance(firm, standard.tax_account_id) == -before + 2
    finally:
        firm.close()
