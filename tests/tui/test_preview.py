"""The invoice preview in the TUI: `v` on Billing's invoice row shows the invoice as the client would see it
(escapes shown, never sent to the terminal; no markup read from a name), and Ctrl+R in the invoice form shows
the draft as it would be saved, leaving the form as it was."""

from __future__ import annotations

from core.services import ledger
from tui.modals.invoice import InvoiceModal
from tui.modals.text import TextModal
from tui.screens.billing import BillingScreen
from tui_helpers import choose, ready_firm, retype, screen_text, settle


def _invoice(settings):
    from core.services.context import open_firm

    ready_firm(settings)
    firm = open_firm(settings)
    try:
        client = ledger.add_client(firm, "Acme [bold]Pty[/bold]\x1b[2J", address="1 Main St\nSydney NSW 2000")
        matter = ledger.add_matter(firm, client.id, "Lease review", reference="M-7")
        fee = ledger.list_accounts(firm, subtypes=["fee_income"])[0]
        rates = ledger.list_tax_rates(firm, active_only=True)
        gst = next(r for r in rates if r.rate_ppm)
        free = next(r for r in rates if not r.rate_ppm)
        inv = ledger.create_invoice(firm, client_id=client.id, matter_id=matter.id, date="2026-11-02", lines=[
            {"description": "Advice", "account_id": fee.id, "tax_rate_id": gst.id, "quantity": "2",
             "unit_price": "150.00"},
            {"description": "Search fee", "account_id": fee.id, "tax_rate_id": free.id, "quantity": "1",
             "unit_price": "40.00"}])
        return inv.number, gst, free, fee
    finally:
        firm.close()


async def test_v_previews_the_highlighted_invoice(settings, make_app):
    number, gst, *_ = _invoice(settings)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await pilot.pause()
        billing = app.screen
        assert isinstance(billing, BillingScreen)
        await pilot.press("v")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, TextModal) and modal.page_title == f"Preview: invoice {number}"
        body = modal.body
        assert "Acme [bold]Pty[/bold]\\x1b[2J" in body and "\x1b" not in body
        for shown in (f"INVOICE {number}", "Matter: M-7 Lease review", "Terms: Net 30 days", "Advice", "300.00",
                      "Search fee", "40.00", f"{gst.name} on 300.00", "30.00", "Total AUD", "370.00"):
            assert shown in body, shown
        assert body.splitlines()[-1].split() == ["Balance", "due", "AUD", "370.00"]
        assert all(len(line) <= 70 for line in body.splitlines())  # inside the box at 80 columns, never cut
        text = screen_text(app)
        assert f"INVOICE {number}" in text and "Acme [bold]Pty[/bold]" in text  # no markup read from the name
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is billing
        await pilot.press("2", "v")  # on another tab it says where the invoice is chosen
        await pilot.pause()
        assert app.screen is billing


async def test_ctrl_r_previews_the_draft_in_the_invoice_form(settings, make_app):
    number, gst, free, fee = _invoice(settings)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5", "n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, InvoiceModal)
        await pilot.press("ctrl+r")  # nothing to preview yet: it says why
        await pilot.pause()
        assert app.screen is form
        await choose(pilot, "client", "Acme")
        await retype(pilot, "date", "2026-11-10")
        await retype(pilot, "description", "Conference")
        await retype(pilot, "unit_price", "200")
        await choose(pilot, "tax", gst.name)
        await pilot.press("ctrl+l")
        await retype(pilot, "description", "Copies")
        await retype(pilot, "quantity", "3")
        await retype(pilot, "unit_price", "1.50")
        await choose(pilot, "tax", free.name)
        await pilot.press("ctrl+r")  # the typed line is in the preview too
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, TextModal) and modal.page_title == "Preview: the invoice as it would be saved"
        body = modal.body
        for shown in ("Draft: not saved yet.", "Conference", "200.00", "Copies", "4.50", f"{gst.name} on 200.00",
                      "20.00", "224.50", "Due 2026-12-10"):
            assert shown in body, shown
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is form and len(form.lines) == 1
        assert form.query_one("#description").value == "Copies"
        assert len(ledger.list_invoices(app.firm)) == 1  # nothing saved
