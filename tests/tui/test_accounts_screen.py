"""The Accounts screen (F8) at 80x24: an account added, renamed and deactivated by keys, the confirmation naming it,
a refusal shown in words; the new account unmapped in the sales map and the checklist's map step back to not done;
`m` refreshes from QBO and opens the map on the row, with QBO's new name of a renamed QBO account."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.widgets import DataTable

from core.services import accounts, ledger, qbo
from core.services.setup import checklist
from tui.app import create_app
from tui.modals.confirm import ConfirmModal
from tui.modals.form import FormModal
from tui.screens.accounts import ChartScreen
from tui.screens.mapper import MapperScreen
from tui_helpers import connected_and_mapped, first_invoice_lines, for_sandbox, settle


@pytest.fixture
def sb(connected_copy):
    """(settings, sandbox) of the test's own copy of the AU firm, connected with every map done."""
    return connected_copy("tui-AU", connected_and_mapped, for_sandbox)


def steps(firm) -> dict:
    return {s.id: s for s in checklist(firm)}


async def highlight(pilot, screen: ChartScreen, ledger_id: int) -> None:
    """Move the cursor with Up to the top, then Down to the row of `ledger_id`, as a user does."""
    table = screen.query_one("#chart-rates" if screen.tab == "rates" else "#chart-accounts", DataTable)
    await pilot.press(*["up"] * table.cursor_row)
    for _ in range(200):
        row = screen.current()
        if row is not None and (row.rate.id if isinstance(row, accounts.TaxRateRow) else row.account.id) == ledger_id:
            return
        await pilot.press("down")
    raise AssertionError(f"no row {ledger_id}: focus {pilot.app.focused}, at {screen.current()}")


def notes(app) -> str:
    return " ".join(str(n.message) for n in app._notifications)


async def test_add_rename_deactivate_by_keys_and_the_maps_follow(sb):
    s, _sandbox = sb
    app = create_app(s, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        firm = app.firm
        assert steps(firm)["map_sales"].state == "done"
        await pilot.press("f8")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChartScreen)

        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, FormModal)
        await pilot.press(*"4990", "tab", *"Fees - Mediation", "ctrl+s")
        await settle(pilot)
        added = accounts.find_account(firm, "4990")
        assert (added.name, added.type, added.subtype, added.active) == ("Fees - Mediation", "Income", "fee_income", True)
        row = screen.account_rows[added.id]
        assert (row.map_kind, row.map_status) == ("sales", "unmapped")
        assert "unmapped" in [str(c) for c in screen.query_one("#chart-accounts", DataTable).get_row(str(added.id))]
        step = steps(firm)["map_sales"]
        assert step.state == "missing" and "4990 Fees - Mediation" in step.message
        assert any(r.ledger_id == added.id and r.status == "unmapped" for r in qbo.list_map(firm, "sales"))

        await highlight(pilot, screen, added.id)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, FormModal)
        await pilot.press("end", *" (ADR)", "ctrl+s")
        await settle(pilot)
        assert ledger.get_account(firm, added.id).name == "Fees - Mediation (ADR)"
        assert next(r for r in qbo.list_map(firm, "sales") if r.ledger_id == added.id).ledger_name == \
            "Fees - Mediation (ADR)"

        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "Deactivate the account 4990 Fees - Mediation (ADR)?" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert not ledger.get_account(firm, added.id).active
        cells = screen.query_one("#chart-accounts", DataTable).get_row(str(added.id))
        assert all(isinstance(c, Text) and c.style == "dim" for c in cells)  # still listed, dimmed
        assert added.id not in [r.ledger_id for r in qbo.list_map(firm, "sales")]
        assert steps(firm)["map_sales"].state == "done"  # an inactive account needs no map
        assert [e.action for e in ledger.list_audit(firm, limit=3)] == [
            "set_account_active", "rename_account", "add_account"]

        # a refusal is shown in words, nothing changes, the screen stays
        bank_gl = ledger.list_bank_accounts(firm, "operating")[0].gl_account_id
        await highlight(pilot, screen, bank_gl)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert "ledger account of the bank account" in notes(app)
        assert ledger.get_account(firm, bank_gl).active and app.screen is screen

        await pilot.press("x")
        await pilot.pause()
        assert "Delete the account " in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert "cannot be deleted: it is used by" in notes(app) and "bank account" in notes(app)


async def test_m_refreshes_from_qbo_and_opens_the_map_on_the_row_with_qbos_new_name(sb):
    s, _sandbox = sb
    app = create_app(s, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        firm = app.firm
        bank_gl = ledger.list_bank_accounts(firm, "operating")[0].gl_account_id
        mapped = next(r for r in qbo.list_map(firm, "gl") if r.ledger_id == bank_gl)
        assert mapped.status == "mapped"
        client = await qbo.open_client(firm)
        async with client:
            acct = (await client.query(f"SELECT * FROM Account WHERE Id = '{mapped.qbo_id}'"))["Account"][0]
            await client.sparse_update("Account", {"Id": acct["Id"], "SyncToken": acct["SyncToken"],
                                                   "Name": "Ops renamed in QBO"}, requestid="rename-acct-1")
        await pilot.press("f8")
        await settle(pilot)
        screen = app.screen
        await highlight(pilot, screen, bank_gl)
        await pilot.press("m")
        await settle(pilot)
        mapper = app.screen
        assert isinstance(mapper, MapperScreen) and mapper.tab == "gl"
        table = mapper.query_one("#gl-rows", DataTable)
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == str(bank_gl)
        assert "Ops renamed in QBO" in str(table.get_row(str(bank_gl))[1])

        # a new tax rate shows unmapped in the tax map and the tax step goes back to not done
        assert steps(firm)["map_tax"].state == "done"
        await pilot.press("f8")
        await settle(pilot)
        await pilot.press("2", "a")
        await pilot.pause()
        await pilot.press(*"Levy (3%)", "tab", *"3", "ctrl+s")
        await settle(pilot)
        levy = accounts.find_tax_rate(firm, "Levy (3%)")
        assert screen.rate_rows[levy.id].map_status == "unmapped"
        assert steps(firm)["map_tax"].state == "missing" and "Levy (3%)" in steps(firm)["map_tax"].message
        await highlight(pilot, screen, levy.id)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, MapperScreen) and app.screen.tab == "tax"
        table = app.screen.query_one("#tax-rows", DataTable)
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == str(levy.id)


async def test_a_used_rate_offers_deactivate_and_add_instead_of_a_new_percentage(sb):
    s, _sandbox = sb
    app = create_app(s, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        firm = app.firm
        lines = first_invoice_lines(firm)
        ledger.create_invoice(firm, client_id=ledger.add_client(firm, "Acme Pty").id, date="2026-11-02", lines=lines)
        used = ledger.get_tax_rate(firm, lines[0]["tax_rate_id"])
        await pilot.press("f8")
        await settle(pilot)
        screen = app.screen
        await pilot.press("2")
        await highlight(pilot, screen, used.id)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert f"Tax rate {used.name} is used by 1 invoice line: its percentage cannot change" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert not ledger.get_tax_rate(firm, used.id).active
        assert isinstance(app.screen, FormModal) and app.screen.form_title == "Add a sales tax rate"
        await pilot.press(*"GST (11%)", "tab", *"11", "ctrl+s")
        await settle(pilot)
        new = accounts.find_tax_rate(firm, "GST (11%)")
        assert new.rate_percent == "11" and new.active
        assert ledger.get_tax_rate(firm, used.id).rate_percent == used.rate_percent  # history untouched
