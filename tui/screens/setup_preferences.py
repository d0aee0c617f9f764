"""Setup › Accounting preferences: the accounting method (Accrual is required for the QBO link)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import RadioButton, RadioSet, Static

from core.services import ledger
from tui.screens.step import StepScreen
from tui.widgets.toggles import MarkedRadioButton

CASH_REASON = (
    "The QuickBooks integration needs the Accrual method: Ledgerlink posts an invoice when it is created, "
    "not when it is paid, and sends it to QBO at that moment. QuickBooks itself can still report on a "
    "cash basis. Choose Accrual to continue the set-up."
)


class PreferencesScreen(StepScreen):
    """A two-way choice saved as soon as it changes; choosing Cash explains why Accrual is needed."""

    CSS_PATH = "setup_preferences.tcss"
    STEP_IDS = ("accrual_method",)
    PLACE = "Accounting preferences"
    INTRO = "How the ledger recognises income."

    def compose_step(self) -> ComposeResult:
        with RadioSet(id="method"):
            yield MarkedRadioButton("Accrual (invoices are income when created)", id="accrual")
            yield MarkedRadioButton("Cash (income when paid)", id="cash")
        yield Static(CASH_REASON, id="cash-reason")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(RadioSet).focus()

    def refresh_data(self) -> None:
        if not ledger.firm_exists(self.firm):
            self.query_one(RadioSet).disabled = True
            return
        method = ledger.get_firm_info(self.firm).method
        button = self.query_one(f"#{method}", RadioButton)
        if not button.value:
            with self.prevent(RadioSet.Changed):
                button.value = True
        self.query_one("#cash-reason").set_class(method == "cash", "-shown")

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        method = event.pressed.id
        self.query_one("#cash-reason").set_class(method == "cash", "-shown")
        if ledger.get_firm_info(self.firm).method != method:
            self.attempt(ledger.set_accounting_method, self.firm, method)
