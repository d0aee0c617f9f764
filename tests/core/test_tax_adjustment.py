"""record_tax_adjustment: QBO's tax figure accepted through the journal; the invoice's total and open balance
follow, posted rows are never changed, and bad input writes nothing."""

from __future__ import annotations

import pytest

from core.errors import Conflict, ValidationError
from core.services import ledger as L


def _entries(firm):
    return firm.db.execute("SELECT count(*) FROM journal_entries").fetchone()[0]


def test_accepting_qbos_tax_moves_total_open_balance_and_liability(ready):
    line = dict(description="x", account_id=ready.fees, quantity=1, unit_price="100.06", tax_rate_id=ready.state)
    inv = ready.invoice(line)
    assert inv.tax_minor == 625 and inv.total_minor == 10631
    rows_before = ready.firm.db.execute("SELECT * FROM journal_lines ORDER BY id").fetchall()
    adjusted = L.record_tax_adjustment(ready.firm, inv.id, ready.state, 1, "QuickBooks computed 6.26",
                                       "2026-02-03")
    assert (adjusted.tax_minor, adjusted.total_minor, adjusted.open_balance_minor) == (626, 10632, 10632)
    assert [(a.amount_minor, a.date, a.reason) for a in adjusted.tax_adjustments] == [
        (1, "2026-02-03", "QuickBooks computed 6.26")]
    assert L.account_balance(ready.firm, ready.tax_gl) == 626
    assert ready.firm.db.execute("SELECT * FROM journal_lines ORDER BY id").fetchall()[:len(rows_before)] == rows_before
    summary = next(i for i in L.list_invoices(ready.firm) if i.id == inv.id)
    assert summary.total_minor == 10632
    # a full payment of QBO's figure settles it
    L.record_payment(ready.firm, client_id=ready.client, date="2026-02-05", amount="106.32",
                     bank_account_id=ready.operating, allocations=[(inv.id, "106.32")])
    assert L.get_invoice(ready.firm, inv.id).open_balance_minor == 0
    tb = L.trial_balance(ready.firm)
    assert tb.total_debit_minor == tb.total_credit_minor


def test_an_adjustment_down_and_an_edit_reverses_it_with_the_invoice(ready):
    inv = ready.invoice()
    adjusted = L.record_tax_adjustment(ready.firm, inv.id, ready.state, -3, "QBO rounding", "2026-02-02")
    assert adjusted.total_minor == inv.total_minor - 3 == adjusted.open_balance_minor
    edited = L.edit_invoice(ready.firm, inv.id, date="2026-02-04")
    assert edited.tax_adjustments == () and edited.total_minor == inv.total_minor == edited.open_balance_minor
    assert L.account_balance(ready.firm, ready.tax_gl) == inv.tax_minor
    again = L.record_tax_adjustment(ready.firm, inv.id, ready.state, 2, "QBO rounding", "2026-02-05")
    L.delete_invoice(ready.firm, inv.id)
    assert L.account_balance(ready.firm, ready.tax_gl) == 0 and L.account_balance(ready.firm, ready.ar) == 0
    deleted = L.get_invoice(ready.firm, inv.id)  # keeps what its last posted version showed, open balance 0
    assert (deleted.status, deleted.total_minor, deleted.open_balance_minor) == ("deleted", again.total_minor, 0)


def test_a_combined_rate_is_adjusted_per_component(settings):
    from core.ledger.demo import ensure_ready

    firm = L.create_firm(settings, "CA", name="Roy LLP")
    try:
        ensure_ready(firm)
        gst, pst = (L.get_account_by_code(firm, c).id for c in ("2200", "2210"))
        rate = L.add_tax_rate(firm, "GST/PST X", "12", components=[("GST", "5", gst), ("PST", "7", pst)])
        client = L.add_client(firm, "Cote Inc").id
        inv = L.create_invoice(firm, client_id=client, date="2026-03-02", lines=[
            dict(description="x", account_id=L.get_account_by_code(firm, "4000").id, quantity=1,
                 unit_price="10.00", tax_rate_id=rate.id)])
        with pytest.raises(ValidationError, match=r"2 components \(GST, PST\): say which one"):
            L.record_tax_adjustment(firm, inv.id, rate.id, 1, "QBO", "2026-03-03")
        with pytest.raises(ValidationError, match="has no component 'QST'"):
            L.record_tax_adjustment(firm, inv.id, rate.id, 1, "QBO", "2026-03-03", component="QST")
        after = L.record_tax_adjustment(firm, inv.id, rate.id, 1, "QBO", "2026-03-03", component="PST")
        assert after.tax_minor == 121
        assert (L.account_balance(firm, gst), L.account_balance(firm, pst)) == (50, 71)
    finally:
        firm.close()


@pytest.mark.parametrize("args, error, message", [
    (dict(amount_minor=0), ValidationError, "zero changes nothing"),
    (dict(amount_minor="1"), ValidationError, "is not a whole number of minor units"),
    (dict(amount_minor=1.0), ValidationError, "is not a whole number of minor units"),
    (dict(reason="  "), ValidationError, "say why"),
    (dict(date="2026-02-30"), ValidationError, "is not a date"),
    (dict(rate="zero"), ValidationError, "has no line at No Sales Tax"),
    (dict(amount_minor=-30001), ValidationError, "would take it below zero"),
])
def test_bad_adjustments_are_refused_and_nothing_is_written(ready, args, error, message):
    inv = ready.invoice()
    before = _entries(ready.firm)
    rate = ready.zero if args.get("rate") == "zero" else ready.state
    with pytest.raises(error, match=message):
        L.record_tax_adjustment(ready.firm, inv.id, rate, args.get("amount_minor", 1), args.get("reason", "QBO"),
                                args.get("date", "2026-02-02"))
    assert _entries(ready.firm) == before
    assert ready.firm.db.execute("SELECT count(*) FROM tax_adjustments").fetchone()[0] == 0


def test_no_adjustment_below_the_open_balance_or_on_a_deleted_invoice(ready):
    inv = ready.invoice()
    L.record_payment(ready.firm, client_id=ready.client, date="2026-02-05", amount="318.00",
                     bank_account_id=ready.operating, allocations=[(inv.id, "318.00")])
    with pytest.raises(ValidationError, match="has 0.75 USD open; lowering its tax by 1.00 USD"):
        L.record_tax_adjustment(ready.firm, inv.id, ready.state, -100, "QBO", "2026-02-06")
    other = ready.invoice()
    L.delete_invoice(ready.firm, other.id)
    with pytest.raises(Conflict, match="was deleted"):
        L.record_tax_adjustment(ready.firm, other.id, ready.state, 1, "QBO", "2026-02-06")


def test_tax_lines_per_component_add_up_to_the_invoice_tax_with_adjustments(settings):
    from core.ledger.demo import ensure_ready

    firm = L.create_firm(settings, "CA", name="Roy LLP")
    try:
        ensure_ready(firm)
        gst, pst = (L.get_account_by_code(firm, c).id for c in ("2200", "2210"))
        rate = L.add_tax_rate(firm, "GST/PST X", "12", components=[("GST", "5", gst), ("PST", "7", pst)])
        hst = next(r for r in L.list_tax_rates(firm) if r.name == "HST ON (13%)")
        client = L.add_client(firm, "Cote Inc").id
        fees = L.get_account_by_code(firm, "4000").id
        inv = L.create_invoice(firm, client_id=client, date="2026-03-02", lines=[
            dict(description="a", account_id=fees, quantity=1, unit_price="250.10", tax_rate_id=rate.id),
            dict(description="b", account_id=fees, quantity=1, unit_price="100.00", tax_rate_id=hst.id)])
        L.record_tax_adjustment(firm, inv.id, rate.id, -1, "QBO", "2026-03-03", component="PST")
        lines = L.invoice_tax_lines(firm, inv.id)
        assert [(t.name, t.rate_percent, t.net_minor, t.tax_minor) for t in lines] == [
            ("GST", "5", 25010, 1251), ("PST", "7", 25010, 1750), ("HST ON (13%)", "13", 10000, 1300)]
        assert sum(t.tax_minor for t in lines) == L.get_invoice(firm, inv.id).tax_minor
    finally:
        firm.close()
