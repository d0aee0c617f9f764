"""Everything fits 80 columns and 24 rows (issue 16, item 9): the parked detail's reason wraps, the GL map's Kind
and the accounts' Role columns show in full, the mapper shows whole account names, the connect screen's footer
keeps its keys, and the QR code says when the terminal is too short for it."""

from __future__ import annotations

import pytest

from core.services import ledger, qbo
from tui.app import create_app
from tui.modals.text import TextModal
from tui_helpers import connected_and_mapped, first_invoice_lines, for_sandbox, ready_firm, screen_text, settle


@pytest.fixture
async def sb_settings(settings, sandbox):
    s = for_sandbox(settings, sandbox)
    await connected_and_mapped(s, sandbox)
    return s


async def test_parked_detail_maps_and_kinds_fit_80_columns(sb_settings):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = first_invoice_lines(app.firm)
        qbo.unset_mapping(app.firm, "sales", lines[0]["account_id"])
        client = ledger.add_client(app.firm, "Acme Pty")
        ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-02", lines=lines)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TextModal)
        text = " ".join(line.strip(" │") for line in screen_text(app).splitlines())
        assert "Sales invoice account map" in " ".join(text.split())  # the end of the reason, wrapped not cut
        await pilot.press("escape", "f3")
        await settle(pilot)
        app.screen.show_tab("sales")
        await pilot.pause()
        assert "4010 Legal Fees - Corporate and Commercial" in screen_text(app), screen_text(app)
        app.screen.show_tab("gl")
        await pilot.pause()
        rows = screen_text(app).splitlines()
        assert any(r.rstrip().endswith("Receivable") and r.lstrip().startswith("1200") for r in rows)
        assert any(r.rstrip().endswith("Liability") and r.lstrip().startswith("2200") for r in rows)


async def test_accounts_roles_connect_footer_and_qr_at_80x24(settings, sandbox):
    settings = for_sandbox(settings, sandbox)
    ready_firm(settings)
    app = create_app(settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_step("income_accounts")
        await settle(pilot)
        rows = screen_text(app).splitlines()
        assert any(r.lstrip().startswith("1000") and r.rstrip().endswith("operating bank") for r in rows)
        await pilot.press("escape")
        await pilot.pause()
        app.open_step("qbo_connected")
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "d Disconnect" in footer and "p Access" in footer, footer
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("escape", "k")  # Esc leaves the paste field
        await pilot.pause()
        assert isinstance(app.screen, TextModal)
        assert "This QR code needs" in app.screen.note and "the terminal has 24" in app.screen.note
        assert "This QR code needs" in screen_text(app)  # on screen, above the code, not scrolled away
