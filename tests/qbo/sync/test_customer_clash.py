"""A client whose name QuickBooks keeps for an inactive customer: the invoice parks with a reason that says what
to do in QuickBooks, and once the customer is active again and the admin links the client to it (a name alone
never links), the invoice goes to it (no second customer)."""

from __future__ import annotations

import pytest

from core.errors import Conflict
from core.ledger import billing
from core.ledger.firm import add_client
from core.services import sync
from core.services.customers import link_customer

from .sandboxed import _pull, fee_line, in_qbo, small_firm
from .test_sandbox_sync import qbo_objects


async def qbo_customer(firm, name: str, active: bool, existing: dict | None = None) -> dict:
    """What the firm's accountant does in QuickBooks: add a customer, or make one (in)active."""
    if existing is None:
        return await in_qbo(firm, lambda c: c.create("Customer", {"DisplayName": name}, requestid=None))
    body = {"Id": existing["Id"], "SyncToken": existing["SyncToken"], "Active": active}
    return await in_qbo(firm, lambda c: c.sparse_update("Customer", body, requestid=None))


async def test_an_inactive_qbo_customer_of_the_same_name_parks_the_invoice_until_reactivated(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        old = await qbo_customer(firm, "Harbour Lights Ltd", True)
        old = await qbo_customer(firm, "Harbour Lights Ltd", False, old)
        client = add_client(firm, "Harbour Lights Ltd").id
        inv = billing.create_invoice(firm, client_id=client, date="2026-10-01", lines=[fee_line(firm)])

        summary = await sync.run_sync(firm)
        assert summary.parked == 1 and summary.pushed == 0, summary.as_json()
        [parked] = sync.parked(firm)
        assert parked.doc_id == inv.id
        assert "inactive customer named Harbour Lights Ltd" in parked.reason
        assert "make that customer active again in QuickBooks" in parked.reason
        await _pull(firm)
        with pytest.raises(Conflict, match="is inactive"):
            link_customer(firm, client, old["Id"])

        await qbo_customer(firm, "Harbour Lights Ltd", True, old)
        assert sync.retry_all(firm) == 1
        waits = await sync.run_sync(firm)  # the same name is never enough: the admin links it
        assert waits.pushed == 0 and f"customers link {client} {old['Id']}" in sync.parked(firm)[0].reason
        link_customer(firm, client, old["Id"])
        again = await sync.run_sync(firm)
        assert again.ok and again.pushed == 1, again.as_json()
        customers = [c for c in qbo_objects(sandbox, firm, "Customer") if c["DisplayName"] == "Harbour Lights Ltd"]
        assert [c["Id"] for c in customers] == [old["Id"]]
        [pushed] = [i for i in qbo_objects(sandbox, firm, "Invoice") if i["DocNumber"] == inv.number]
        assert pushed["CustomerRef"]["value"] == old["Id"]
        assert (await sync.reconcile(firm)).ok
    finally:
        firm.close()
