"""Accounts (F8): the chart of accounts and the tax rates after set-up: add, rename, deactivate or reactivate, delete
what nothing uses, and refresh the QBO link (pull QBO's lists, then the map opens on the row)."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from core.errors import LedgerlinkError
from core.services import accounts
from tui.format import clipped, short_type
from tui.modals.confirm import ConfirmModal
from tui.modals.form import Field, FormModal, problem_text
from tui.screens.base import TabbedScreen, tab_bindings, tab_title
from tui.screens.setup_accounts import ROLE_NAMES
from tui.screens.setup_tax import add_rate_form, component_text, rate_components, rate_fields
from tui.workers import with_own_firm

MAP_TITLES = {"sales": "sales map", "gl": "GL map", "tax": "tax map"}
NO_FIRM = "There is no firm in this database yet: create it from the setup checklist (F2)."
INACTIVE_NOTE = "Dimmed rows are inactive: not offered for new documents or maps; history kept."


def map_text(status: str | None, qbo_name: str | None) -> str:
    if status is None:
        return ""
    return f"{qbo_name} ✓" if status == "mapped" and qbo_name else status


def dim(cells: list[str], active: bool) -> list:
    return cells if active else [Text(c, style="dim") for c in cells]


class ChartScreen(TabbedScreen):
    """`a` add, `r` rename, `d` deactivate or reactivate, `x` delete (unused only), `c` a rate's percentage,
    `m` refresh from QBO and open the map on the row."""

    CSS_PATH = "accounts.tcss"
    HELP_TITLE = "Accounts and tax rates"
    TABS = (("accounts", "Accounts"), ("rates", "Tax rates"))
    TAB_FOCUS = {"accounts": "#chart-accounts", "rates": "#chart-rates"}
    BINDINGS = [
        Binding("a", "add", "Add", id="chart.add", tooltip="Add an account, or a tax rate on the Tax rates tab"),
        Binding("r", "rename", "Rename", id="chart.rename", tooltip="Rename the highlighted account or rate"),
        Binding("d", "toggle_active", "(De)activate", id="chart.active",
                tooltip="Deactivate the highlighted row (or reactivate an inactive one)"),
        Binding("m", "refresh_map", "QBO map", id="chart.map",
                tooltip="Refresh QBO's lists, then open the map on the highlighted row"),
        Binding("x", "delete", "Delete", id="chart.delete", show=False,
                tooltip="Delete the highlighted account if nothing uses it"),
        Binding("c", "change_rate", "Change rate", id="chart.change", show=False,
                tooltip="Change the percentage of a tax rate no document has used"),
        *tab_bindings("chart", TABS),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.account_rows: dict[int, accounts.AccountRow] = {}
        self.rate_rows: dict[int, accounts.TaxRateRow] = {}
        self.no_firm = False

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="chart-tabs"):
            with TabPane(tab_title(1, "Accounts"), id="accounts"):
                yield DataTable(id="chart-accounts", cursor_type="row", zebra_stripes=True)
            with TabPane(tab_title(2, "Tax rates"), id="rates"):
                yield DataTable(id="chart-rates", cursor_type="row", zebra_stripes=True)
        yield Static("", id="chart-detail", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#chart-accounts", DataTable).add_columns("Code", "Name", "Role or type", "QBO")
        self.query_one("#chart-rates", DataTable).add_columns("Name", "Rate", "Components", "QBO")
        self.query_one("#chart-accounts", DataTable).focus()
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    # -- reading --------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="chart-load")
    def load(self) -> None:
        def read(firm):
            if not firm.db.execute("SELECT count(*) FROM firm").fetchone()[0]:
                return None, None
            return accounts.account_rows(firm), accounts.tax_rate_rows(firm)

        loaded = with_own_firm(self.app, read, self.refuse)
        if loaded is not None:
            self.app.call_from_thread(self.fill, *loaded)

    def fill(self, account_rows, rate_rows) -> None:
        self.no_firm = account_rows is None
        if self.no_firm:
            self.show_detail()
            return
        self.account_rows = {r.account.id: r for r in account_rows}
        self.rate_rows = {r.rate.id: r for r in rate_rows}
        table = self.query_one("#chart-accounts", DataTable)
        keep = table.cursor_row
        table.clear()
        for r in account_rows:
            a = r.account
            kind = ROLE_NAMES.get(a.subtype, a.subtype) or short_type(a.type)
            table.add_row(*dim([a.code, clipped(a.name, 26), kind, clipped(map_text(r.map_status, r.qbo_name), 24)],
                               a.active), key=str(a.id))
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        table = self.query_one("#chart-rates", DataTable)
        keep = table.cursor_row
        table.clear()
        for t in rate_rows:
            rate = t.rate
            table.add_row(*dim([clipped(rate.name, 28), f"{rate.rate_percent}%", clipped(component_text(rate), 20),
                                clipped(map_text(t.map_status, t.qbo_name), 20)], rate.active), key=str(rate.id))
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        self.show_detail()

    def current(self):
        """The highlighted AccountRow or TaxRateRow of the open tab, or None."""
        rates = self.tab == "rates"
        table = self.query_one("#chart-rates" if rates else "#chart-accounts", DataTable)
        if not table.row_count:
            return None
        key = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        return (self.rate_rows if rates else self.account_rows).get(key)

    @staticmethod
    def label(row) -> str:
        return f"tax rate {row.rate.name}" if isinstance(row, accounts.TaxRateRow) else f"account {row.account.label}"

    def show_detail(self) -> None:
        row = self.current()
        detail = self.query_one("#chart-detail", Static)
        if self.no_firm:
            detail.update(NO_FIRM)
            return
        if row is None:
            detail.update(INACTIVE_NOTE)
            return
        rate = isinstance(row, accounts.TaxRateRow)
        active = row.rate.active if rate else row.account.active
        used = f"used by {accounts.uses_text(row.uses)}" if row.uses else "not used yet"
        kind = "tax" if rate else row.map_kind
        where = f"; {MAP_TITLES[kind]}: {row.map_status}" if kind and row.map_status not in (None, "mapped") else ""
        if rate:
            pct = f"{row.rate.rate_percent}%"
            what = f"Tax rate {row.rate.name}" + ("" if pct in row.rate.name else f" ({pct})")
        else:
            what = f"{row.account.label} ({row.account.type})"
        detail.update(f"{what}{'' if active else ', inactive'}: {used}{where}.\n" + INACTIVE_NOTE)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.show_detail()

    def refuse(self, exc: LedgerlinkError) -> None:
        self.notify(problem_text(exc), title="Not saved", severity="error", timeout=10, markup=False)

    def attempt(self, fn, *args) -> bool:
        try:
            result = fn(self.firm, *args)
        except LedgerlinkError as exc:
            self.refuse(exc)
            return False
        self.saved(result)
        return True

    def saved(self, result) -> None:
        if result is not None:
            self.load()
            self.app.refresh_header()

    # -- changes --------------------------------------------------------------------------------
    def action_add(self) -> None:
        if self.tab == "rates":
            self.app.push_screen(add_rate_form(self.firm, accounts.add_tax_rate), self.saved)
            return
        fields = [
            Field("code", "Code", placeholder="e.g. 4150"),
            Field("name", "Name", placeholder="e.g. Fee income - mediation"),
            Field("type", "Type", "select", [(t, t) for t in accounts.ACCOUNT_TYPES], "Income"),
            Field("subtype", "Role", "select",
                  [(ROLE_NAMES.get(s) or "general", s) for s in accounts.SUBTYPES], "fee_income"),
        ]
        self.app.push_screen(FormModal("Add an account", fields, lambda v: accounts.add_account(
            self.firm, code=v["code"], name=v["name"], type=v["type"], subtype=v["subtype"])), self.saved)

    def action_rename(self) -> None:
        row = self.current()
        if row is None:
            return
        if isinstance(row, accounts.TaxRateRow):
            rate_id = row.rate.id
            self.app.push_screen(FormModal(f"Rename the tax rate {row.rate.name}", [
                Field("name", "New name", value=row.rate.name)],
                lambda v: accounts.rename_tax_rate(self.firm, rate_id, v["name"])), self.saved)
            return
        account_id = row.account.id
        self.app.push_screen(FormModal(f"Rename the account {row.account.label}", [
            Field("name", "New name", value=row.account.name)],
            lambda v: accounts.rename_account(self.firm, account_id, v["name"])), self.saved)

    def action_toggle_active(self) -> None:
        row = self.current()
        if row is None:
            return
        rate = isinstance(row, accounts.TaxRateRow)
        item_id = row.rate.id if rate else row.account.id
        if (row.rate.active if rate else row.account.active):
            change = accounts.deactivate_tax_rate if rate else accounts.deactivate_account
            what = "new invoice lines" if rate else "new documents or maps"
            question = (f"Deactivate the {self.label(row)}? It is no longer offered for {what}; "
                        "its history stays in the reports.")
            self.app.push_screen(ConfirmModal(question, "Deactivate"),
                                 lambda yes: self.attempt(change, item_id) if yes else None)
            return
        self.attempt(accounts.reactivate_tax_rate if rate else accounts.reactivate_account, item_id)

    def action_delete(self) -> None:
        row = self.current()
        if row is None or isinstance(row, accounts.TaxRateRow):
            self.notify("Tax rates are never deleted: deactivate one instead (d).", markup=False)
            return
        account_id = row.account.id
        question = f"Delete the account {row.account.label}? Only an account nothing uses can be deleted."
        self.app.push_screen(ConfirmModal(question, "Delete"),
                             lambda yes: self.attempt(accounts.delete_account, account_id) if yes else None)

    def action_change_rate(self) -> None:
        row = self.current()
        if not isinstance(row, accounts.TaxRateRow):
            self.notify("Open the Tax rates tab (2) to change a rate's percentage.", markup=False)
            return
        rate = row.rate
        if row.frozen:
            question = (f"Tax rate {rate.name} is used by {accounts.uses_text(row.uses)}: its percentage cannot "
                        "change, because posted history is never rewritten. Deactivate it and add a new rate?")
            self.app.push_screen(ConfirmModal(question, "Deactivate and add"),
                                 lambda yes: self.replace_rate(rate.id) if yes else None)
            return
        fields = rate_fields(self.firm, rate=rate.rate_percent, with_name=False)

        def submit(v: dict):
            parts = rate_components(v)
            return accounts.change_tax_rate(self.firm, rate.id, v["rate"], components=parts or None,
                                            tax_account_id=None if parts else v["account"])

        self.app.push_screen(FormModal(f"Change the tax rate {rate.name}", fields, submit), self.saved)

    def replace_rate(self, rate_id: int) -> None:
        if self.attempt(accounts.deactivate_tax_rate, rate_id):
            self.app.push_screen(add_rate_form(self.firm, accounts.add_tax_rate), self.saved)

    # -- the QBO link ---------------------------------------------------------------------------
    def action_refresh_map(self) -> None:
        from core.services import qbo

        row = self.current()
        if row is None:
            return
        rate = isinstance(row, accounts.TaxRateRow)
        kind = "tax" if rate else row.map_kind
        if kind is None:
            self.notify(f"The {self.label(row)} needs no QuickBooks map.", markup=False)
            return
        if not (row.rate.active if rate else row.account.active):
            self.notify(f"The {self.label(row)} is inactive: maps list active rows only. Reactivate it first (d).",
                        markup=False)
            return
        if qbo.connection(self.firm) is None:
            self.notify("Connect to QuickBooks first (Setup › Connect).", severity="warning", markup=False)
            return
        self.notify("Pulling QBO's reference data…")
        self.pull_then_map(kind, row.rate.id if rate else row.account.id)

    @work(thread=True, exclusive=True, group="qbo")
    def pull_then_map(self, kind: str, ledger_id: int) -> None:
        from core.services import qbo

        diff = with_own_firm(self.app, qbo.pull_reference, self.refuse)
        if diff is not None:
            self.app.call_from_thread(self.open_map, kind, ledger_id)

    def open_map(self, kind: str, ledger_id: int) -> None:
        self.app.action_open("mapping")
        self.app.screen.focus_row(kind, ledger_id)
