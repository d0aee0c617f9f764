"""Setup › Billing: create the firm on the built-in accounting system from a country chart template."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Label, Select, Static, Switch

from core.services import ledger
from tui.screens.step import StepScreen
from tui.widgets.switch import SwitchRow
from tui.widgets.text_input import TextInput

COUNTRY_NAMES = {"US": "United States", "CA": "Canada", "UK": "United Kingdom", "AU": "Australia",
                 "NZ": "New Zealand"}
COUNTRIES = [(f"{COUNTRY_NAMES.get(cc, cc)} ({cc})", cc) for cc in ledger.COUNTRIES]


class BillingSetupScreen(StepScreen):
    """Firm name, country template (with a preview of its accounts and tax rates), built-in accounting."""

    CSS_PATH = "setup_billing.tcss"
    STEP_IDS = ("accounting_system", "chart_of_accounts")
    PLACE = "Billing"
    INTRO = "Ledgerlink keeps the books itself (built-in accounting) and starts from a country chart of accounts."
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="billing_setup.save", tooltip="Create the firm or apply the template"),
    ]

    def compose_step(self) -> ComposeResult:
        with Horizontal(id="billing-form"):
            with Vertical(id="billing-fields"):
                yield Label("Firm name")
                yield TextInput(placeholder="e.g. Smith & Jones LLP", id="firm-name")
                yield Label("Country template")
                yield Select(COUNTRIES, value="US", allow_blank=False, id="country")
                yield SwitchRow(True, "Built-in accounting", switch_id="builtin", classes="switch-row")
            with Vertical(id="billing-preview"):
                yield Label("Template preview", id="preview-title")
                yield DataTable(id="preview", cursor_type="row")
        yield Static("", id="billing-firm", classes="note")

    def on_mount(self) -> None:
        table = self.query_one("#preview", DataTable)
        table.add_columns("Code", "Account", "Type")
        super().on_mount()
        self.show_preview(self.query_one("#country", Select).value)

    def refresh_data(self) -> None:
        exists = ledger.firm_exists(self.firm)
        name = self.query_one("#firm-name", Input)
        note = self.query_one("#billing-firm", Static)
        if exists:
            info = ledger.get_firm_info(self.firm)
            name.value = info.name
            name.disabled = True
            self.query_one("#builtin", Switch).value = info.accounting_system == "builtin"
            self.query_one("#country", Select).value = info.chart_template or info.country
            template = info.chart_template or "none yet"
            note.update(f"{info.name}: {info.country}, {info.currency}; chart of accounts template {template}.")
        else:
            note.update("No firm yet: fill in the name, choose the template and press Ctrl+S.")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "country" and event.value is not Select.NULL:
            self.show_preview(str(event.value))

    def show_preview(self, country: str) -> None:
        template = ledger.preview_chart_template(country)
        table = self.query_one("#preview", DataTable)
        table.clear()
        for account in template.accounts:
            table.add_row(account.code, account.name, account.type)
        for rate in template.tax_rates:
            table.add_row("tax", f"{rate.name} {rate.rate_percent}%", "exempt" if rate.exempt else "Sales tax")
        self.query_one("#preview-title", Label).update(
            f"{template.country} ({template.currency}): {len(template.accounts)} accounts, "
            f"{len(template.tax_rates)} tax rates")

    def on_switch_changed(self, event: Switch.Changed) -> None:
        if event.switch.id == "builtin" and ledger.firm_exists(self.firm):
            info = ledger.get_firm_info(self.firm)
            wanted = "builtin" if event.value else "external"
            if info.accounting_system != wanted:
                self.attempt(ledger.set_accounting_system, self.firm, wanted)

    def action_save(self) -> None:
        country = str(self.query_one("#country", Select).value)
        builtin = self.query_one("#builtin", Switch).value
        if not ledger.firm_exists(self.firm):
            name = self.query_one("#firm-name", Input).value
            if self.attempt(self._create, name, country, builtin):
                self.notify(f"Firm created from the {country} template.")
            return
        if self.attempt(ledger.apply_chart_template, self.firm, country):
            self.notify(f"The {country} template is applied.")

    def _create(self, name: str, country: str, builtin: bool) -> None:
        created = ledger.create_firm(self.app.settings, country, name=name)
        created.close()
        if not builtin:
            ledger.set_accounting_system(self.firm, "external")
