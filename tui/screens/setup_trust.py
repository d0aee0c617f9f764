"""Setup › Trust: trust bank accounts, or the statement that the firm holds no client money."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Checkbox

from core.services import ledger
from tui.screens.setup_banks import BankAccountsScreen
from tui.widgets.toggles import MarkedCheckbox


class TrustScreen(BankAccountsScreen):
    """Trust bank accounts (GL subtype trust bank); `m` toggles "the firm holds no client money"."""

    CSS_PATH = "setup_trust.tcss"
    STEP_IDS = ("trust_accounting",)
    PLACE = "Trust"
    KIND = "trust"
    GL_SUBTYPES = ("trust_bank",)
    INTRO = "Client money is kept in trust bank accounts. A firm that holds none says so here."
    BINDINGS = [
        Binding("m", "toggle_no_money", "No client money", id="trust.no_money",
                tooltip="The firm holds no client money (no trust account needed)"),
    ]

    def compose_step(self) -> ComposeResult:
        yield MarkedCheckbox("The firm holds no client money", id="no-money")
        yield from super().compose_step()

    def refresh_data(self) -> None:
        super().refresh_data()
        if ledger.firm_exists(self.firm):
            box = self.query_one("#no-money", Checkbox)
            with self.prevent(Checkbox.Changed):
                box.value = ledger.get_firm_info(self.firm).no_client_money

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        if ledger.get_firm_info(self.firm).no_client_money != event.value:
            self.attempt(ledger.set_no_client_money, self.firm, event.value)

    def action_toggle_no_money(self) -> None:
        box = self.query_one("#no-money", Checkbox)
        box.value = not box.value
