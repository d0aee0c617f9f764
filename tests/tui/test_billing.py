"""Bookkeeping by keyboard: a new invoice (its lines checked as they are typed), an edit, a payment, a
write-off, each queued for QBO, then synced from the monitor (the write-off parked until QBO has a bad-debt
product, fixed by following the monitor to the map and refreshing from QBO); and the reports.

`bookkeeping_by_keyboard` is walked by tests/tui/test_full_path.py, after the setup and connection walks."""

from __future__ import annotations

import re

from textual.widgets import Select

from core.services import ledger, qbo
from core.services import sync as sync_service
from tui.app import create_app
from tui.modals.confirm import ConfirmModal
from tui.modals.form import FormModal
from tui.modals.invoice import InvoiceModal
from tui.screens.billing import BillingScreen
from tui.screens.monitor import SyncMonitorScreen
from tui.screens.reports import ReportsScreen
from tui_helpers import choose, first_invoice_lines, ready_firm, retype, screen_text, settle


async def bookkeeping_by_keyboard(pilot) -> None:
    """Client, invoice, edit, payment, write-off, refused delete, sync with a parked write-off fixed, reports."""
    app = pilot.app
    await pilot.press("f5")
    await pilot.pause()
    billing = app.screen
    assert isinstance(billing, BillingScreen)

    await pilot.press("k")
    await pilot.pause()
    await pilot.press(*"Acme Pty", "enter")
    await pilot.pause()
    assert [c.name for c in ledger.list_clients(app.firm)] == ["Acme Pty"]

    # New invoice: problems shown as you type, in the ledger's words.
    await pilot.press("n")
    await pilot.pause()
    modal = app.screen
    assert isinstance(modal, InvoiceModal)
    problems = modal.query_one("#invoice-problems")
    assert "choose the client" in str(problems.render())
    await choose(pilot, "client", "Acme")
    assert modal.query_one("#client", Select).value == ledger.list_clients(app.firm)[0].id
    await retype(pilot, "date", "2026-11-31")
    await pilot.pause()
    assert "date" in str(problems.render()) and "-bad" in problems.classes
    await retype(pilot, "date", "2026-11-02")
    await pilot.press("tab", "tab", "tab")
    assert app.focused.id == "description"  # due date, terms, then not the empty lines table
    line = first_invoice_lines(app.firm)[0]
    code = next(a.code for a in ledger.list_accounts(app.firm) if a.id == line["account_id"])
    rate = next(r.name for r in ledger.list_tax_rates(app.firm) if r.id == line["tax_rate_id"])
    await retype(pilot, "description", "Advice")
    await retype(pilot, "unit_price", "abc")
    await pilot.pause()
    assert "unit price" in str(problems.render())
    assert "total 0.00 (without 1 line with a problem)" in str(modal.query_one("#invoice-total").render())
    await retype(pilot, "unit_price", "150.00")
    await choose(pilot, "account", code)
    await choose(pilot, "tax", rate)
    assert modal.query_one("#account", Select).value == line["account_id"]
    assert modal.query_one("#tax", Select).value == line["tax_rate_id"]
    await pilot.press("ctrl+l")
    await pilot.pause()
    assert modal.lines and "No problems" in str(problems.render())
    assert str(modal.query_one("#invoice-total").render()) == (
        "Net 150.00 + tax 15.00 = total 165.00\nGST (10%): 15.00 on 150.00\nDue 2026-12-02")
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert app.screen is billing
    invoice = ledger.list_invoices(app.firm)[0]
    assert invoice.total_minor == 16500  # 150.00 + 10% GST

    # Edit: the notice says the change goes to QBO; add a second line.
    assert billing.query_one("#invoice-table").has_focus
    await pilot.press("e")
    await pilot.pause()
    modal = app.screen
    assert isinstance(modal, InvoiceModal) and "sends the change to QuickBooks" in str(
        modal.query_one("#invoice-notice").render())
    await retype(pilot, "description", "Filing")
    await retype(pilot, "unit_price", "50")
    await choose(pilot, "tax", rate)  # each line's tax rate is chosen for it, never carried over
    await pilot.press("ctrl+l", "ctrl+s")
    await pilot.pause()
    assert ledger.get_invoice(app.firm, invoice.id).total_minor == 22000

    # Payment of part of it, then a write-off of the rest.
    await pilot.press("p")
    await pilot.pause()
    assert isinstance(app.screen, FormModal)
    await retype(pilot, "field-amount", "100.00")
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert app.screen is billing
    assert ledger.get_invoice(app.firm, invoice.id).open_balance_minor == 12000
    await pilot.press("w")
    await pilot.pause()
    assert "WO-" in str(app.screen.query_one("#form-note").render())
    await pilot.press("ctrl+s")
    await pilot.pause()
    notes = ledger.list_credit_notes(app.firm)
    assert len(notes) == 1 and notes[0].number.startswith("WO-") and notes[0].kind == "writeoff"
    assert ledger.get_invoice(app.firm, invoice.id).open_balance_minor == 0
    assert billing.query_one("#credit-table").row_count == 1

    # A delete is refused while payments are applied, with the ledger's reason.
    await pilot.press("x")
    await pilot.pause()
    assert isinstance(app.screen, ConfirmModal) and "sent to QBO" in app.screen.question
    await pilot.press("y")
    await pilot.pause()
    assert ledger.get_invoice(app.firm, invoice.id).status == "posted"

    # Everything synced from the monitor, in the background.
    await pilot.press("f4")
    await pilot.pause()
    assert isinstance(app.screen, SyncMonitorScreen)
    await pilot.press("y")
    await settle(pilot)
    monitor = app.screen
    # The write-off parks: QBO needs a product/service posting to the bad-debt account. `c` on it creates
    # one (after a confirmation) and queues the write-off again; `y` sends it.
    parked = sync_service.parked(app.firm)
    assert [p.doc_type for p in parked] == ["credit_note"] and "ledgerlink map writeoff" in parked[0].reason
    await pilot.press("c")
    await pilot.pause()
    assert isinstance(app.screen, ConfirmModal) and "Bad debt written off" in app.screen.question
    assert "The parked write-off is then sent with the next sync." in app.screen.question  # no "(s)"
    await pilot.press("y")
    await settle(pilot)
    assert app.screen is monitor
    assert sync_service.queue_counts(app.firm).parked == 0
    items = [o.name for o in qbo.list_options(app.firm, "sales")]
    assert "Bad debt written off" in items
    await pilot.press("y")
    await settle(pilot)
    counts = sync_service.queue_counts(app.firm)
    assert counts.queued == 0 and counts.parked == 0 and counts.done == 3, (counts, sync_service.parked(app.firm))
    await pilot.press("f5")
    await pilot.pause()
    invoice_row = billing.query_one("#invoice-table").get_row_at(0)
    assert invoice_row[-1] == "in QBO"

    # Reports: trial balance balances; reconcile reads QBO back.
    await pilot.press("f6")
    await pilot.pause()
    reports = app.screen
    assert isinstance(reports, ReportsScreen)
    tb = ledger.trial_balance(app.firm)
    assert tb.total_debit_minor == tb.total_credit_minor
    await pilot.press("o")
    await settle(pilot)
    assert re.search(r"\b\d+ documents? checked\.", str(reports.query_one("#reconcile-result").render()))


async def test_a_firm_without_clients_is_told_which_key_adds_one(settings):
    # At 80 columns the footer is cut before `k New client`, and the note listed every key but that one.
    ready_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await pilot.pause()
        assert "No clients yet: k adds one, then n writes an invoice." in screen_text(app)
        await pilot.press("k", *"Acme Pty", "enter")
        await pilot.pause()
        assert "0 invoices. n new" in screen_text(app)


async def test_escape_asks_before_it_drops_what_was_typed_in_an_invoice(settings):
    ready_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        ledger.add_client(app.firm, "Acme Pty")
        await pilot.press("f5", "n")
        await pilot.pause()
        assert isinstance(app.screen, InvoiceModal)
        await pilot.press("escape")  # nothing typed: it just closes
        await pilot.pause()
        assert isinstance(app.screen, BillingScreen)
        await pilot.press("n")
        await pilot.pause()
        await retype(pilot, "description", "Advice on the merger")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "Leave without saving this new invoice?" in app.screen.question
        await pilot.press("n")  # back to the invoice, the line still there
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, InvoiceModal) and modal.query_one("#description").value == "Advice on the merger"
        await pilot.press("escape", "y")
        await pilot.pause()
        assert isinstance(app.screen, BillingScreen) and ledger.list_invoices(app.firm) == []
