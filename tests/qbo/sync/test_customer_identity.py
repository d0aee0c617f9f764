"""Customer identity through a real sync against the sandbox: a QBO customer of the same name is proposed,
never linked by itself; the client's documents wait until the admin links it or asks for a new customer;
"X: Estate" and "X- Estate" become two QBO customers, each with its own invoices."""

from __future__ import annotations

from core.ledger import billing
from core.ledger.firm import add_client
from core.services import customers, sync

from .sandboxed import fee_line, in_qbo, small_firm
from .test_sandbox_sync import qbo_objects


async def _qbo_customer(firm, name: str, email: str | None = None) -> dict:
    body = {"DisplayName": name, **({"PrimaryEmailAddr": {"Address": email}} if email else {})}
    return await in_qbo(firm, lambda c: c.create("Customer", body, requestid=None))


async def test_a_same_name_customer_is_proposed_and_the_documents_wait_for_the_admin(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        theirs = await _qbo_customer(firm, "Cool Cars", "sales@othercars.example")
        client = add_client(firm, "Cool Cars", email="office@coolcars.example").id
        inv = billing.create_invoice(firm, client_id=client, date="2026-10-01", lines=[fee_line(firm)])

        summary = await sync.run_sync(firm)
        assert (summary.pushed, summary.parked) == (0, 1), summary.as_json()
        [parked] = sync.parked(firm)
        assert parked.doc_id == inv.id and f"customers link {client} {theirs['Id']}" in parked.reason
        assert not qbo_objects(sandbox, firm, "Invoice")
        assert [c["Id"] for c in qbo_objects(sandbox, firm, "Customer") if c["DisplayName"] == "Cool Cars"] == \
            [theirs["Id"]]
        [proposal] = customers.proposals(firm)
        assert (proposal.customer.id, proposal.customer.email) == (theirs["Id"], "sales@othercars.example")
        assert proposal.why == ("same_display_name", "different_email")

        again = await sync.run_sync(firm)  # still waiting: nothing linked, nothing sent
        assert again.pushed == 0 and again.parked == 1

        customers.link_customer(firm, client, theirs["Id"])
        done = await sync.run_sync(firm)
        assert done.ok and done.pushed == 1, done.as_json()
        [pushed] = qbo_objects(sandbox, firm, "Invoice")
        assert pushed["CustomerRef"]["value"] == theirs["Id"]
    finally:
        firm.close()


async def test_the_admin_may_ask_for_a_new_customer_instead(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        theirs = await _qbo_customer(firm, "Cool Cars")
        client = add_client(firm, "Cool Cars").id
        billing.create_invoice(firm, client_id=client, date="2026-10-01", lines=[fee_line(firm)])
        assert (await sync.run_sync(firm)).parked == 1
        assert customers.new_customer(firm, client).display_name == "Cool Cars (2)"
        done = await sync.run_sync(firm)
        assert done.ok and done.pushed == 1, done.as_json()
        ours = [c for c in qbo_objects(sandbox, firm, "Customer") if c["DisplayName"] == "Cool Cars (2)"]
        [pushed] = qbo_objects(sandbox, firm, "Invoice")
        assert pushed["CustomerRef"]["value"] == ours[0]["Id"] != theirs["Id"]
    finally:
        firm.close()


async def test_names_equal_after_qbo_rules_become_two_customers_each_with_its_invoices(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        colon = add_client(firm, "X: Estate").id
        dash = add_client(firm, "X- Estate").id
        a = billing.create_invoice(firm, client_id=colon, date="2026-10-01", lines=[fee_line(firm, "100.00")])
        b = billing.create_invoice(firm, client_id=dash, date="2026-10-01", lines=[fee_line(firm, "200.00")])
        summary = await sync.run_sync(firm)
        assert summary.ok and summary.pushed == 2, summary.as_json()
        by_name = {c["DisplayName"]: c["Id"] for c in qbo_objects(sandbox, firm, "Customer")}
        assert {"X- Estate", "X- Estate (2)"} <= set(by_name)
        invoices = {i["DocNumber"]: i["CustomerRef"]["value"] for i in qbo_objects(sandbox, firm, "Invoice")}
        assert invoices[b.number] == by_name["X- Estate"]
        assert invoices[a.number] == by_name["X- Estate (2)"]
        assert (await sync.reconcile(firm)).ok
    finally:
        firm.close()
