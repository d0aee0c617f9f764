"""Closed books in QuickBooks: an invoice dated in the closed period parks with a reason that says what to do,
keeps QBO's fault for support, and goes once the books are reopened and it is retried; nothing is duplicated."""

from __future__ import annotations

from core.ledger import billing
from core.ledger.firm import add_client
from core.services import sync

from .sandboxed import fee_line, in_qbo, small_firm
from .test_sandbox_sync import assert_exactly_once


async def close_books_in_qbo(firm, close_date: str) -> None:
    """What the firm's accountant does in QuickBooks (Account and settings > Advanced > Close the books)."""
    async def close(client):
        prefs = await client.preferences()
        await client.create("Preferences", {"SyncToken": prefs["SyncToken"], "sparse": True,
                                            "AccountingInfoPrefs": {"BookCloseDate": close_date}}, requestid=None)
    await in_qbo(firm, close)


async def test_an_invoice_in_a_closed_period_parks_until_the_books_reopen(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        client = add_client(firm, "Late Filer Ltd").id
        old = billing.create_invoice(firm, client_id=client, date="2026-04-01", lines=[fee_line(firm)])
        billing.create_invoice(firm, client_id=client, date="2026-08-01", lines=[fee_line(firm)])
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
