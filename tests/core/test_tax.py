"""Tax priced as the firm's QBO edition prices it (per component rate, half-up), and tax rates with components."""

from __future__ import annotations

import pytest

from core.errors import ValidationError
from core.ledger.demo import ensure_ready
from core.ledger.tax import PER_LINE, SUBTOTAL, Component, compute, tax_method
from core.services import ledger as L


@pytest.fixture
def ca(settings):
    f = L.create_firm(settings, "CA", name="Tremblay & Singh LLP")
    ensure_ready(f)
    yield f
    f.close()


def _code(firm, code):
    return L.get_account_by_code(firm, code).id


def _rates(firm):
    return {r.name: r for r in L.list_tax_rates(firm)}


def _tax_postings(firm, invoice_id):
    return dict(firm.db.execute(
        "SELECT a.code, -sum(l.amount_minor) FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id "
        "JOIN accounts a ON a.id = l.account_id WHERE e.doc_type = 'invoice' AND e.doc_id = ? "
        "AND a.subtype = 'sales_tax' GROUP BY a.code", [invoice_id]).fetchall())


def test_the_method_follows_the_country():
    assert tax_method("US") == SUBTOTAL
    assert {tax_method(c) for c in ("CA", "UK", "AU", "NZ", "gb")} == {PER_LINE}


def test_us_firm_taxes_the_subtotal_of_each_rate(ready):
    line = dict(description="Copy", account_id=ready.fees, quantity=1, unit_price="1.20", tax_rate_id=ready.state)
    inv = ready.invoice(line, line)
    assert inv.tax_minor == 15  # 2.40 x 6.25% = 0.15, not 0.08 + 0.08
    assert inv.total_minor == 255 and inv.open_balance_minor == 255
    assert _tax_postings(ready.firm, inv.id) == {"2200": 15}


def test_us_zero_rated_lines_stay_out_of_the_taxable_subtotal(ready):
    inv = ready.invoice(
        dict(description="a", account_id=ready.fees, quantity="3", unit_price="0.33", tax_rate_id=ready.state),
        dict(description="b", account_id=ready.fees, quantity="1", unit_price="500.00", tax_rate_id=ready.zero),
        dict(description="c", account_id=ready.fees, quantity="1.5", unit_price="0.47", tax_rate_id=ready.state))
    # taxable 0.99 + 0.71 = 1.70 x 6.25% = 0.10625 -> 0.11
    assert inv.tax_minor == 11 and [ln.tax_minor for ln in inv.lines][1] == 0


def test_other_countries_tax_each_line_and_component(ca):
    fees = _code(ca, "4000")
    gst, pst = _code(ca, "2200"), _code(ca, "2210")
    rate = L.add_tax_rate(ca, "GST/PST BC test", "12", components=[("GST", "5", gst), ("PST BC", "7", pst)])
    assert [(c.name, c.rate_percent, c.tax_account_id) for c in rate.components] == [
        ("GST", "5", gst), ("PST BC", "7", pst)]
    client = L.add_client(ca, "Bouchard Inc.").id
    line = dict(description="Advice", account_id=fees, quantity=1, unit_price="1250.05", tax_rate_id=rate.id)
    inv = L.create_invoice(ca, client_id=client, date="2026-03-02", lines=[line])
    assert inv.tax_minor == 15000  # 62.50 GST + 87.50 PST, not 12% of 1,250.05 = 150.01
    assert _tax_postings(ca, inv.id) == {"2200": 6250, "2210": 8750}
    small = dict(description="Copy", account_id=fees, quantity=1, unit_price="0.10", tax_rate_id=rate.id)
    inv2 = L.create_invoice(ca, client_id=client, date="2026-03-02", lines=[small, small])
    # per line: GST 0.005 -> 0.01 and PST 0.007 -> 0.01, twice
    assert [ln.tax_minor for ln in inv2.lines] == [2, 2] and _tax_postings(ca, inv2.id) == {"2200": 2, "2210": 2}


def test_credit_notes_reverse_tax_per_component(ca):
    fees, gst, pst = _code(ca, "4000"), _code(ca, "2200"), _code(ca, "2210")
    rate = L.add_tax_rate(ca, "GST/PST test", "12", components=[("GST", "5", gst), ("PST", "7", pst)])
    client = L.add_client(ca, "Roy Ltd").id
    inv = L.create_invoice(ca, client_id=client, date="2026-03-02", lines=[
        dict(description="x", account_id=fees, quantity=1, unit_price="1250.05", tax_rate_id=rate.id)])
    note = L.issue_credit_note(ca, invoice_id=inv.id, date="2026-03-03", amount="1250.05")
    assert note.tax_minor == 15000 and note.total_minor == inv.total_minor
    assert L.get_invoice(ca, inv.id).open_balance_minor == 0
    assert all(L.account_balance(ca, a) == 0 for a in (gst, pst))


def test_editing_the_header_keeps_the_tax_posted_per_component(ca):
    fees, gst, pst = _code(ca, "4000"), _code(ca, "2200"), _code(ca, "2210")
    rate = L.add_tax_rate(ca, "GST/PST test", "12", components=[("GST", "5", gst), ("PST", "7", pst)])
    client = L.add_client(ca, "Roy Ltd").id
    inv = L.create_invoice(ca, client_id=client, date="2026-03-02", lines=[
        dict(description="x", account_id=fees, quantity=1, unit_price="99.99", tax_rate_id=rate.id)])
    edited = L.edit_invoice(ca, inv.id, date="2026-03-09")
    assert edited.version == 2 and edited.total_minor == inv.total_minor
    assert (L.account_balance(ca, gst), L.account_balance(ca, pst)) == (500, 700)


@pytest.mark.parametrize("components, message", [
    ([("GST", "5", "gst"), ("PST BC", "6", "pst")], "add up to 11%, not the rate's 12%"),
    ([("GST", "5", "gst"), ("PST BC", "7", None)], r"component 2 \(PST BC\) has no liability account"),
    ([("GST", "5", "gst"), ("PST BC", "107", "pst")], r"component 2 \(PST BC\) rate: 107 must be a percentage"),
    ([("GST", "5", "gst"), ("PST BC", "0", "pst")], "must be more than 0%"),
    ([("GST", "5", "gst"), ("PST BC", "7", "fees")], "is not an active sales tax payable account"),
    ([("", "5", "gst"), ("PST BC", "7", "pst")], "component 1: a component needs a name"),
])
def test_bad_components_are_refused_and_nothing_is_written(ca, components, message):
    ids = {"gst": _code(ca, "2200"), "pst": _code(ca, "2210"), "fees": _code(ca, "4000"), None: None}
    before = len(L.list_tax_rates(ca)), ca.db.execute("SELECT count(*) FROM tax_rate_components").fetchone()[0]
    with pytest.raises(ValidationError, match=message):
        L.add_tax_rate(ca, "GST/PST BC bad", "12", components=[(n, p, ids[a]) for n, p, a in components])
    after = len(L.list_tax_rates(ca)), ca.db.execute("SELECT count(*) FROM tax_rate_components").fetchone()[0]
    assert after == before


def test_single_rates_are_one_component_and_zero_rates_none(ready):
    rates = _rates(ready.firm)
    state = rates["Sample State Sales Tax (6.25%)"]
    assert [(c.rate_ppm, c.tax_account_id) for c in state.components] == [(62500, ready.tax_gl)]
    assert rates["No Sales Tax (0%)"].components == ()


def test_compute_shares_the_subtotal_tax_over_lines_by_amount():
    comps = {1: (Component(None, "A", 62500, 9),), 2: ()}
    result = compute(SUBTOTAL, [(100, 1), (50, 2), (200, 1), (1, 1)], comps)
    assert result.total == 19 == sum(result.line_tax)  # 3.01 x 6.25% = 0.188 -> 0.19
    assert result.line_tax[1] == 0 and result.by_account(comps) == {9: 19}
    per_line = compute(PER_LINE, [(100, 1), (50, 2), (200, 1), (1, 1)], comps)
    assert per_line.line_tax == (6, 0, 13, 0) and per_line.total == 19


def test_setup_tax_rate_takes_components_on_the_command_line(capsys, tmp_path):
    from core.cli import main

    db = tmp_path / "f.db"
    assert main(["--db", str(db), "init", "--country", "CA"]) == 0
    capsys.readouterr()
    base = ["--db", str(db), "setup", "tax-rate", "GST/PST Test", "12", "--component", "GST:5:2200"]
    assert main(base + ["--component", "PST:6:2210"]) == 1
    assert "add up to 11%, not the rate's 12%" in capsys.readouterr().err
    assert main(base + ["--component", "PST:7"]) == 1
    assert "component 2 (PST) has no liability account" in capsys.readouterr().err
    assert main(base + ["--component", "PST:7:9999"]) == 1
    assert "component 2 (PST): there is no account with code 9999" in capsys.readouterr().err
    assert main(base + ["--component", "PST:7:2210"]) == 0
    assert "Added the tax rate GST/PST Test (12%: GST 5% + PST 7%)" in capsys.readouterr().out
