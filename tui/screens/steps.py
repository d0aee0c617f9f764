"""Which screen a checklist step's fix (core.where.Where) names, and going there."""

from __future__ import annotations

from textual.app import App
from textual.screen import Screen

from core.where import Where
from tui.screens.connect import ConnectScreen
from tui.screens.setup_accounts import AccountsScreen
from tui.screens.setup_banks import BankAccountsScreen
from tui.screens.setup_billing import BillingSetupScreen
from tui.screens.setup_preferences import PreferencesScreen
from tui.screens.setup_preview import FeaturePreviewScreen
from tui.screens.setup_tax import SalesTaxScreen
from tui.screens.setup_trust import TrustScreen

SETUP_PAGES: dict[str, type[Screen]] = {
    "billing": BillingSetupScreen,
    "preferences": PreferencesScreen,
    "bank_accounts": BankAccountsScreen,
    "trust": TrustScreen,
    "accounts": AccountsScreen,
    "sales_tax": SalesTaxScreen,
    "feature_preview": FeaturePreviewScreen,
}


def screen_for(fix: Where) -> type[Screen] | str:
    """A screen class to push (Setup pages, Connect), or the name of the app mode (mapping, monitor, billing)."""
    if fix.screen == "setup":
        return SETUP_PAGES.get(fix.tab or "", BillingSetupScreen)
    if fix.screen == "connect":
        return ConnectScreen
    return fix.screen


def open_fix(app: App, fix: Where) -> None:
    """Open the place `fix` names: its screen, its tab, and on a map the row to fix under the cursor."""
    target = screen_for(fix)
    if isinstance(target, str):
        app.action_open(target)  # LedgerlinkApp: opens a mode once the firm is read
        if fix.row is not None and fix.tab:
            app.screen.focus_row(fix.tab, fix.row)  # the mapper
        elif fix.tab:
            app.screen.show_tab(fix.tab)
        return
    if app.current_mode != "setup":
        app.switch_mode("setup")
    app.push_screen(target())
