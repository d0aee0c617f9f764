"""Payload rules: item and tax maps, US versus other countries, DocNumber, payments and credit memos."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import Parked
from core.ledger import billing, queries
from core.ledger.firm import add_client, create_firm
from core.ledger import demo
from core.qbo import payloads as P
from core.qbo.client import dumps

from .conftest import MappedSources


def _invoice(firm, rate_name_has: str, lines=2):
    fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
    rec = queries.list_accounts(firm, subtypes=["expense_recovery"])[0]
    rates = queries.list_tax_rates(firm)
    taxed = next(r for r in rates if rate_name_has in r.name)
    zero = next(r for r in rates if r.rate_ppm == 0 and not r.exempt)
    client = add_client(firm, "Dukes Basketball Camp").id
    spec = [dict(description="Advice", account_id=fee.id, quantity="1.5", unit_price="250.00", tax_rate_id=taxed.id),
            dict(description="Courier", account_id=rec.id, quantity="1", unit_price="12.34", tax_rate_id=zero.id)]
    inv = billing.create_invoice(firm, client_id=client, date="2026-04-01", lines=spec[:lines])
    return queries.get_invoice(firm, inv if isinstance(inv, int) else inv.id), fee, rec, taxed, zero


def test_us_invoice_uses_tax_and_non_line_codes_and_one_transaction_code(firm):
    inv, fee, rec, taxed, zero = _invoice(firm, "6.25")
    ctx = MappedSources(firm).context()
    body = P.invoice_payload(inv, ctx, {inv.client_id: "58"}).body()
    assert body["DocNumber"] == inv.number and body["CustomerRef"] == {"value": "58"}
    assert [l["SalesItemLineDetail"]["TaxCodeRef"]["value"] for l in body["Line"]] == ["TAX", "NON"]
    assert body["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == f"9{fee.id}"
    assert body["Line"][0]["Amount"] == Decimal("375.00")
    assert body["Line"][0]["SalesItemLineDetail"]["Qty"] == Decimal("1.5")
    assert body["TxnTaxDetail"]["TxnTaxCodeRef"] == {"value": f"6{taxed.id}"}
    assert body["TxnTaxDetail"]["TotalTax"] == Decimal(inv.tax_minor) / 100
    assert "GlobalTaxCalculation" not in body
    assert '"Amount":375.00' in dumps(body), "amounts go out as exact JSON numbers"


def test_other_countries_put_the_mapped_code_on_every_line_and_say_tax_excluded(settings):
    firm = create_firm(settings, "UK", name="Brief & Co")
    demo.ensure_ready(firm)
    try:
        inv, fee, rec, taxed, zero = _invoice(firm, "20")
        ctx = MappedSources(firm, us=False).context()
        body = P.invoice_payload(inv, ctx, {inv.client_id: "3"}).body()
        assert [l["SalesItemLineDetail"]["TaxCodeRef"]["value"] for l in body["Line"]] == [f"6{taxed.id}",
                                                                                           f"6{zero.id}"]
        assert body["GlobalTaxCalculation"] == "TaxExcluded"
        assert "TxnTaxCodeRef" not in body["TxnTaxDetail"]
    finally:
        firm.close()


def test_unmapped_tax_rate_and_long_numbers_park_with_where_to_fix(firm):
    inv, fee, rec, taxed, zero = _invoice(firm, "6.25")
    ctx = MappedSources(firm).context()
    no_tax = P.PushContext(**{**ctx.__dict__, "tax": {}})
    with pytest.raises(Parked, match="is not mapped to a QuickBooks tax code: open Mapping > Sales tax map"):
        P.invoice_payload(inv, no_tax, {inv.client_id: "1"})
    long = inv.__class__(**{**inv.__dict__, "number": "INV-" + "9" * 20})
    with pytest.raises(Parked, match="longer than the 21 characters"):
        P.invoice_payload(long, ctx, {inv.client_id: "1"})
    with pytest.raises(Parked, match="has no customer in QuickBooks yet"):
        P.invoice_payload(inv, ctx, {})


def test_payment_links_its_invoices_and_deposits_to_the_gl_map(firm):
    inv, *_ = _invoice(firm, "6.25")
    bank = queries.list_bank_accounts(firm, "operating")[0]
    pid = billing.record_payment(firm, client_id=inv.client_id, date="2026-04-10", amount="100.00",
                                 bank_account_id=bank.id, allocations=[(inv.id, "100.00")], reference="CHQ 12")
    pay = queries.get_payment(firm, pid if isinstance(pid, int) else pid.id)
    ctx = MappedSources(firm).context()
    body = P.payment_payload(pay, ctx, {inv.client_id: "58"}, {inv.id: "130"}).body()
    assert body["TotalAmt"] == Decimal("100.00")
    assert body["Line"] == [{"Amount": Decimal("100.00"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}]
    assert body["DepositToAccountRef"]["value"] == f"7{bank.gl_account_id}"
    assert body["PaymentRefNum"] == "CHQ 12"
    with pytest.raises(Parked, match=f"waits for invoice {inv.number}"):
        P.payment_payload(pay, ctx, {inv.client_id: "58"}, {})


def test_credit_note_keeps_its_prefix_and_is_applied_by_a_zero_payment(firm):
    inv, *_ = _invoice(firm, "6.25")
    note = billing.issue_credit_note(firm, invoice_id=inv.id, amount="50.00", date="2026-04-20")
    writeoff = billing.issue_credit_note(firm, invoice_id=inv.id, kind="writeoff", amount="10.00", date="2026-04-21")
    ctx = MappedSources(firm).context()
    body = P.credit_memo_payload(note, ctx, {inv.client_id: "58"}).body()
    assert body["DocNumber"] == note.number and note.number.startswith("CR-")
    wo = P.credit_memo_payload(writeoff, ctx, {inv.client_id: "58"}).body()
    assert wo["DocNumber"].startswith("WO-")
    # the write-off carries the invoice's tax treatment: its taxed share TAX, its zero-rated share NON
    assert [ln["SalesItemLineDetail"]["TaxCodeRef"]["value"] for ln in wo["Line"]] == ["TAX", "NON"]
    assert wo["TxnTaxDetail"]["TxnTaxCodeRef"] == ctx.tax[inv.lines[0].tax_rate_id].body()
    assert writeoff.tax_minor > 0 and wo["TxnTaxDetail"]["TotalTax"] == Decimal(writeoff.tax_minor) / 100
    apply = P.apply_payload(note, ctx, {inv.client_id: "58"}, {inv.id: "130"}, "140").body()
    assert apply["TotalAmt"] == 0
    assert [l["LinkedTxn"][0] for l in apply["Line"]] == [{"TxnId": "130", "TxnType": "Invoice"},
                                                          {"TxnId": "140", "TxnType": "CreditMemo"}]
    assert {l["Amount"] for l in apply["Line"]} == {Decimal(note.total_minor) / 100}
    no_item = P.PushContext(**{**ctx.__dict__, "extra_items": {}})
    with pytest.raises(Parked, match="no QuickBooks product/service for write-offs"):
        P.credit_memo_payload(writeoff, no_item, {inv.client_id: "58"})
