"""The sync history and the reconcile breakdown, reached from the sync monitor by keys at 80x24.

History: an invoice parked (its income account unmapped), retried by hand and pushed shows who ran each sync,
QBO's id, and its park reason's life; a run the app starts by itself says "automatic". Reconcile: an invoice
the sync has not sent shows as a difference in the documents table and the client's receivable; after a sync
the breakdown agrees."""

from __future__ import annotations

import pytest

from core.services import history, ledger, qbo
from core.services import sync as sync_service
from tui.app import create_app
from tui.format import money_text
from tui.screens.history import DocHistoryScreen, SyncHistoryScreen
from tui.screens.monitor import SyncMonitorScreen
from tui.screens.reconcile import ReconcileScreen
from tui_helpers import connected_and_mapped, first_invoice_lines, for_sandbox, screen_text, settle


@pytest.fixture
def sb_settings(connected_copy):
    return connected_copy("tui-AU", connected_and_mapped, for_sandbox)[0]


def rows(table) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_history_names_who_pushed_and_each_park_reason(sb_settings):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SyncMonitorScreen)
        user = app.firm.user
        lines = first_invoice_lines(app.firm)
        account_id = lines[0]["account_id"]
        qbo_id = next(r.qbo_id for r in qbo.list_map(app.firm, "sales") if r.ledger_id == account_id)
        qbo.unset_mapping(app.firm, "sales", account_id)
        client = ledger.add_client(app.firm, "Acme [b]Pty[/b]")
        inv = ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-02", lines=lines)
        other = ledger.add_client(app.firm, "Borealis Ltd")
        ledger.create_invoice(app.firm, client_id=other.id, date="2026-11-03", lines=lines)
        await pilot.press("y")
        await settle(pilot)
        assert sync_service.queue_counts(app.firm).parked == 2
        qbo.set_mapping(app.firm, "sales", account_id, qbo_id)
        await pilot.press("r")  # retry the first parked one by hand
        await settle(pilot)
        assert app.sync_if_queued()  # and the app pushes it by itself, as a save wakes it
        await settle(pilot)

        await pilot.press("h")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SyncHistoryScreen)
        table = screen.query_one("#history-table")
        shown = rows(table)
        first = next(r for r in shown if r[1] == inv.number)
        link = sync_service.history(app.firm, "invoice", inv.id)[-1]
        assert first[2].startswith("Acme [b]Pty") and first[3] == "create" and first[5] == "done"
        assert first[6] == "automatic" and first[4] == history.document(app.firm, "invoice", inv.id).doc.qbo_id
        assert link["actor"] == "automatic"
        text = screen_text(app)
        assert inv.number in text and "automatic" in text

        # / searches by client; Enter opens the document's own history
        await pilot.press("slash", *"acme", "enter")
        await settle(pilot)
        assert [r[1] for r in rows(table)] == [inv.number]
        await pilot.press("enter")
        await settle(pilot)
        doc = app.screen
        assert isinstance(doc, DocHistoryScreen)
        entries = rows(doc.query_one("#doc-history"))
        assert [(e[1], e[2]) for e in entries] == [(user, "parked"), (user, "retried"), ("automatic", "pushed"),
                                                   ("automatic", "resolved")]
        assert entries[0][5].startswith("Account 4000 Legal Fees")
        assert "Sales invoice account map" in str(doc.query_one("#doc-detail").render())  # the whole reason
        assert entries[2][4] == first[4]  # QBO's id
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SyncMonitorScreen)


async def test_reconcile_breakdown_lists_what_differs_then_agrees(sb_settings):
    app = create_app(sb_settings, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        client = ledger.add_client(app.firm, "Acme Pty")
        first = ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-02",
                                      lines=first_invoice_lines(app.firm))
        await pilot.press("y")
        await settle(pilot)
        inv = ledger.create_invoice(app.firm, client_id=client.id, date="2026-11-04",
                                    lines=first_invoice_lines(app.firm))  # not sent yet
        bank = ledger.list_bank_accounts(app.firm)[0]
        ledger.record_payment(app.firm, client_id=client.id, date="2026-11-05", amount="100.00",
                              bank_account_id=bank.id, allocations=[(first.id, "100.00")], reference="DEP-1")
        await pilot.press("o")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReconcileScreen)
        summary = str(screen.query_one("#rec-summary").render())
        assert summary.startswith("Differences: 2 documents, 1 receivable, 0 income, 0 trust"), summary
        docs = rows(screen.query_one("#rec-docs"))
        invoices = next(r for r in docs if r[1] == "Invoices")
        total = ledger.get_invoice(app.firm, inv.id).total_minor
        assert invoices[0] == "≠" and invoices[2] == "2" and invoices[4] == "1"
        assert invoices[3] == money_text(2 * total) and invoices[5] == money_text(total)
        assert any(r[1] == f"invoice {inv.number}" and r[2] == "missing in QBO" for r in docs)
        assert any(r[1] == "payment DEP-1" and r[3] == "100.00" for r in docs)
        await pilot.press("2")
        ar = rows(screen.query_one("#rec-ar"))
        # the ledger's open balance of the invoice QBO holds is 100.00 lower: QBO has not had the payment
        assert ar[0][:5] == ["≠", "Acme Pty", money_text(total - 10000), money_text(total), "100.00"]
        await pilot.press("3")
        income = rows(screen.query_one("#rec-income"))
        assert income and all(r[0] == "" and r[2] == r[3] for r in income)  # the unsent invoice is not counted
        await pilot.press("4")
        assert rows(screen.query_one("#rec-trust"))[0][:2] == ["", "agrees"]  # no client money here
        await pilot.press("2")
        text = screen_text(app)
        assert "Differences:" in text and "Acme Pty" in text and "≠" in text

        await pilot.press("escape", "y")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        screen = app.screen
        assert str(screen.query_one("#rec-summary").render()).startswith("In agreement:")
        docs = rows(screen.query_one("#rec-docs"))
        assert all(r[0] == "" for r in docs) and next(r for r in docs if r[1] == "Invoices")[2:5:2] == ["2", "2"]
        assert all(r[0] == "" for r in rows(screen.query_one("#rec-ar")))


def test_reconcile_command_prints_and_carries_the_breakdown(connected_copy, monkeypatch, capsys):
    import json

    from core.cli import main
    from core.services.context import open_firm

    s, sb = connected_copy("tui-AU", connected_and_mapped, for_sandbox)
    firm = open_firm(s)
    try:
        client = ledger.add_client(firm, "Acme Pty")
        ledger.create_invoice(firm, client_id=client.id, date="2026-11-02", lines=first_invoice_lines(firm))
    finally:
        firm.close()
    monkeypatch.setenv("LEDGERLINK_DB", str(s.db))
    for key, value in (("ENVIRONMENT", "local"), ("API_BASE", sb.base_url), ("CLIENT_ID", sb.client_id),
                       ("CLIENT_SECRET", sb.client_secret), ("REDIRECT_URI", sb.redirect_uri)):
        monkeypatch.setenv(f"LEDGERLINK_QBO__{key}", value)
    assert main(["reconcile"]) == 1  # the invoice is not in QuickBooks yet
    out = capsys.readouterr().out
    assert "missing in QuickBooks: invoice INV-00001" in out
    assert "  invoices: ledger 1 (330.00), QuickBooks 0 (0.00)" in out
    assert main(["sync"]) == 0
    capsys.readouterr()
    assert main(["reconcile", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and {"missing_in_qbo", "ar", "income", "trust"} <= set(data)  # the old keys stay
    docs = {d["doc_type"]: d for d in data["breakdown"]["documents"]}
    assert docs["invoice"] == {"doc_type": "invoice", "entity": "Invoice", "ledger_count": 1,
                               "ledger_total_minor": 33000, "qbo_count": 1, "qbo_total_minor": 33000,
                               "differences": 0}
    assert data["breakdown"]["ar"] == [{"client_id": client.id, "client": "Acme Pty", "qbo_customer_id":
                                        data["breakdown"]["ar"][0]["qbo_customer_id"], "ledger_minor": 33000,
                                        "qbo_minor": 33000, "difference_minor": 0}]
    assert [i["difference_minor"] for i in data["breakdown"]["income"]] == [0]


async def test_a_long_history_shows_the_newest_and_the_search_reaches_the_rest(settings, make_app, monkeypatch):
    from core.qbo import sync_store as S  # the records as the sync writes them
    from core.services.context import open_firm
    from tui.screens import history as history_screen
    from tui_helpers import ready_firm

    ready_firm(settings)
    firm = open_firm(settings)
    try:
        fee = ledger.list_accounts(firm, subtypes=["fee_income"])[0]
        rate = ledger.list_tax_rates(firm, active_only=True)[0]
        numbers = []
        for n, name in enumerate(("Acme Pty", "Borealis Ltd", "Cobalt & Co")):
            client = ledger.add_client(firm, name)
            inv = ledger.create_invoice(firm, client_id=client.id, date="2026-11-02", lines=[
                {"description": "Advice", "account_id": fee.id, "tax_rate_id": rate.id, "quantity": "1",
                 "unit_price": "10.00"}])
            numbers.append(inv.number)
            S.add_record(firm.db, doc_type="invoice", doc_id=inv.id, version=1, operation="invoice:create",
                         request_id=f"r{n}", outcome="ok", response={"Id": str(40 + n)})
            firm.db.execute("UPDATE sync_records SET at = ? WHERE request_id = ?", [f"2026-11-1{n}T09:00:00Z",
                                                                                    f"r{n}"])
    finally:
        firm.close()
    monkeypatch.setattr(history_screen, "SHOWN", 2)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(SyncHistoryScreen())
        await settle(pilot)
        table = app.screen.query_one("#history-table")
        assert [r[1] for r in rows(table)] == [numbers[2], numbers[1]]  # the newest first
        assert "The newest 2 shown: / searches them all" in str(app.screen.query_one("#history-note").render())
        await pilot.press("slash", *"acme", "enter")
        await settle(pilot)
        assert [r[1:4] for r in rows(table)] == [[numbers[0], "Acme Pty", "create"]]
