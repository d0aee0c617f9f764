"""Closed books in QuickBooks: an invoice dated in the closed period parks with a reason that says what to do,
keeps QBO's fault for support, and goes once the books are reopened and it is retried; nothing is duplicated."""

from __future__ import annotations

from core.ledger import billing, demo, queries
from core.ledger.firm import add_client, create_firm
from core.qbo.connect import open_client
from core.services import sync

from .sandboxed import connect_and_map, sandbox_settings
from .test_sandbox_sync import assert_exactly_once


async def close_books_in_qbo(firm, close_date: str) -> None:
    """What the firm's accountant does in QuickBooks (Account and settings > Advanced > Close the books)."""
    client = await open_client(firm)
    try:
        prefs = await client.preferences()
        await client.create("Preferences", {"SyncToken": prefs["SyncToken"], "sparse": True,
                                            "AccountingInfoPrefs": {"BookCloseDate": close_date}}, requestid=None)
    finally:
        await client.aclose()


async def test_an_invoice_in_a_closed_period_parks_until_the_books_reopen(settings, sandbox):
    firm = create_firm(sandbox_settings(settings, sandbox), "UK", name="Wren & Co Solicitors")
    try:
        demo.ensure_ready(firm)
        await connect_and_map(firm, sandbox)
        fee = queries.list_accounts(firm, subtypes=["fee_income"])[0]
        zero = next(r.id for r in queries.list_tax_rates(firm) if r.rate_ppm == 0)
        client = add_client(firm, "Late Filer Ltd").id
        line = dict(description="Advice", account_id=fee.id, quantity="1", unit_price="400.00", tax_rate_id=zero)
        old = billing.create_invoice(firm, client_id=client, date="2026-04-01", lines=[line])
        billing.create_invoice(firm, client_id=client, date="2026-08-01", lines=[line])
        await close_books_in_qbo(firm, "2026-06-30")

        summary = await sync.run_sync(firm)
        assert (summary.pushed, summary.parked) == (1, 1), summary.as_json()  # the August invoice went
        [parked] = sync.parked(firm)
        assert parked.doc_id == old.id and old.number in parked.label
        assert "the period is closed in QuickBooks" in parked.reason and "closing date" in parked.reason
        detail = sync.parked_detail(firm, parked.doc_type, parked.doc_id)
        assert detail.fault_code == "6210" and "2026-06-30" in (detail.response or "")

        await close_books_in_qbo(firm, "2026-03-31")
        assert sync.retry_all(firm) == 1
        again = await sync.run_sync(firm)
        assert again.ok and again.pushed == 1, again.as_json()
        assert (await sync.reconcile(firm)).ok
        assert_exactly_once(sandbox, firm)
    finally:
        firm.close()
