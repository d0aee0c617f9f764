"""An edited payment may apply up to the invoice's open balance before its own first application: QBO's balance
kept since that application understates what the edited payment can take (50 applied, edited to 80: 80 go)."""

from __future__ import annotations

from decimal import Decimal

from core.services import sync

from .sandboxed import demo_firm, sandbox_settings


def _cents(value) -> int:
    return int(Decimal(str(value)) * 100)


async def test_an_edited_payment_applies_its_new_amount_in_qbo(settings, sandbox):
    from core.ledger import billing, queries

    firm = await demo_firm(sandbox_settings(settings, sandbox), sandbox, invoices=4, payments=0, credits=0,
                           clients=2)
    try:
        client = queries.list_clients(firm)[0].id
        fee = queries.list_accounts(firm, subtypes=["fee_income"])[0].id
        free = next(r.id for r in queries.list_tax_rates(firm) if not r.rate_ppm)
        inv = billing.create_invoice(firm, client_id=client, date="2026-11-02", lines=[
            dict(description="Advice", account_id=fee, quantity="1", unit_price="100.00", tax_rate_id=free)])
        bank = queries.list_bank_accounts(firm, "operating")[0].id
        pay = billing.record_payment(firm, client_id=client, date="2026-11-10", bank_account_id=bank,
                                     amount="50.00", allocations=[(inv.id, "50.00")])
        first = await sync.run_sync(firm)
        assert first.ok and first.counts.parked == 0, first.as_json()

        billing.edit_payment(firm, pay.id, amount="80.00", allocations=[(inv.id, "80.00")])
        again = await sync.run_sync(firm)
        assert again.ok and again.counts.parked == 0 and again.differences == (), again.as_json()

        realm = sandbox.realm_ids["UK"]
        invoice = next(o for o in sandbox.state.entities(realm, "Invoice") if o["DocNumber"] == inv.number)
        payment = next(o for o in sandbox.state.entities(realm, "Payment")
                       if o.get("PrivateNote") == f"Ledgerlink payment {pay.id}")
        assert sum(_cents(line["Amount"]) for line in payment["Line"]) == 8000
        assert _cents(payment.get("UnappliedAmt", 0)) == 0
        assert _cents(invoice["Balance"]) == 2000
        rec = await sync.reconcile(firm)
        assert rec.ok, rec.as_json()
    finally:
        firm.close()
