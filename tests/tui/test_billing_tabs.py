"""Billing's Payments and Credit notes tabs act on their own highlighted row: open, edit, delete, with
confirmations that name the document (issue 16, item 1)."""

from __future__ import annotations

import contextlib

import pytest

from core.services import ledger
from tui.modals.confirm import ConfirmModal
from tui.modals.form import FormModal
from tui.screens.billing import BillingScreen
from tui_helpers import ready_firm, retype, screen_text, settle


def billed(firm) -> tuple[int, int, int]:
    """Two invoices of one client; a payment of 40.00 on the first; a credit note on the second."""
    client = ledger.add_client(firm, "Acme Pty")
    fee = ledger.list_accounts(firm, types=["Income"])[0]
    rate = next(r for r in ledger.list_tax_rates(firm, active_only=True) if r.rate_ppm)
    line = {"description": "Advice", "account_id": fee.id, "tax_rate_id": rate.id, "quantity": "1",
            "unit_price": "100.00"}
    first = ledger.create_invoice(firm, client_id=client.id, date="2026-11-02", lines=[line])
    second = ledger.create_invoice(firm, client_id=client.id, date="2026-11-03", lines=[line])
    bank = ledger.list_bank_accounts(firm, "operating")[0]
    pay = ledger.record_payment(firm, client_id=client.id, date="2026-11-05", amount="40.00",
                                bank_account_id=bank.id, allocations=[(first.id, "40.00")], reference="CHQ-881")
    note = ledger.issue_credit_note(firm, invoice_id=second.id, date="2026-11-06", kind="credit", amount="10.00")
    return first.id, pay.id, note.id


@contextlib.asynccontextmanager
async def billed_app(settings):
    """The app at 80x24 on a ready firm that `billed` filled: (app, pilot, (invoice, payment, credit note ids))."""
    ready_firm(settings)
    from tui.app import create_app

    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        yield app, pilot, billed(app.firm)


def said(app) -> str:
    """Every notification the app has shown, as one text."""
    return " ".join(str(n.message) for n in app._notifications)


@pytest.mark.every_frame  # painted frame by frame, as the terminal does
async def test_payment_and_credit_tabs_act_on_their_own_rows(settings):
    async with billed_app(settings) as (app, pilot, (first_id, pay_id, note_id)):
        await pilot.press("f5")
        await pilot.pause()
        billing = app.screen
        assert isinstance(billing, BillingScreen)
        await pilot.press("2")
        await pilot.pause()
        text = screen_text(app)
        assert "INV-00001" in text and "CHQ-881" in text  # the payment names its invoice and reference

        # e on the Payments tab edits the payment, not the invoice of tab 1.
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormModal) and "CHQ-881" in form.form_title
        await retype(pilot, "field-amount", "30.00")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is billing
        assert ledger.get_payment(app.firm, pay_id).amount_minor == 3000
        assert billing.query_one("#billing-tabs").active == "payments"

        # x on the Payments tab asks about the payment by name, and deletes it.
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "payment CHQ-881" in app.screen.question and "INV-00001?" not in app.screen.question
        await pilot.press("y")
        await pilot.pause()
        assert ledger.get_payment(app.firm, pay_id).status != "posted"
        assert ledger.get_invoice(app.firm, first_id).status == "posted"

        # The Credit notes tab: e edits the credit note, x deletes it, each naming CR-00001.
        await pilot.press("3")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormModal) and "CR-00001" in form.form_title
        await retype(pilot, "field-amount", "5.00")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert ledger.get_credit_note(app.firm, note_id).amount_minor == 500
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "credit note CR-00001" in app.screen.question
        await pilot.press("y")
        await pilot.pause()
        assert ledger.get_credit_note(app.firm, note_id).status != "posted"
        assert all(i.status == "posted" for i in ledger.list_invoices(app.firm))


async def test_keys_on_an_empty_tab_say_so_and_never_touch_an_invoice(settings):
    async with billed_app(settings) as (app, pilot, _):
        ledger.delete_payment(app.firm, ledger.list_payments(app.firm)[0].id)
        await pilot.press("f5", "2", "x")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal)
        assert app.screen.query_one("#billing-tabs").active == "payments"
        assert "There is no payment" in said(app)


async def test_v_voids_the_highlighted_invoice_or_payment_which_stays_listed_and_cannot_be_changed(settings):
    async with billed_app(settings) as (app, pilot, (first_id, pay_id, _)):
        await pilot.press("f5", "2")
        await pilot.pause()
        billing = app.screen

        # The payment first: the confirmation names it; voided, it stays listed as void and pays nothing.
        await pilot.press("V")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "Void payment CHQ-881" in app.screen.question
        await pilot.press("y")
        await pilot.pause()
        assert ledger.get_payment(app.firm, pay_id).status == "voided"
        assert ledger.get_invoice(app.firm, first_id).open_balance_minor == ledger.get_invoice(
            app.firm, first_id).total_minor
        row = next(line for line in screen_text(app).splitlines() if "CHQ-881" in line)
        assert "void" in row and "0.00" in row
        await pilot.press("e")
        await pilot.pause()
        assert app.screen is billing  # no form for a voided payment
        assert "Payment CHQ-881 was voided" in said(app)

        # The invoice with a credit note applied is refused with the ledger's reason; the other is voided.
        await pilot.press("1")
        await pilot.pause()
        table = billing.query_one("#invoice-table")
        numbers = [inv.number for inv in billing.invoices]
        table.move_cursor(row=numbers.index("INV-00002"))
        await pilot.press("V", "y")
        await pilot.pause()
        assert ledger.get_invoice(app.firm, billing.invoices[numbers.index("INV-00002")].id).status == "posted"
        assert "credit note applied" in said(app)
        table.move_cursor(row=numbers.index("INV-00001"))
        await pilot.press("V")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "Void invoice INV-00001" in app.screen.question
        await pilot.press("y")
        await pilot.pause()
        assert ledger.get_invoice(app.firm, first_id).status == "voided"
        row = next(line for line in screen_text(app).splitlines() if "INV-00001" in line)
        assert "void" in row and "0.00" in row

        # Credit notes have no void in QuickBooks: the key says so and changes nothing.
        await pilot.press("3", "V")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal)
        assert "no void for a credit note" in said(app)
