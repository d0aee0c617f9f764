"""A client whose name QuickBooks keeps for an inactive customer: creating the customer is refused (6240), the
invoice parks with a reason that says what to do in QuickBooks, and once the customer is active again a retry
links the client to it (no second customer) and pushes the invoice."""

from __future__ import annotations

from core.ledger import billing, demo, queries
from core.ledger.firm import add_client, create_firm
from core.qbo.connect import open_client
from core.services import sync

from .sandboxed import connect_and_map, sandbox_settings
from .test_sandbox_sync import qbo_objects


async def qbo_customer(firm, name: str, active: bool, existing: dict | None = None) -> dict:
    """What the firm's accountant does in QuickBooks: add a customer, or make one (in)active."""
    client = await open_client(firm)
    try:
        if existing is None:
            return await client.create("Customer", {"DisplayName": name}, requestid=None)
        return await client.sparse_update("Customer", {"Id": existing["Id"], "SyncToken": existing["SyncToken"],
                                                       "Active": active}, requestid=None)
    finally:
        await client.aclose()


async def test_an_inactive_qbo_customer_of_the_same_name_parks_the_invoice_until_reactivated(settings, sandbox):
    firm = create_firm(sandbox_settings(settings, sandbox), "UK", name="Wren & Co Solicitors")
    try:
        demo.ensure_ready(firm)
        await connect_and_map(firm, sandbox)
        old = await qbo_customer(firm, "Harbour Lights Ltd", True)
        old = await qbo_customer(firm, "Harbour Lights Ltd", False, old)
        fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
        zero = next(r.id for r in queries.list_tax_rates(firm) if r.rate_ppm == 0)
        client = add_client(firm, "Harbour Lights Ltd").id
        inv = billing.create_invoice(firm, client_id=client, date="2026-10-01", lines=[dict(
            description="Advice", account_id=fee.id, quantity="1", unit_price="400.00", tax_rate_id=zero)])

        summary = await sync.run_sync(firm)
        assert summary.parked == 1 and summary.pushed == 0, summary.as_json()
        [parked] = sync.parked(firm)
        assert parked.doc_id == inv.id
        assert "inactive customer named Harbour Lights Ltd" in parked.reason
        assert "make that customer active again in QuickBooks" in parked.reason

        await qbo_customer(firm, "Harbour Lights Ltd", True, old)
        assert sync.retry_all(firm) == 1
        again = await sync.run_sync(firm)
        assert again.ok and again.pushed == 1, again.as_json()
        customers = [c for c in qbo_objects(sandbox, firm, "Customer") if c["DisplayName"] == "Harbour Lights Ltd"]
        assert [c["Id"] for c in customers] == [old["Id"]]
        [pushed] = [i for i in qbo_objects(sandbox, firm, "Invoice") if i["DocNumber"] == inv.number]
        assert pushed["CustomerRef"]["value"] == old["Id"]
        assert (await sync.reconcile(firm)).ok
    finally:
        firm.close()
