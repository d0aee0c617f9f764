"""The reconcile breakdown (o on the sync monitor): QBO read back in a worker, then the ledger against QBO in
tabs: documents per type (each difference listed under them), receivable per client and income per item
(differences first), and trust. A row that differs is marked `≠` and highlighted."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from core.services import sync as sync_service
from core.text import counted
from tui.format import money_text
from tui.screens.base import TabbedScreen, tab_bindings, tab_title
from tui.screens.history import cell
from tui.workers import with_own_firm

TYPE_TITLE = {"invoice": "Invoices", "credit_note": "Credit notes", "payment": "Payments"}
DIFF = "≠"
TRUST_CHECK = {"bank": "bank balance", "liability": "liability", "liability_customer": "client liability"}


def mark(differs: bool) -> Text:
    return Text(DIFF if differs else "", style="bold red" if differs else "")


def amount(minor: int, differs: bool = False) -> Text:
    return Text(money_text(minor), style="bold" if differs else "", justify="right")


def summary_text(result) -> str:
    """One line: agreement, or how many differences of each kind."""
    docs = len(result.missing_in_qbo) + len(result.extra_in_qbo) + len(result.different)
    if result.ok:
        return f"In agreement: {counted(result.checked, 'document')} checked, receivables, income and trust match."
    parts = [counted(docs, "document"), counted(len(result.ar), "receivable"), f"{len(result.income)} income",
             f"{len(result.trust)} trust"]
    return f"Differences: {', '.join(parts)} ({result.checked} checked)."


def difference_rows(result) -> list[tuple[str, str, str, int | None, int | None]]:
    """Each document difference: (what, document, QBO id, ledger total, QBO total)."""
    rows = []
    for m in result.missing_in_qbo:
        rows.append(("missing in QBO", m["label"], m.get("qbo_id") or "-", m.get("ledger_total_minor"), None))
    for e in result.extra_in_qbo:
        rows.append(("only in QBO", f"{e['entity']} {e.get('doc_number') or ''}".strip(), e["qbo_id"], None,
                     e["total_minor"]))
    for d in result.different:
        rows.append((f"differs: {', '.join(d['fields'])}", d["label"], d["qbo_id"], d["ledger_total_minor"],
                     d["qbo_total_minor"]))
    return rows


class ReconcileScreen(TabbedScreen):
    """`o` reads QBO again; Escape goes back."""

    CSS_PATH = "reconcile.tcss"
    HELP_TITLE = "Reconcile"
    TABS = (("docs", "Documents"), ("ar", "Receivable"), ("income", "Income"), ("trust", "Trust"))
    TAB_FOCUS = {"docs": "#rec-docs", "ar": "#rec-ar", "income": "#rec-income", "trust": "#rec-trust"}
    BINDINGS = [
        Binding("escape", "back", "Back", id="reconcile.back", tooltip="Back to the sync monitor"),
        Binding("o", "run", "Again", id="reconcile.run", tooltip="Read QBO again and compare"),
        *tab_bindings("reconcile", TABS),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.result = None

    def compose_body(self) -> ComposeResult:
        yield Static("Reading QuickBooks…", id="rec-summary", markup=False)
        with TabbedContent(id="rec-tabs"):
            with TabPane(tab_title(1, "Documents"), id="docs"):
                yield DataTable(id="rec-docs", cursor_type="row")
            with TabPane(tab_title(2, "Receivable"), id="ar"):
                yield DataTable(id="rec-ar", cursor_type="row")
            with TabPane(tab_title(3, "Income"), id="income"):
                yield DataTable(id="rec-income", cursor_type="row")
            with TabPane(tab_title(4, "Trust"), id="trust"):
                yield DataTable(id="rec-trust", cursor_type="row")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#rec-docs", DataTable).add_columns("", "Documents", "Ledger", "Total", "QBO", "Total")
        self.query_one("#rec-ar", DataTable).add_columns("", "Client", "Ledger", "QBO", "Difference")
        self.query_one("#rec-income", DataTable).add_columns("", "Product/service", "Ledger", "QBO", "Difference")
        self.query_one("#rec-trust", DataTable).add_columns("", "Trust", "Account or client", "Ledger", "QBO")
        self.query_one("#rec-docs").focus()
        self.action_run()

    def action_run(self) -> None:
        self.query_one("#rec-summary", Static).update("Reading QuickBooks…")
        self.run_reconcile()

    @work(thread=True, exclusive=True, group="reconcile")
    def run_reconcile(self) -> None:
        result = with_own_firm(self.app, lambda firm: asyncio.run(sync_service.reconcile(firm)), self.failed)
        if result is not None:
            self.app.call_from_thread(self.show_result, result)

    def failed(self, exc) -> None:
        self.query_one("#rec-summary", Static).update(f"Reconcile failed: {exc}")
        self.app.show_error(exc)

    def show_result(self, result) -> None:
        self.result = result
        self.query_one("#rec-summary", Static).update(summary_text(result))
        docs = self.query_one("#rec-docs", DataTable)
        docs.clear()
        for t in result.documents:
            differs = bool(t["differences"]) or t["ledger_count"] != t["qbo_count"] \
                or t["ledger_total_minor"] != t["qbo_total_minor"]
            docs.add_row(mark(differs), TYPE_TITLE.get(t["doc_type"], t["doc_type"]), str(t["ledger_count"]),
                         amount(t["ledger_total_minor"], differs), str(t["qbo_count"]),
                         amount(t["qbo_total_minor"], differs))
        for what, label, qbo_id, ledger_minor, qbo_minor in difference_rows(result):
            docs.add_row(mark(True), cell(label, 24), Text(what, style="red"),
                         amount(ledger_minor) if ledger_minor is not None else "-",
                         f"QBO {qbo_id}" if qbo_id != "-" else "-",
                         amount(qbo_minor) if qbo_minor is not None else "-")
        for table_id, rows, name in (("#rec-ar", result.ar_clients, "client"),
                                     ("#rec-income", result.income_items, "item")):
            table = self.query_one(table_id, DataTable)
            table.clear()
            for r in rows:
                differs = bool(r["difference_minor"])
                table.add_row(mark(differs), cell(r[name], 30), amount(r["ledger_minor"], differs),
                              amount(r["qbo_minor"], differs),
                              amount(r["difference_minor"], differs) if differs else "")
        trust = self.query_one("#rec-trust", DataTable)
        trust.clear()
        for t in result.trust:
            what = TRUST_CHECK.get(t.get("check", ""), t.get("check", ""))
            who = t.get("client") or t.get("account") or ""
            theirs = t.get("qbo_minor")
            trust.add_row(mark(True), what, cell(who, 30), amount(t.get("ledger_minor") or 0, True),
                          amount(theirs, True) if theirs is not None else "not mapped")
        for note in result.notes:
            trust.add_row("", "note", cell(note, 60), "", "")
        if not result.trust and not result.notes:
            trust.add_row("", "agrees", "Trust balances agree (or the firm holds no client money).", "", "")

    def action_back(self) -> None:
        self.app.pop_screen()
