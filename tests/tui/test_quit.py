"""Quitting never loses work silently and never hangs (issue 16, items 4 and 5): Ctrl+Q during a sync says
so at once and stops it (the rest goes with the next sync); Ctrl+Q with an unsaved invoice asks; Esc on the
payment and credit-note forms asks when something was typed."""

from __future__ import annotations

import asyncio

import pytest

from core.services import ledger
from core.services.context import open_firm
from core.services import sync as sync_service
from tui.app import create_app
from tui.modals.confirm import ConfirmModal
from tui.modals.form import FormModal
from tui.modals.invoice import InvoiceModal
from tui.screens.billing import BillingScreen
from tui_helpers import connected_and_mapped, first_invoice_lines, for_sandbox, ready_firm, retype, settle


@pytest.fixture
async def sb_settings(settings, sandbox):
    s = for_sandbox(settings, sandbox)
    await connected_and_mapped(s, sandbox)
    return s


async def test_ctrl_q_during_a_sync_says_so_and_stops_it(sb_settings, sandbox):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        client = ledger.add_client(app.firm, "Acme Pty")
        for _ in range(3):
            ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-02",
                                  lines=first_invoice_lines(app.firm))
        sandbox.state.set_faults("latency=4@every:1/write")  # every write answers after 4 s
        await pilot.press("y")
        for _ in range(50):
            await pilot.pause(0.05)
            if app.stop_sync is not None and app.sync_event is not None:
                break
        assert app.sync_running
        workers = [w for w in app.workers if w.group == "sync"]
        await pilot.press("ctrl+q")
        assert any("Stopping the sync" in n.message for n in app._notifications)
        # The worker ends, and the app with it, well before even one slow write would have answered.
        await asyncio.wait_for(asyncio.gather(*(w.wait() for w in workers), return_exceptions=True), 3)
        for _ in range(20):
            if app._exit:
                break
            await asyncio.sleep(0.05)
        assert app._exit
    sandbox.state.set_faults("")
    firm = open_firm(sb_settings)
    try:
        counts = sync_service.queue_counts(firm)
        assert counts.queued + counts.sending >= 1  # what was not sent waits for the next sync
    finally:
        firm.close()


async def test_ctrl_q_asks_before_it_drops_an_unsaved_invoice(settings):
    ready_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        ledger.add_client(app.firm, "Acme Pty")
        await pilot.press("f5", "n")
        await pilot.pause()
        assert isinstance(app.screen, InvoiceModal)
        await retype(pilot, "description", "Advice")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "Quit without saving this new invoice?" in app.screen.question
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, InvoiceModal) and app.is_running


@pytest.mark.parametrize("key,title", [("p", "Payment of INV-00001"), ("c", "Credit note on INV-00001")])
async def test_escape_on_payment_and_credit_forms_asks_when_something_was_typed(settings, key, title):
    ready_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        client = ledger.add_client(app.firm, "Acme Pty")
        fee = ledger.list_accounts(app.firm, types=["Income"])[0]
        rate = next(r for r in ledger.list_tax_rates(app.firm, active_only=True) if r.rate_ppm)
        ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-02", lines=[
            {"description": "Advice", "account_id": fee.id, "tax_rate_id": rate.id, "quantity": "1",
             "unit_price": "100.00"}])
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, FormModal) and app.screen.form_title.startswith(title)
        await pilot.press("escape")  # nothing typed: closes
        await pilot.pause()
        assert isinstance(app.screen, BillingScreen)
        await pilot.press(key)
        await pilot.pause()
        await retype(pilot, "field-amount", "12.34")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and f'Leave "{title}' in app.screen.question
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, FormModal) and app.screen.query_one("#field-amount").value == "12.34"
        await pilot.press("escape", "y")
        await pilot.pause()
        assert isinstance(app.screen, BillingScreen)
