"""Posting rules, rounding, numbering, outbox and audit of invoices, payments, credits and trust."""

from __future__ import annotations

import pytest

from core.errors import PermissionDenied
from core.services import ledger as L


def _lines_of(firm, doc_type, doc_id):
    return [tuple(r) for r in firm.db.execute(
        "SELECT e.kind, e.doc_version, l.account_id, l.amount_minor FROM journal_lines l "
        "JOIN journal_entries e ON e.id = l.entry_id WHERE e.doc_type = ? AND e.doc_id = ? ORDER BY l.id",
        [doc_type, doc_id])]


def _queue(firm):
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in firm.db.execute(
        "SELECT doc_type, doc_id, version, action, state FROM sync_queue")}


def test_invoice_posts_receivable_income_and_tax_and_is_queued(ready):
    inv = ready.invoice(
        dict(description="Advice", account_id=ready.fees, quantity="1.5", unit_price="333.33", tax_rate_id=ready.state),
        dict(description="Filing fee", account_id=ready.recovery, quantity=1, unit_price="45.00", tax_rate_id=ready.zero),
    )
    # 1.5 x 333.33 = 499.995 -> 500.00 (half up); tax 6.25% of 500.00 = 31.25
    assert [(ln.amount_minor, ln.tax_minor) for ln in inv.lines] == [(50000, 3125), (4500, 0)]
    assert (inv.subtotal_minor, inv.tax_minor, inv.total_minor) == (54500, 3125, 57625)
    assert inv.open_balance_minor == 57625
    assert inv.number == "INV-00001" and inv.version == 1 and inv.status == "posted"
    assert inv.due_date == "2026-03-03"
    assert sorted(_lines_of(ready.firm, "invoice", inv.id)) == sorted([
        ("post", 1, ready.ar, 57625), ("post", 1, ready.fees, -50000), ("post", 1, ready.recovery, -4500),
        ("post", 1, ready.tax_gl, -3125)])
    assert _queue(ready.firm) == {("invoice", inv.id): (1, "upsert", "queued")}
    audit = L.list_audit(ready.firm, limit=1)[0]
    assert (audit.user, audit.action, audit.entity_id) == ("alice", "create_invoice", inv.id)


def test_us_tax_rounds_half_up_once_per_rate_on_the_subtotal(ready):
    # QBO US: 0.24 x 6.25% = 0.015 -> 0.02 once; rounding per line would give 0.01 x 3 = 0.03.
    line = dict(description="Copy", account_id=ready.recovery, quantity=1, unit_price="0.08", tax_rate_id=ready.state)
    inv = ready.invoice(line, line, line)
    assert inv.tax_minor == 2 and sorted(ln.tax_minor for ln in inv.lines) == [0, 1, 1]
    assert inv.total_minor == 26
    tb = L.trial_balance(ready.firm)
    assert tb.total_debit_minor == tb.total_credit_minor == 26


def test_invoice_numbers_use_prefix_and_skip_taken_numbers(ready, settings):
    ready.invoice(number="INV-00002")
    assert ready.invoice().number == "INV-00001"
    assert ready.invoice().number == "INV-00003"
    settings.ledger.invoice_prefix = "HQ-"
    assert ready.invoice().number == "HQ-00004"


def test_payment_debits_bank_and_credits_receivable(ready):
    a, b = ready.invoice(), ready.invoice()
    pay = L.record_payment(ready.firm, client_id=ready.client, date="2026-02-10", amount="400.00",
                           bank_account_id=ready.operating)
    # oldest first: 318.75 to the first, the rest to the second
    assert [(x.invoice_id, x.amount_minor) for x in pay.allocations] == [(a.id, 31875), (b.id, 8125)]
    assert L.get_invoice(ready.firm, a.id).open_balance_minor == 0
    assert L.get_invoice(ready.firm, b.id).open_balance_minor == 31875 - 8125
    assert L.account_balance(ready.firm, ready.bank_gl) == 40000
    assert _queue(ready.firm)[("payment", pay.id)] == (1, "upsert", "queued")


def test_payment_from_trust_moves_client_money_first(ready):
    inv = ready.invoice()
    L.trust_receipt(ready.firm, client_id=ready.client, amount="500", date="2026-01-15", matter_id=ready.matter)
    pay = L.record_payment(ready.firm, client_id=ready.client, date="2026-02-10", amount="318.75",
                           bank_account_id=ready.operating, allocations=[(inv.id, "318.75")], from_trust=True)
    assert pay.from_trust and pay.trust_bank_account_id == ready.trust
    trust = L.trust_ledger(ready.firm)
    assert [(b.client_id, b.balance_minor) for b in trust.balances] == [(ready.client, 50000 - 31875)]
    assert trust.trust_bank_minor == trust.client_total_minor == 18125
    assert L.get_invoice(ready.firm, inv.id).open_balance_minor == 0
    assert L.account_balance(ready.firm, ready.bank_gl) == 31875


def test_credit_reverses_income_and_tax_and_writeoff_goes_to_bad_debts(ready):
    inv = ready.invoice()  # 300.00 + 18.75
    cr = L.issue_credit_note(ready.firm, invoice_id=inv.id, date="2026-02-05", amount="100")
    assert (cr.number, cr.kind, cr.amount_minor, cr.tax_minor, cr.total_minor) == ("CR-00001", "credit", 10000, 625, 10625)
    assert sorted(_lines_of(ready.firm, "credit_note", cr.id)) == sorted([
        ("post", 1, ready.ar, -10625), ("post", 1, ready.fees, 10000), ("post", 1, ready.tax_gl, 625)])
    wo = L.issue_credit_note(ready.firm, invoice_id=inv.id, date="2026-02-06", kind="writeoff", amount="212.50")
    assert wo.number == "WO-00001"
    # the rest of the invoice is written off with its tax reversed: 200.00 to bad debts, 12.50 back off the tax
    assert sorted(_lines_of(ready.firm, "credit_note", wo.id)) == sorted([
        ("post", 1, ready.ar, -21250), ("post", 1, ready.bad_debt, 20000), ("post", 1, ready.tax_gl, 1250)])
    assert L.get_invoice(ready.firm, inv.id).open_balance_minor == 0
    assert len(L.list_credit_notes(ready.firm, invoice_id=inv.id)) == 2


def test_edit_posts_reversal_and_new_version_without_touching_old_rows(ready):
    inv = ready.invoice()
    before = _lines_of(ready.firm, "invoice", inv.id)
    edited = L.edit_invoice(ready.firm, inv.id, lines=[
        dict(description="Advice", account_id=ready.fees2, quantity="3", unit_price="100", tax_rate_id=ready.zero)])
    assert edited.version == 2 and edited.total_minor == 30000 and edited.open_balance_minor == 30000
    after = _lines_of(ready.firm, "invoice", inv.id)
    assert after[: len(before)] == before
    assert sorted(after[len(before):]) == sorted(
        [("reversal", 2, acc, -amt) for _k, _v, acc, amt in before]
        + [("post", 2, ready.ar, 30000), ("post", 2, ready.fees2, -30000)])
    assert _queue(ready.firm)[("invoice", inv.id)] == (2, "upsert", "queued")
    assert L.account_balance(ready.firm, ready.fees) == 0
    moved = L.edit_invoice(ready.firm, inv.id, date="2026-02-11")  # same 30-day terms, same lines
    assert (moved.version, moved.due_date, moved.total_minor) == (3, "2026-03-13", 30000)


def test_delete_reverses_and_queues_a_delete(ready):
    inv = ready.invoice()
    gone = L.delete_invoice(ready.firm, inv.id)
    assert (gone.status, gone.version, gone.open_balance_minor) == ("deleted", 2, 0)
    assert (gone.total_minor, len(gone.lines)) == (31875, 1)  # what was deleted stays readable
    assert [i.total_minor for i in L.list_invoices(ready.firm, status="deleted")] == [31875]
    assert _queue(ready.firm)[("invoice", inv.id)] == (2, "delete", "queued")
    assert L.trial_balance(ready.firm).rows == ()


def test_edit_and_delete_payment_restore_the_invoice_balance(ready):
    inv = ready.invoice()
    pay = L.record_payment(ready.firm, client_id=ready.client, date="2026-02-10", amount="100",
                           bank_account_id=ready.operating)
    pay = L.edit_payment(ready.firm, pay.id, amount="150")
    assert (pay.version, pay.amount_minor, pay.allocations[0].amount_minor) == (2, 15000, 15000)
    assert L.get_invoice(ready.firm, inv.id).open_balance_minor == 31875 - 15000
    gone = L.delete_payment(ready.firm, pay.id)
    assert (gone.status, gone.allocations[0].amount_minor) == ("deleted", 15000)
    assert L.get_invoice(ready.firm, inv.id).open_balance_minor == 31875
    assert _queue(ready.firm)[("payment", pay.id)] == (3, "delete", "queued")


def test_edit_and_delete_credit_note(ready):
    inv = ready.invoice()
    cr = L.issue_credit_note(ready.firm, invoice_id=inv.id, date="2026-02-05", amount="10")
    cr = L.edit_credit_note(ready.firm, cr.id, amount="20")
    assert (cr.version, cr.total_minor) == (2, 2125)
    assert L.get_invoice(ready.firm, inv.id).open_balance_minor == 31875 - 2125
    cr = L.delete_credit_note(ready.firm, cr.id)
    assert cr.status == "deleted"
    assert L.get_invoice(ready.firm, inv.id).open_balance_minor == 31875


def test_trust_receipt_and_disbursement_keep_bank_equal_to_clients(ready):
    L.trust_receipt(ready.firm, client_id=ready.client, amount="1000", date="2026-01-02")
    L.trust_receipt(ready.firm, client_id=ready.client2, amount="250.50", date="2026-01-03")
    L.trust_disbursement(ready.firm, client_id=ready.client, amount="400", date="2026-01-04", memo="Settlement")
    trust = L.trust_ledger(ready.firm)
    assert {b.client_id: b.balance_minor for b in trust.balances} == {ready.client: 60000, ready.client2: 25050}
    assert trust.trust_bank_minor == trust.client_total_minor == 85050
    assert [t.kind for t in L.list_trust_transactions(ready.firm, ready.client)] == ["receipt", "disbursement"]


def test_journal_and_audit_rows_cannot_be_changed(ready):
    ready.invoice()
    for sql in ("UPDATE journal_lines SET amount_minor = 1", "DELETE FROM journal_lines",
                "UPDATE journal_entries SET memo = 'x'", "DELETE FROM audit_log", "UPDATE audit_log SET user = 'x'"):
        with pytest.raises(Exception, match="never|append-only"):
            ready.firm.db.execute(sql)


def test_bookkeeper_bills_but_cannot_change_firm_settings(ready, monkeypatch):
    L.grant_role(ready.firm, "bob", "bookkeeper")
    ready.firm.user = "bob"
    assert ready.invoice().status == "posted"
    with pytest.raises(PermissionDenied, match="Only an admin can change the accounting method"):
        L.set_accounting_method(ready.firm, "cash")
    with pytest.raises(PermissionDenied, match="Only an admin"):
        L.grant_role(ready.firm, "bob", "admin")
    ready.firm.user = "mallory"
    with pytest.raises(PermissionDenied, match="'mallory' has no role"):
        ready.invoice()


def test_aging_buckets_by_days_past_due(ready):
    ready.invoice(date="2026-01-01", due_date="2026-01-31")
    ready.invoice(date="2026-03-01", due_date="2026-03-31")
    report = L.aging(ready.firm, "2026-04-15")
    (row,) = report.rows
    assert row.buckets == {"current": 0, "1-30": 31875, "31-60": 0, "61-90": 31875, "over_90": 0}
    assert report.total_minor == 63750


def test_validation_and_write_share_one_transaction_against_other_writers(ready, settings, monkeypatch):
    """Another process (a headless sync) cannot write between a posting's checks and its rows."""
    import sqlite3

    from core.ledger import billing

    other = sqlite3.connect(settings.db, timeout=0)
    seen = []
    checks = billing._Ctx.__init__

    def meddle(self, firm):
        checks(self, firm)
        try:
            other.execute("UPDATE sync_queue SET state = 'done'")
            other.commit()
            seen.append("other wrote")
        except sqlite3.OperationalError as exc:
            seen.append(str(exc))

    monkeypatch.setattr(billing._Ctx, "__init__", meddle)
    inv = ready.invoice()
    assert seen == ["database is locked"]
    assert inv.status == "posted"
    other.close()


def test_draft_totals_match_what_the_invoice_posts(ready):
    lines = [dict(description="Advice", account_id=ready.fees, quantity="2.5", unit_price="333.33",
                  tax_rate_id=ready.state),
             dict(description="Copies", account_id=ready.recovery, quantity="3", unit_price="0.15",
                  tax_rate_id=ready.state),
             dict(description="Filing", account_id=ready.recovery, quantity="1", unit_price="12.00",
                  tax_rate_id=ready.zero)]
    shown = L.check_invoice(ready.firm, lines=lines)
    inv = ready.invoice(*lines)
    assert (shown.net_minor, shown.tax_minor, shown.total_minor) == (
        inv.subtotal_minor, inv.tax_minor, inv.total_minor)
    assert shown.total_minor == 83333 + 45 + 1200 + 5208 + 3  # 833.325 -> 833.33; tax per line, rounded half up
    half_typed = L.check_invoice(ready.firm, lines=lines[:1] + [dict(lines[1], unit_price="abc")])
    assert half_typed.priced_lines == 1 and half_typed.net_minor == 83333
