"""The setup checklist of DESIGN.md: step ids in the order of a real set-up, and their result type.

core.ledger.checks answers the ledger-side steps, core.qbo.checks the QBO-side ones;
core.services.setup.checklist() runs them all. The TUI, `ledgerlink status` and the sync use the same checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

State = Literal["done", "missing", "warning"]

LEDGER_STEPS = (
    "accounting_system",
    "chart_of_accounts",
    "accrual_method",
    "bank_account",
    "trust_accounting",
    "income_accounts",
    "sales_tax",
    "feature_preview",
)
QBO_STEPS = (
    "qbo_connected",
    "qbo_zero_tax",
    "map_sales",
    "map_gl",
    "map_tax",
    "sync_enabled",
)
STEP_IDS = LEDGER_STEPS + QBO_STEPS

TITLES = {
    "accounting_system": "Use the built-in accounting system",
    "chart_of_accounts": "Chart of accounts from a country template",
    "accrual_method": "Accounting method is Accrual",
    "bank_account": "Operating bank account",
    "trust_accounting": "Trust accounting",
    "income_accounts": "Fee-income and expense-recovery accounts",
    "sales_tax": "Sales tax rates, including 0%",
    "feature_preview": "QBO integration upgrade preview switched on",
    "qbo_connected": "Connected to QuickBooks Online",
    "qbo_zero_tax": "QBO has a zero-rate tax code",
    "map_sales": "Sales invoice account map",
    "map_gl": "GL account map",
    "map_tax": "Sales tax map",
    "sync_enabled": "Sales invoices synchronisation on",
}


@dataclass(frozen=True)
class StepResult:
    id: str
    ok: bool
    message: str
    state: State = "missing"

    @property
    def title(self) -> str:
        return TITLES[self.id]

    def as_json(self) -> dict:
        return {"id": self.id, "ok": self.ok, "state": self.state, "title": self.title, "message": self.message}


def done(step_id: str, message: str) -> StepResult:
    return StepResult(step_id, True, message, "done")


def missing(step_id: str, message: str) -> StepResult:
    return StepResult(step_id, False, message, "missing")


def warning(step_id: str, message: str) -> StepResult:
    """Usable, but something deserves the admin's attention (ok stays True)."""
    return StepResult(step_id, True, message, "warning")
