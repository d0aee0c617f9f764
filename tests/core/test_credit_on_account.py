"""Overpayments become client credit on account (operating money, never trust), shown per client, in the aging
and the trial balance alike, and usable by a later invoice."""

from __future__ import annotations

import pytest

from core.errors import ValidationError
from core.services import ledger as L


def _fees(ready, price):
    return dict(description="Advice", account_id=ready.fees, quantity=1, unit_price=price, tax_rate_id=ready.zero)


def test_an_overpayment_leaves_credit_on_account_consistent_in_every_report(ready):
    inv = ready.invoice(_fees(ready, "100.00"))
    pay = L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="150",
                           bank_account_id=ready.operating)
    assert [(a.invoice_id, a.amount_minor) for a in pay.allocations] == [(inv.id, 10000)]
    assert pay.credit_minor == 5000
    assert L.get_invoice(ready.firm, inv.id).open_balance_minor == 0
    assert [(c.client_name, c.credit_minor) for c in L.client_credits(ready.firm)] == [("Acme Widgets Inc.", 5000)]
    assert L.client_credit(ready.firm, ready.client) == 5000 and L.client_credit(ready.firm, ready.client2) == 0
    # credit is operating money: the bank has all of it, trust nothing
    assert L.account_balance(ready.firm, ready.bank_gl) == 15000
    assert L.trust_ledger(ready.firm).client_total_minor == 0
    # negative receivable: the aging shows the credit beside the buckets and its total equals the AR balance
    aging = L.aging(ready.firm, "2026-02-10")
    [row] = aging.rows
    assert (row.client_name, row.credit_minor, row.total_minor) == ("Acme Widgets Inc.", 5000, -5000)
    assert aging.total_minor == -5000 == L.account_balance(ready.firm, ready.ar)
    assert aging.as_json()["clients"][0]["credit_minor"] == 5000
    tb = {r.account_id: r for r in L.trial_balance(ready.firm).rows}
    assert tb[ready.ar].credit_minor == 5000


def test_explicit_allocations_below_the_amount_leave_the_rest_as_credit(ready):
    inv = ready.invoice(_fees(ready, "100.00"))
    pay = L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="130",
                           bank_account_id=ready.operating, allocations=[(inv.id, "80")])
    assert pay.credit_minor == 5000 and L.get_invoice(ready.firm, inv.id).open_balance_minor == 2000


def test_a_later_invoice_uses_the_credit(ready):
    ready.invoice(_fees(ready, "100.00"))
    pay = L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="150",
                           bank_account_id=ready.operating)
    later = ready.invoice(_fees(ready, "80.00"), date="2026-03-01")
    settled = L.apply_credit(ready.firm, invoice_id=later.id)
    assert settled.open_balance_minor == 3000
    assert L.client_credit(ready.firm, ready.client) == 0
    edited = L.get_payment(ready.firm, pay.id)
    assert edited.version == 2 and edited.credit_minor == 0 and edited.amount_minor == 15000
    assert sorted(a.amount_minor for a in edited.allocations) == [5000, 10000]
    queued = ready.firm.db.execute("SELECT version, state FROM sync_queue WHERE doc_type = 'payment' AND doc_id = ?",
                                   [pay.id]).fetchone()
    assert tuple(queued) == (2, "queued")
    assert L.aging(ready.firm, "2026-03-02").total_minor == 3000 == L.account_balance(ready.firm, ready.ar)


def test_credit_is_applied_in_part_and_refused_beyond_what_there_is(ready):
    ready.invoice(_fees(ready, "100.00"))
    L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="150",
                     bank_account_id=ready.operating)
    later = ready.invoice(_fees(ready, "80.00"), date="2026-03-01")
    with pytest.raises(ValidationError, match="has 50.00 USD of credit on account; 60.00 USD cannot be applied"):
        L.apply_credit(ready.firm, invoice_id=later.id, amount="60")
    assert L.apply_credit(ready.firm, invoice_id=later.id, amount="20").open_balance_minor == 6000
    assert L.client_credit(ready.firm, ready.client) == 3000
    other = ready.invoice(_fees(ready, "10.00"), client=ready.client2)
    with pytest.raises(ValidationError, match="Jane Roe has no credit on account"):
        L.apply_credit(ready.firm, invoice_id=other.id)


def test_deleting_the_overpaying_payment_removes_the_credit(ready):
    ready.invoice(_fees(ready, "100.00"))
    pay = L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="150",
                           bank_account_id=ready.operating)
    L.delete_payment(ready.firm, pay.id)
    assert L.client_credits(ready.firm) == [] and L.account_balance(ready.firm, ready.ar) == 10000


def test_the_aging_report_on_the_command_line_shows_the_credit(ready, settings, capsys):
    import json

    from core.cli import main

    ready.invoice(_fees(ready, "100.00"))
    L.record_payment(ready.firm, client_id=ready.client, date="2026-02-02", amount="150",
                     bank_account_id=ready.operating)
    ready.firm.close()
    assert main(["--db", str(settings.db), "report", "aging", "--as-of", "2026-02-10"]) == 0
    out = capsys.readouterr().out
    assert "Credit" in out and "-50.00" in out
    assert main(["--db", str(settings.db), "report", "aging", "--as-of", "2026-02-10", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["clients"][0]["credit_minor"] == 5000 and report["totals"]["credit_minor"] == 5000
    assert report["total_minor"] == -5000
