"""The checklist tells the truth (issue 16, item 2 and the "Done:" of item 11): a map step is done only when every
account and tax rate a waiting or future document uses is mapped, and it names the ones that are not; a map that
lets documents through with a known difference is Check, never Done."""

from __future__ import annotations

import pytest

from core.services import ledger, qbo
from core.services import setup as setup_service
from tui.app import create_app
from tui_helpers import connected_and_mapped, first_invoice_lines, for_sandbox, screen_text, settle


@pytest.fixture
async def sb_settings(settings, sandbox):
    s = for_sandbox(settings, sandbox)
    await connected_and_mapped(s, sandbox)
    return s


def steps(firm) -> dict:
    return {s.id: s for s in setup_service.checklist(firm)}


async def test_map_steps_name_what_waiting_and_future_documents_need(sb_settings):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        firm = app.firm
        assert steps(firm)["map_sales"].state == "done"
        # A fee-income account unmapped: every future invoice may use it, so the step is to do and names it.
        fee = next(r for r in qbo.list_map(firm, "sales") if r.role == "income" and r.status == "mapped")
        qbo.unset_mapping(firm, "sales", fee.ledger_id)
        # An invoice on an account no future invoice needs (interest), waiting for QBO, unmapped.
        interest = next(a for a in ledger.list_accounts(firm, types=["Other Income"]))
        assert next(r for r in qbo.list_map(firm, "sales") if r.ledger_id == interest.id).status == "unmapped"
        client = ledger.add_client(firm, "Acme Pty")
        line = first_invoice_lines(firm)[0]
        ledger.create_invoice(firm, client_id=client.id, date="2026-11-02",
                              lines=[line, {**line, "account_id": interest.id}])
        await pilot.press("f2")
        await pilot.pause()
        step = steps(firm)["map_sales"]
        assert step.state == "missing"
        assert f"{fee.ledger_key} {fee.ledger_name}" in step.message
        assert f"{interest.code} {interest.name} (used by waiting documents)" in step.message
        assert "Legal Fees" in screen_text(app) and "Open Mapping › Sales invoice account map" in screen_text(app)


async def test_a_tax_rate_that_differs_is_check_not_done(sb_settings):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        firm = app.firm
        gst = next(r for r in qbo.list_map(firm, "tax") if r.status == "mapped" and r.role == "rate")
        # the ledger's GST becomes 12%: QBO's 10% code still takes it, but the totals will differ
        firm.db.execute("UPDATE tax_rates SET rate_ppm = 120000 WHERE id = ?", [gst.ledger_id])
        step = steps(firm)["map_tax"]
        assert step.state == "warning" and "will differ" in step.message
        await pilot.press("f3")
        await settle(pilot)
        app.screen.show_tab("tax")
        await pilot.pause()
        text = screen_text(app)
        assert "Check: " in text and "Done: " + gst.ledger_name not in text


async def test_enter_or_f_on_a_failing_map_step_opens_its_tab_on_the_row_to_fix(sb_settings):
    from textual.widgets import DataTable, OptionList

    from tui.screens.mapper import MapperScreen
    from tui.widgets.vlist import VirtualList

    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        firm = app.firm
        fees = [r for r in qbo.list_map(firm, "sales") if r.role == "income" and r.status == "mapped"]
        target = fees[2]  # not the first row, where the cursor starts
        qbo.unset_mapping(firm, "sales", target.ledger_id)
        gst = [r for r in qbo.list_map(firm, "tax") if r.status == "mapped"][-1]  # not the first row either
        qbo.unset_mapping(firm, "tax", gst.ledger_id)
        step = steps(firm)["map_sales"]
        assert step.fix.as_json() == {"screen": "mapping", "tab": "sales",
                                      "command": "ledgerlink map suggest sales --apply", "key": None,
                                      "row": target.ledger_id}
        await pilot.press("f2")
        await settle(pilot)
        ids = [s.id for s in app.screen.steps]
        app.screen.query_one(OptionList).highlighted = ids.index("map_sales")
        await pilot.press("enter")
        await settle(pilot)
        mapper = app.screen
        assert isinstance(mapper, MapperScreen) and mapper.tab == "sales"
        assert mapper.query_one("#sales-left", VirtualList).current.key == str(target.ledger_id)
        text = screen_text(app)
        assert f"{target.ledger_name} is not mapped" in text and "Mapping ›" not in text  # it is here

        await pilot.press("f2")
        await settle(pilot)
        app.screen.query_one(OptionList).highlighted = ids.index("map_tax")
        await pilot.press("f")
        await settle(pilot)
        assert app.screen is mapper and mapper.tab == "tax"
        table = mapper.query_one("#tax-rows", DataTable)
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == str(gst.ledger_id)
