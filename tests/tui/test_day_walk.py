"""A bookkeeper's whole day at 80x24, by keys only, on a demo firm connected to the sandbox with all of it in
QBO: a new client with a matter; an invoice of three lines at two tax rates, saved, then its middle line
changed; a partial payment edited and then deleted; a credit note; a write-off of the rest; a search; a sync;
the sync history; and the reconcile breakdown, which agrees at the end. Each step asserts what the screen shows.

The automatic sync is off here so that the `y` on the monitor is the sync (the history says who ran it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from core.services import ledger
from core.services import sync as sync_service
from core.settings import UISettings
from tui.app import create_app
from tui.modals.confirm import ConfirmModal
from tui.modals.form import FormModal
from tui.modals.invoice import InvoiceModal
from tui.modals.text import TextModal
from tui.screens.billing import BillingScreen
from tui.screens.history import DocHistoryScreen, SyncHistoryScreen
from tui.screens.monitor import SyncMonitorScreen
from tui.screens.reconcile import ReconcileScreen
from tui_helpers import choose, for_sandbox, screen_text, settle, tab_to

CLIENT = "Rivera Ltd"


def _sandboxed():
    """tests/qbo/sync/sandboxed.py: the demo firm connected and mapped as an admin would (loaded by path: that
    folder is another test package)."""
    path = Path(__file__).parents[1] / "qbo" / "sync" / "sandboxed.py"
    spec = importlib.util.spec_from_file_location("day_walk_sandboxed", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def demo_in_qbo(settings, sb) -> None:
    """A small UK demo firm (standard and zero rates charged), connected, mapped, and all of it synced."""
    firm = await _sandboxed().demo_firm(settings, sb, invoices=20, payments=10, credits=3, clients=6)
    try:
        summary = await sync_service.run_sync(firm)
        assert summary.ok and summary.parked == 0, summary
    finally:
        firm.close()


@pytest.fixture
def day_settings(connected_copy):
    s = connected_copy("day-UK", demo_in_qbo, for_sandbox)[0]
    return s.model_copy(update={"ui": UISettings(auto_sync=False)})


async def retype(pilot, widget_id: str, text: str) -> None:
    """Tab to a field, clear it (End, Ctrl+U) and type `text`."""
    await tab_to(pilot, widget_id)
    await pilot.press("end", "ctrl+u", *text)


def cells(table, row: int) -> list[str]:
    return [str(c) for c in table.get_row_at(row)]


async def cursor_to(pilot, table, column: int, text: str) -> list[str]:
    """Down (or Up) the focused table, as a user does, to the first row whose cell `column` reads `text`."""
    target = next(i for i in range(table.row_count) if str(table.get_row_at(i)[column]) == text)
    while table.cursor_row != target:
        await pilot.press("down" if table.cursor_row < target else "up")
    return cells(table, target)


def row_of(table, first_cell: str) -> list[str]:
    for i in range(table.row_count):
        if str(table.get_row_at(i)[0]) == first_cell:
            return cells(table, i)
    raise AssertionError(f"no row {first_cell!r} in #{table.id}")


async def test_a_bookkeepers_day_by_keys(day_settings):
    app = create_app(day_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SyncMonitorScreen)
        assert "Parked 0" in str(app.screen.query_one("#counts").render())
        invoices_before = len(ledger.list_invoices(app.firm))

        # -- a new client with a matter
        await pilot.press("f5")
        await pilot.pause()
        billing = app.screen
        assert isinstance(billing, BillingScreen)
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, FormModal)
        await retype(pilot, "field-name", CLIENT)
        await retype(pilot, "field-matter", "Charter")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is billing
        await pilot.press("4")
        assert row_of(billing.query_one("#client-table"), CLIENT)[1:] == ["", "", "1"]  # one open matter
        await pilot.press("5")
        matter = next(r for r in (cells(billing.query_one("#matter-table"), i)
                                  for i in range(billing.query_one("#matter-table").row_count)) if r[2] == CLIENT)
        assert matter[1:] == ["Charter", CLIENT, "open"]

        # -- an invoice of three lines at two tax rates
        await pilot.press("1", "n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, InvoiceModal)
        await choose(pilot, "client", "Riv")
        await choose(pilot, "matter", matter[0])
        for description, qty, price, rate in (("Advice", "2", "250", "St"), ("Court fee", "1", "80", "Ze"),
                                              ("Drafting", "1.5", "200", "St")):
            await retype(pilot, "description", description)
            if qty != "1":
                await retype(pilot, "quantity", qty)
            await retype(pilot, "unit_price", price)
            await choose(pilot, "tax", rate)
            await pilot.press("ctrl+l")
            await pilot.pause()
        assert form.query_one("#lines").row_count == 3
        assert str(form.query_one("#invoice-total").render()).startswith(
            "Net 880.00 + tax 160.00 = total 1,040.00\nStandard (20%): 160.00 on 800.00")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is billing
        inv = ledger.list_invoices(app.firm)[0]
        assert len(ledger.list_invoices(app.firm)) == invoices_before + 1 and inv.client_name == CLIENT
        table = billing.query_one("#invoice-table")
        assert row_of(table, inv.number)[1:] == [CLIENT, "2026-11-16", "1,040.00", "1,040.00", "to send"]

        # -- edited after saving: the middle line's price changed
        assert table.has_focus
        await cursor_to(pilot, table, 0, inv.number)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, InvoiceModal)
        await tab_to(pilot, "lines")
        await pilot.press("down", "enter")
        await pilot.pause()
        assert form.query_one("#description").value == "Court fee"
        await retype(pilot, "unit_price", "95")
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert [cells(form.query_one("#lines"), i)[1] for i in range(3)] == [
            "Advice", "Court fee", "Drafting"]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is billing
        assert row_of(table, inv.number)[3:5] == ["1,055.00", "1,055.00"]
        assert [l.unit_price_minor for l in ledger.get_invoice(app.firm, inv.id).lines] == [25000, 9500, 20000]

        # -- a partial payment, edited, then deleted
        await cursor_to(pilot, table, 0, inv.number)
        await pilot.press("p")
        await pilot.pause()
        await retype(pilot, "field-amount", "300")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert row_of(table, inv.number)[4] == "755.00"
        await pilot.press("2")
        payments = billing.query_one("#payment-table")
        assert payments.has_focus
        assert (await cursor_to(pilot, payments, 1, CLIENT))[1:5] == [CLIENT, inv.number, "", "300.00"]
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, FormModal)
        await retype(pilot, "field-amount", "400")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert (await cursor_to(pilot, payments, 1, CLIENT))[4] == "400.00"
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "400.00" in app.screen.question
        await pilot.press("y")
        await pilot.pause()
        assert all(cells(payments, i)[1] != CLIENT for i in range(payments.row_count))
        await pilot.press("1")
        assert row_of(table, inv.number)[4] == "1,055.00"
        await cursor_to(pilot, table, 0, inv.number)

        # -- a credit note, then the rest written off
        await pilot.press("c")
        await pilot.pause()
        await retype(pilot, "field-amount", "100")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert row_of(table, inv.number)[4] == "935.00"  # 100.00 + 20% tax credited
        await pilot.press("w")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert row_of(table, inv.number)[4] == "0.00"
        await pilot.press("3")
        credits = billing.query_one("#credit-table")
        mine = [cells(credits, i) for i in range(credits.row_count) if cells(credits, i)[2] == inv.number]
        assert sorted((r[1], r[3]) for r in mine) == [("credit", "120.00"), ("write-off", "935.00")]

        # -- the invoice as the client sees it
        await pilot.press("1")
        await cursor_to(pilot, table, 0, inv.number)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, TextModal)
        body = app.screen.body
        assert f"INVOICE {inv.number}" in body and "Court fee" in body and "95.00" in body
        assert body.splitlines()[-1].split() == ["Balance", "due", "GBP", "0.00"]
        await pilot.press("escape")
        await pilot.pause()

        # -- a search
        listed = table.row_count
        await pilot.press("slash", *"riv", "enter")
        await pilot.pause()
        assert [cells(table, i)[0] for i in range(table.row_count)] == [inv.number]
        assert "Showing the rows with \"riv\"" in screen_text(app)
        await pilot.press("slash", "escape")
        await pilot.pause()
        assert table.row_count == listed > 1

        # -- a sync
        await pilot.press("f4")
        await pilot.pause()
        monitor = app.screen
        assert isinstance(monitor, SyncMonitorScreen)
        assert "Automatic sync: off" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        counts = sync_service.queue_counts(app.firm)
        assert counts.queued == 0 and counts.parked == 0, sync_service.parked(app.firm)
        assert f"Done {counts.done}" in str(monitor.query_one("#counts").render())
        assert app.sync_summary.startswith("Last sync: ") and "0 parked" in app.sync_summary

        # -- the history: who pushed the new invoice, with QBO's id
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, SyncHistoryScreen)
        history = app.screen.query_one("#history-table")
        await pilot.press("slash", *inv.number, "enter")
        await settle(pilot)
        shown = cells(history, 0)
        assert history.row_count == 1 and shown[1:4] == [inv.number, CLIENT, "create"]
        assert shown[5:] == ["done", app.firm.user] and shown[4].isdigit()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DocHistoryScreen)
        entries = app.screen.query_one("#doc-history")
        assert [cells(entries, i)[1:5] for i in range(entries.row_count)] == [
            [app.firm.user, "pushed", "2", shown[4]]]
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert app.screen is monitor

        # -- the reconcile breakdown agrees
        await pilot.press("o")
        await settle(pilot)
        rec = app.screen
        assert isinstance(rec, ReconcileScreen)
        assert str(rec.query_one("#rec-summary").render()).startswith("In agreement:")
        docs = rec.query_one("#rec-docs")
        kinds = {cells(docs, i)[1]: cells(docs, i) for i in range(docs.row_count)}
        assert kinds["Invoices"][0] == "" and kinds["Invoices"][2] == kinds["Invoices"][4]
        assert kinds["Invoices"][3] == kinds["Invoices"][5]
        await pilot.press("2")
        ar = rec.query_one("#rec-ar")
        assert ar.row_count and all(cells(ar, i)[0] == "" for i in range(ar.row_count))
        assert rec.result.ok and not rec.result.missing_in_qbo and not rec.result.different
