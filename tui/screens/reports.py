"""Reports: trial balance, AR aging, trust ledger, and the reconcile result (read back from QBO)."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from core.services import ledger
from core.services import sync as sync_service
from core.text import counted
from tui.format import money_text
from tui.screens.base import TabbedScreen, tab_bindings, tab_title
from tui.workers import with_own_firm

AGING_TITLES = (("current", "Current"), ("1-30", "1-30"), ("31-60", "31-60"), ("61-90", "61-90"),
                ("over_90", "Over 90"))


def credit_text(credit_minor: int) -> str:
    """A client's credit on account as it reduces what they owe: 50.00 of credit is '-50.00'; none is ''."""
    return money_text(-credit_minor) if credit_minor else ""


def reconcile_text(result) -> str:
    """The reconcile result in words (fields as `ledgerlink reconcile --json` documents them)."""
    data = result.as_json() if hasattr(result, "as_json") else dict(vars(result))
    lines = [f"{'In agreement' if data.get('ok') else 'Differences found'}: {counted(data.get('checked', 0), 'document')} checked."]
    for key, title in (("missing_in_qbo", "Missing in QBO"), ("extra_in_qbo", "Only in QBO"),
                       ("different", "Different")):
        items = data.get(key) or []
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines += [f"  {item}" for item in items[:100]]
    return "\n".join(lines)


class ReportsScreen(TabbedScreen):
    """`g` re-reads the ledger reports; `o` reconciles with QBO in a worker."""

    CSS_PATH = "reports.tcss"
    TABS = (("tb", "Trial balance"), ("aging", "AR aging"), ("trust", "Trust ledger"), ("reconcile", "Reconcile"))
    TAB_FOCUS = {"tb": "#tb-table", "aging": "#aging-table", "trust": "#trust-table"}
    BINDINGS = [
        Binding("g", "reload", "Reload", id="reports.reload", tooltip="Read the reports again"),
        Binding("o", "reconcile", "Reconcile", id="reports.reconcile", tooltip="Compare the ledger with QBO"),
        *tab_bindings("reports", TABS),
    ]

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="report-tabs"):
            with TabPane(tab_title(1, "Trial balance"), id="tb"):
                yield DataTable(id="tb-table", zebra_stripes=True)
            with TabPane(tab_title(2, "AR aging"), id="aging"):
                yield DataTable(id="aging-table", zebra_stripes=True)
            with TabPane(tab_title(3, "Trust ledger"), id="trust"):
                yield DataTable(id="trust-table", zebra_stripes=True)
            with TabPane(tab_title(4, "Reconcile"), id="reconcile"):
                yield Static("Press o to compare the ledger with what QBO holds.", id="reconcile-result",
                             markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#tb-table", DataTable).add_columns("Code", "Account", "Debit", "Credit")
        self.query_one("#aging-table", DataTable).add_columns("Client", *(t for _, t in AGING_TITLES), "Credit",
                                                              "Total")
        self.query_one("#trust-table", DataTable).add_columns("Client", "Matter", "Balance")
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        if not ledger.firm_exists(self.firm):
            return
        tb = ledger.trial_balance(self.firm)
        inactive = {a.id for a in ledger.list_accounts(self.firm) if not a.active}
        table = self.query_one("#tb-table", DataTable)
        table.clear()
        for row in tb.rows:
            cells = [row.code, row.name, money_text(row.debit_minor) if row.debit_minor else "",
                     money_text(row.credit_minor) if row.credit_minor else ""]
            table.add_row(*(Text(c, style="dim") for c in cells) if row.account_id in inactive else cells)
        table.add_row("", f"Total ({tb.currency})", money_text(tb.total_debit_minor), money_text(tb.total_credit_minor))
        aging = ledger.aging(self.firm)
        table = self.query_one("#aging-table", DataTable)
        table.clear()
        for row in aging.rows:  # credit on account (overpayments) is taken off: the total is the receivable balance
            table.add_row(row.client_name, *(money_text(row.buckets[b]) for b, _ in AGING_TITLES),
                          credit_text(row.credit_minor), money_text(row.total_minor))
        table.add_row("Total", *(money_text(aging.totals[b]) for b, _ in AGING_TITLES), credit_text(aging.credit_minor),
                      money_text(aging.total_minor))
        trust = ledger.trust_ledger(self.firm)
        table = self.query_one("#trust-table", DataTable)
        table.clear()
        for bal in trust.balances:
            table.add_row(bal.client_name, bal.matter_reference or "", money_text(bal.balance_minor))
        table.add_row("Clients' total", "", money_text(trust.client_total_minor))
        table.add_row("Trust bank", "", money_text(trust.trust_bank_minor))

    def action_reconcile(self) -> None:
        self.query_one(TabbedContent).active = "reconcile"
        self.query_one("#reconcile-result", Static).update("Reading QBO back…")
        self.reconcile()

    @work(thread=True, exclusive=True, group="qbo")
    def reconcile(self) -> None:
        result = with_own_firm(self.app, lambda firm: asyncio.run(sync_service.reconcile(firm)), self.app.show_error)
        if result is not None:
            self.app.call_from_thread(self.query_one("#reconcile-result", Static).update, reconcile_text(result))
