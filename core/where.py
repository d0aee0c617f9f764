"""Where something is fixed, as data: a screen (and its tab), a CLI command, a key, and the ledger row the cursor
goes to. Park reasons (core.qbo.reasons) and checklist steps (core.checks) carry one; the TUI navigates by it and
the sentence naming the place is rendered from it (`place`, `sentence`), never parsed back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Screen = Literal["mapping", "monitor", "connect", "settings", "billing", "quickbooks", "setup", "trust"]

SCREEN_TITLES = {"mapping": "Mapping", "monitor": "Sync monitor", "connect": "Connect", "settings": "Settings",
                 "billing": "Billing", "quickbooks": "QuickBooks", "setup": "Setup", "trust": "Trust"}
TAB_TITLES = {
    ("mapping", "sales"): "Sales invoice account map", ("mapping", "gl"): "GL account map",
    ("mapping", "tax"): "Sales tax map", ("mapping", "sync"): "Synchronisation",
    ("setup", "billing"): "Billing", ("setup", "preferences"): "Accounting preferences",
    ("setup", "bank_accounts"): "Bank accounts", ("setup", "trust"): "Trust", ("setup", "accounts"): "Accounts",
    ("setup", "sales_tax"): "Sales tax", ("setup", "feature_preview"): "Feature preview",
}


@dataclass(frozen=True)
class Where:
    """Where a problem is fixed: a screen (and its tab), a CLI command, a key, a ledger row (map kind = tab)."""

    screen: Screen
    tab: str | None = None
    command: str | None = None
    key: str | None = None
    row: int | None = None

    def as_json(self) -> dict:
        return {"screen": self.screen, "tab": self.tab, "command": self.command, "key": self.key, "row": self.row}

    def place(self) -> str:
        """'Mapping › GL account map', 'Connect'."""
        title = SCREEN_TITLES[self.screen]
        tab = TAB_TITLES.get((self.screen, self.tab or ""), self.tab)
        return f"{title} › {tab}" if tab else title

    def sentence(self, command: bool = True) -> str:
        """'Open Mapping › GL account map (or `ledgerlink map set gl`).'"""
        return f"Open {self.place()}" + (f" (or `{self.command}`)" if command and self.command else "") + "."
