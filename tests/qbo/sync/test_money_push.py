"""Money in the push against the sandbox over HTTP: payment lines capped at QBO's open balance (the rest
unapplied), and nothing pushed to a company whose home currency is not the firm's."""

from __future__ import annotations

from decimal import Decimal

from core.ledger import billing, demo, queries
from core.ledger.firm import add_client, create_firm
from core.services import qbo as qbo_services
from core.services import setup as setup_service
from core.services import sync

from .sandboxed import connect_and_map, sandbox_settings
from .test_sandbox_sync import qbo_objects


async def test_payments_are_capped_at_qbos_open_balance_and_the_rest_goes_unapplied(settings, sandbox):
    """QBO holds an invoice at 119.00 (its 20% rate became 19% after mapping) that the ledger has at 120.00.
    Payments of 100.00 and 20.00 go with lines of 100.00 and 19.00 (the balance QBO gave back, lowered by the
    first payment, with no read), TotalAmt as the ledger has it; the invoice itself parks with both figures."""
    firm = create_firm(sandbox_settings(settings, sandbox), "UK", name="Wren & Co Solicitors")
    try:
        demo.ensure_ready(firm)
        await connect_and_map(firm, sandbox)
        company = sandbox.state.company(sandbox.realm_ids["UK"])
        for rate in company.all("TaxRate"):
            if Decimal(str(rate.get("RateValue"))) == 20:
                rate["RateValue"] = Decimal(19)
        standard = next(r for r in queries.list_tax_rates(firm) if r.rate_ppm == 200000)
        fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
        client = add_client(firm, "Bramble Cottage Ltd").id
        inv = billing.create_invoice(firm, client_id=client, date="2026-05-04", lines=[dict(
            description="Lease review", account_id=fee.id, quantity="1", unit_price="100.00",
            tax_rate_id=standard.id)])
        bank = next(b for b in queries.list_bank_accounts(firm) if b.kind == "operating")
        billing.record_payment(firm, client_id=client, date="2026-05-10", amount="100.00",
                               bank_account_id=bank.id, allocations=[(inv.id, "100.00")])
        billing.record_payment(firm, client_id=client, date="2026-05-11", amount="20.00",
                               bank_account_id=bank.id, allocations=[(inv.id, "20.00")])
        summary = await sync.run_sync(firm)
        assert summary.pushed == 2 and summary.parked == 1, [p.reason for p in sync.parked(firm)]
        [parked] = sync.parked(firm)
        assert parked.doc_type == "invoice" and parked.code == "qbo_differs"
        payments = sorted(qbo_objects(sandbox, firm, "Payment"), key=lambda p: p["TxnDate"])
        assert [(p["TotalAmt"], [ln["Amount"] for ln in p["Line"]]) for p in payments] == [
            (Decimal("100.00"), [Decimal("100.00")]), (Decimal("20.00"), [Decimal("19.00")])]
        assert all(p["CurrencyRef"]["value"] == "GBP" for p in payments)
        [invoice] = qbo_objects(sandbox, firm, "Invoice")
        assert invoice["Balance"] == 0
    finally:
        firm.close()


async def test_nothing_is_pushed_to_a_company_in_another_home_currency(settings, sandbox):
    """A Canadian firm (CAD) connected to the US sandbox company (USD): the checklist says so and the sync
    stops before anything is sent, naming both currencies."""
    firm = create_firm(sandbox_settings(settings, sandbox), "CA", name="Coast & Harbour Law")
    try:
        demo.ensure_ready(firm)
        pending = qbo_services.begin_connect(firm)
        await qbo_services.complete_connect_async(firm, sandbox.approve(pending.url, realm_id=sandbox.realm_ids["US"]))
        await qbo_services.pull_reference_async(firm)
        qbo_services.set_sync_enabled(firm, True)
        fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
        rate = queries.list_tax_rates(firm)[0]
        client = add_client(firm, "Salish Sea Charters Ltd").id
        billing.create_invoice(firm, client_id=client, date="2026-05-04", lines=[dict(
            description="Review", account_id=fee.id, quantity="1", unit_price="100.00", tax_rate_id=rate.id)])
        step = next(s for s in setup_service.checklist(firm) if s.id == "qbo_connected")
        assert not step.ok and "CAD" in step.message and "home currency USD" in step.message
        before = len(qbo_objects(sandbox, firm, "Customer"))
        summary = await sync.run_sync(firm)
        assert summary.stopped and "CAD" in summary.stopped and "USD" in summary.stopped
        assert summary.requests == 0 and summary.pushed == 0
        assert qbo_objects(sandbox, firm, "Invoice") == [] and len(qbo_objects(sandbox, firm, "Customer")) == before
        assert sync.queue_counts(firm).queued == 1
    finally:
        firm.close()


async def test_a_credit_note_is_applied_up_to_qbos_open_balance(settings, sandbox):
    """QBO holds the invoice at 119.00 (rate changed after mapping), the ledger at 120.00; a zero-rated credit
    note of 120.00 lands whole and is applied for 119.00, the rest staying open credit on the customer."""
    firm = create_firm(sandbox_settings(settings, sandbox), "UK", name="Wren & Co Solicitors")
    try:
        demo.ensure_ready(firm)
        await connect_and_map(firm, sandbox)
        company = sandbox.state.company(sandbox.realm_ids["UK"])
        for rate in company.all("TaxRate"):
            if Decimal(str(rate.get("RateValue"))) == 20:
                rate["RateValue"] = Decimal(19)
        rates = queries.list_tax_rates(firm)
        standard = next(r for r in rates if r.rate_ppm == 200000)
        zero = next(r for r in rates if r.rate_ppm == 0)
        fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
        client = add_client(firm, "Bramble Cottage Ltd").id
        inv = billing.create_invoice(firm, client_id=client, date="2026-05-04", lines=[dict(
            description="Lease review", account_id=fee.id, quantity="1", unit_price="100.00",
            tax_rate_id=standard.id)])
        note = billing.issue_credit_note(firm, invoice_id=inv.id, date="2026-05-20", kind="credit", lines=[dict(
            description="Goodwill", account_id=fee.id, amount="120.00", tax_rate_id=zero.id)])
        summary = await sync.run_sync(firm)
        assert [p.doc_type for p in sync.parked(firm)] == ["invoice"], [p.reason for p in sync.parked(firm)]
        [memo] = [m for m in qbo_objects(sandbox, firm, "CreditMemo") if m["DocNumber"] == note.number]
        assert memo["TotalAmt"] == Decimal("120.00")
        [apply] = [p for p in qbo_objects(sandbox, firm, "Payment") if p["PrivateNote"].startswith("Ledgerlink applies")]
        assert [ln["Amount"] for ln in apply["Line"]] == [Decimal("119.00"), Decimal("119.00")]
        assert summary.pushed == 1
    finally:
        firm.close()
