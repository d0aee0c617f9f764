"""US and CA demo firms (multi-line taxed invoices, partial and full payments, credit notes and write-offs)
pushed to the sandbox over HTTP: afterwards no document differs from QBO, none is parked, reconcile agrees.
Each runs once per value of the sandbox's `tax_overrides` company setting (reference §5.14 leaves open whether
client-sent tax is kept: off, the stricter, recomputes it), and with an overpayment on top of the demo's
payments: the excess goes to QBO as unapplied credit (TotalAmt above the lines) and to the ledger as credit on
account."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.services import sync

from .sandboxed import demo_firm, sandbox_settings


@pytest.mark.parametrize("overrides", [False, True], ids=["overrides-off", "overrides-on"])
@pytest.mark.parametrize("country", ["US", "CA"])
async def test_a_demo_firm_lands_with_no_difference_and_nothing_parked(settings, sandbox, country, overrides):
    from core.ledger import billing, queries

    sandbox.state.set_company_setting(country, "tax_overrides", overrides)
    firm = await demo_firm(sandbox_settings(settings, sandbox), sandbox, country=country, invoices=40, payments=30,
                           credits=8, clients=8, standard_only=False)
    try:
        invoice = next(i for i in queries.list_invoices(firm, status="posted", open_only=True)
                       if i.open_balance_minor == i.total_minor and not queries.list_credit_notes(firm, invoice_id=i.id))
        bank = queries.list_bank_accounts(firm, "operating")[0].id
        over = billing.record_payment(
            firm, client_id=invoice.client_id, date="2026-12-01", bank_account_id=bank, reference="OVER-1",
            amount=str(Decimal(invoice.total_minor + 1000) / 100),
            allocations=[(invoice.id, str(Decimal(invoice.total_minor) / 100))])
        assert over.credit_minor == 1000
        summary = await sync.run_sync(firm)
        assert summary.ok, (summary.as_json(), [p.reason for p in sync.parked(firm)][:5])
        assert summary.differences == () and summary.differences_parked == 0 and summary.counts.parked == 0
        assert "differ from QuickBooks" not in summary.message
        taxed = firm.db.execute("SELECT count(*) FROM sync_links WHERE doc_type = 'invoice' AND qbo_tax_minor > 0"
                                ).fetchone()[0]
        assert taxed > 0, "the demo charges tax: the comparison covered taxed invoices"
        assert firm.db.execute("SELECT count(*) FROM sync_links WHERE doc_type = 'invoice' AND "
                               "qbo_tax_minor != ledger_tax_minor").fetchone()[0] == 0
        result = await sync.reconcile(firm)
        assert result.ok, result.as_json()
        qbo_payment = next(o for o in sandbox.state.entities(sandbox.realm_ids[country], "Payment")
                           if o.get("PaymentRefNum") == "OVER-1")
        assert Decimal(str(qbo_payment["UnappliedAmt"])) == Decimal("10.00")
    finally:
        firm.close()
