"""Write-offs carrying the invoice's tax, pushed to the sandbox: US, CA and UK demo-like firms with full and partial
write-offs on single-rate, multi-rate, combined-rate (GST+PST, GST+QST) and 0% invoices, under both values of the
sandbox's `tax_overrides` setting. QBO prices each CreditMemo itself from the lines and tax codes sent; afterwards
no document differs, none is parked, reconcile agrees, and the sales tax QBO's books owe is the ledger's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.sandbox import ledger as sandbox_ledger
from core.services import sync

from .sandboxed import demo_firm, sandbox_settings


def _cents(value) -> int:
    return int(Decimal(str(value)) * 100)


def _invoice(firm, client_id: int, lines: list[tuple[str, str, str]]):
    """An invoice of (rate name, quantity, unit price) lines."""
    from core.ledger import billing, queries

    fee = queries.list_accounts(firm, subtypes=["fee_income"])[0].id
    rates = {r.name: r.id for r in queries.list_tax_rates(firm)}
    return billing.create_invoice(firm, client_id=client_id, date="2026-11-02", lines=[
        dict(description=f"Work {n}", account_id=fee, quantity=q, unit_price=p, tax_rate_id=rates[name])
        for n, (name, q, p) in enumerate(lines, 1)])


CASES = {
    # (rate name, quantity, unit price) lines of invoices written off: full, after a part payment, in part
    "US": [[("Sample State Sales Tax (6.25%)", "1", "1.20"), ("Sample State Sales Tax (6.25%)", "1", "1.20"),
            ("No Sales Tax (0%)", "1", "35.00")],
           [("Sample State Sales Tax (6.25%)", "3", "333.33")],
           [("No Sales Tax (0%)", "2", "80.00")]],
    "CA": [[("GST/PST BC (12%)", "1", "1250.05"), ("GST/QST QC (14.975%)", "2.5", "19.99"),
            ("Zero-rated (0%)", "1", "12.34")],
           [("GST/PST SK (11%)", "1", "333.33"), ("HST ON (13%)", "1.5", "250.00")],
           [("GST/PST MB (12%)", "3", "99.99")]],
    "UK": [[("Standard (20%)", "1", "0.05"), ("Standard (20%)", "3", "33.33"), ("Reduced (5%)", "2", "12.49"),
            ("Zero-rated (0%)", "1", "10.00")],
           [("Standard (20%)", "1.5", "250.00"), ("Exempt", "1", "40.00")],
           [("Reduced (5%)", "7", "3.33")]],
}


def _tax_owed_in_qbo(sandbox, realm: str) -> int:
    """What QBO's books owe in sales tax: the credit balance of every tax agency's liability account."""
    company = sandbox.state.company(realm)
    accounts = {sandbox_ledger.tax_account(company, rate) for rate in company.all("TaxRate")} - {None}
    return -sum(_cents(sandbox_ledger.balance(company, company.get("Account", a))) for a in accounts)


@pytest.mark.parametrize("overrides", [False, True], ids=["overrides-off", "overrides-on"])
@pytest.mark.parametrize("country", ["US", "CA", "UK"])
async def test_write_offs_land_in_qbo_with_the_ledgers_tax(settings, sandbox, country, overrides):
    from core.ledger import billing, queries

    sandbox.state.set_company_setting(country, "tax_overrides", overrides)
    firm = await demo_firm(sandbox_settings(settings, sandbox), sandbox, country=country, invoices=25, payments=15,
                           credits=8, clients=6, standard_only=False)
    try:
        client = queries.list_clients(firm)[0].id
        bank = queries.list_bank_accounts(firm, "operating")[0].id
        full, paid, partly = (_invoice(firm, client, lines) for lines in CASES[country])
        billing.issue_credit_note(firm, invoice_id=full.id, kind="writeoff", date="2026-11-30",
                                  amount=str(Decimal(full.total_minor) / 100))
        half = paid.total_minor // 2
        billing.record_payment(firm, client_id=client, date="2026-11-15", bank_account_id=bank,
                               amount=str(Decimal(half) / 100), allocations=[(paid.id, str(Decimal(half) / 100))])
        billing.issue_credit_note(firm, invoice_id=paid.id, kind="writeoff", date="2026-11-30",
                                  amount=str(Decimal(paid.total_minor - half) / 100))
        billing.issue_credit_note(firm, invoice_id=partly.id, kind="writeoff", date="2026-11-30", amount="17.03")
        writeoffs = [n for n in queries.list_credit_notes(firm, status="posted") if n.kind == "writeoff"]
        assert len(writeoffs) >= 3 and any(n.tax_minor for n in writeoffs)

        summary = await sync.run_sync(firm)
        assert summary.ok, (summary.as_json(), [p.reason for p in sync.parked(firm)][:5])
        assert summary.differences == () and summary.differences_parked == 0 and summary.counts.parked == 0
        result = await sync.reconcile(firm)
        assert result.ok, result.as_json()

        realm = sandbox.realm_ids[country]
        memos = {o["DocNumber"]: o for o in sandbox.state.entities(realm, "CreditMemo")}
        tax_codes = dict(firm.db.execute("SELECT ledger_id, qbo_id FROM qbo_maps WHERE kind = 'tax'").fetchall())
        for note in writeoffs:
            memo = memos[note.number]
            assert _cents(memo["TotalAmt"]) == note.total_minor
            assert _cents(memo["TxnTaxDetail"]["TotalTax"]) == note.tax_minor
            assert sum(_cents(t["Amount"]) for t in memo["TxnTaxDetail"].get("TaxLine") or []) == note.tax_minor
            assert not any("OverrideDeltaAmount" in t["TaxLineDetail"] for t in memo["TxnTaxDetail"].get("TaxLine")
                           or []), "QBO computed the tax itself: nothing was overridden"
            sent = [ln["SalesItemLineDetail"]["TaxCodeRef"]["value"] for ln in memo["Line"]
                    if ln["DetailType"] == "SalesItemLineDetail"]
            if country == "US":
                taxed = {ln.tax_rate_id for ln in note.lines if ln.tax_minor}
                assert sent == ["TAX" if ln.tax_rate_id in taxed else "NON" for ln in note.lines]
            else:
                assert sent == [tax_codes[ln.tax_rate_id] for ln in note.lines]
        sales_tax = [a.id for a in queries.list_accounts(firm, subtypes=["sales_tax"], active_only=False)]
        owed = -firm.db.execute(
            f"SELECT coalesce(sum(amount_minor), 0) FROM journal_lines WHERE account_id IN "
            f"({','.join('?' * len(sales_tax))})", sales_tax).fetchone()[0]
        assert _tax_owed_in_qbo(sandbox, realm) == owed

        # An edited write-off goes as a full update QBO prices again; a deleted one is deleted there.
        partial = next(n for n in writeoffs if n.invoice_id == partly.id)
        edited = billing.edit_credit_note(firm, partial.id, amount="20.00")
        gone = next(n for n in writeoffs if n.invoice_id == full.id)
        billing.delete_credit_note(firm, gone.id)
        again = await sync.run_sync(firm)
        assert again.ok and again.differences == () and again.counts.parked == 0, again.as_json()
        rec = await sync.reconcile(firm)
        assert rec.ok, (rec.as_json()["ar"], rec.as_json()["notes"], full.client_id, edited.client_id)
        memos = {o["DocNumber"]: o for o in sandbox.state.entities(realm, "CreditMemo")}
        assert gone.number not in memos
        assert (_cents(memos[edited.number]["TotalAmt"]), _cents(memos[edited.number]["TxnTaxDetail"]["TotalTax"])
                ) == (2000, edited.tax_minor)
        owed = -firm.db.execute(
            f"SELECT coalesce(sum(amount_minor), 0) FROM journal_lines WHERE account_id IN "
            f"({','.join('?' * len(sales_tax))})", sales_tax).fetchone()[0]
        assert _tax_owed_in_qbo(sandbox, realm) == owed
    finally:
        firm.close()


@pytest.mark.parametrize("overrides", [False, True], ids=["overrides-off", "overrides-on"])
async def test_a_write_off_qbo_prices_differently_parks_with_both_figures(settings, sandbox, overrides):
    """QBO's 20% becomes 21% after the invoice went: the write-off of it parks with both figures and the cause,
    never done. Where the company takes tax overrides, re-sending it with the ledger's tax makes them agree."""
    from core.ledger import billing, queries
    from core.ledger.demo import ensure_ready
    from core.ledger.firm import add_client, create_firm

    from .sandboxed import connect_and_map

    sandbox.state.set_company_setting("UK", "tax_overrides", overrides)
    firm = create_firm(sandbox_settings(settings, sandbox), "UK", name="Wren & Co Solicitors")
    try:
        ensure_ready(firm)
        await connect_and_map(firm, sandbox)
        client = add_client(firm, "Bramble Cottage Ltd").id
        inv = _invoice(firm, client, [("Standard (20%)", "1", "100.00")])
        assert (await sync.run_sync(firm)).ok
        realm = sandbox.realm_ids["UK"]
        company = sandbox.state.company(realm)
        for rate in company.all("TaxRate"):
            if Decimal(str(rate.get("RateValue"))) == 20:
                sandbox.state.set_tax_rate(realm, rate["Id"], "21")
        wo = billing.issue_credit_note(firm, invoice_id=inv.id, kind="writeoff", date="2026-11-30", amount="60.00")
        assert (wo.amount_minor, wo.tax_minor) == (5000, 1000)
        summary = await sync.run_sync(firm)
        assert summary.differences_parked == 1 and not summary.ok
        [parked] = sync.parked(firm)
        assert (parked.doc_type, parked.doc_id, parked.code) == ("credit_note", wo.id, "qbo_differs")
        f = parked.fields
        assert (f["ledger_total_minor"], f["qbo_total_minor"], f["ledger_tax_minor"], f["qbo_tax_minor"]) == (
            6000, 6050, 1000, 1050)
        assert f["cause"] == "rate_differs"
        assert not (await sync.reconcile(firm)).ok
        if overrides:
            sync.resend_with_tax(firm, "credit_note", wo.id)
            again = await sync.run_sync(firm)
            assert again.ok and again.counts.parked == 0, again.as_json()
            memo = next(o for o in sandbox.state.entities(realm, "CreditMemo") if o["DocNumber"] == wo.number)
            assert (_cents(memo["TotalAmt"]), _cents(memo["TxnTaxDetail"]["TotalTax"])) == (6000, 1000)
            assert (await sync.reconcile(firm)).ok
        assert queries.get_credit_note(firm, wo.id).total_minor == 6000
    finally:
        firm.close()
