"""Setup › Sales tax: the firm's rates, including the 0% rate QBO needs a matching zero-rate code for."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from core.services import ledger
from tui.modals.form import Field, FormModal
from tui.screens.step import StepScreen

ZERO_NOTE = ("Every rate the firm charges must exist here, and a 0% rate too (for untaxed lines). "
             "QBO needs a zero-rate tax code as well: it is checked after connecting.")


class SalesTaxScreen(StepScreen):
    """Rates with their percentage; `a` adds one (name, percent, exempt)."""

    CSS_PATH = "setup_tax.tcss"
    STEP_IDS = ("sales_tax",)
    PLACE = "Sales tax"
    INTRO = ZERO_NOTE
    BINDINGS = [Binding("a", "add_rate", "Add rate", id="tax.add", tooltip="Add a sales tax rate")]

    def compose_step(self) -> ComposeResult:
        yield DataTable(id="rates", cursor_type="row")
        yield Static("", id="zero-check", classes="note")

    def on_mount(self) -> None:
        self.query_one("#rates", DataTable).add_columns("Name", "Rate", "Exempt", "Active")
        super().on_mount()
        self.query_one("#rates", DataTable).focus()

    def refresh_data(self) -> None:
        table = self.query_one("#rates", DataTable)
        table.clear()
        if not ledger.firm_exists(self.firm):
            return
        rates = ledger.list_tax_rates(self.firm)
        for rate in rates:
            table.add_row(rate.name, f"{rate.rate_percent}%", "yes" if rate.exempt else "",
                          "yes" if rate.active else "no")
        zero = [r.name for r in rates if r.rate_ppm == 0 and r.active]
        self.query_one("#zero-check", Static).update(
            f"0% rate: {', '.join(zero)}." if zero else "No 0% rate yet: add one (a).")

    def action_add_rate(self) -> None:
        fields = [
            Field("name", "Name", placeholder="e.g. GST"),
            Field("rate", "Rate in percent", placeholder="e.g. 5 or 9.975"),
            Field("exempt", "Exempt (a 0% rate for exempt supplies)", "check", value=False),
        ]
        self.app.push_screen(
            FormModal("Add a sales tax rate", fields,
                      lambda v: ledger.add_tax_rate(self.firm, v["name"], v["rate"], exempt=v["exempt"])),
            self.after_form,
        )
