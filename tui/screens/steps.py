"""Which screen fixes which checklist step."""

from __future__ import annotations

from textual.screen import Screen

from tui.screens.connect import ConnectScreen
from tui.screens.setup_accounts import AccountsScreen
from tui.screens.setup_banks import BankAccountsScreen
from tui.screens.setup_billing import BillingSetupScreen
from tui.screens.setup_preferences import PreferencesScreen
from tui.screens.setup_preview import FeaturePreviewScreen
from tui.screens.setup_tax import SalesTaxScreen
from tui.screens.setup_trust import TrustScreen

STEP_SCREENS: dict[str, type[Screen] | str] = {
    "accounting_system": BillingSetupScreen,
    "chart_of_accounts": BillingSetupScreen,
    "accrual_method": PreferencesScreen,
    "bank_account": BankAccountsScreen,
    "trust_accounting": TrustScreen,
    "income_accounts": AccountsScreen,
    "sales_tax": SalesTaxScreen,
    "feature_preview": FeaturePreviewScreen,
    "qbo_connected": ConnectScreen,
    "qbo_zero_tax": ConnectScreen,
    "map_sales": "mapping",
    "map_gl": "mapping",
    "map_tax": "mapping",
    "sync_enabled": "mapping",
}


STEP_TABS = {"map_sales": "sales", "map_gl": "gl", "map_tax": "tax", "sync_enabled": "sync"}


def screen_for(step_id: str) -> type[Screen] | str:
    """A screen class to push, or the name of the app mode (mapping) that fixes the step."""
    return STEP_SCREENS.get(step_id, "setup")
