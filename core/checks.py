"""The setup checklist of DESIGN.md: step ids in the order of a real set-up, and their result type.

core.ledger.checks answers the ledger-side steps, core.qbo.checks the QBO-side ones;
core.services.setup.checklist() runs them all. The TUI, `ledgerlink status` and the sync use the same checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.where import Where

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
    """A step's state: `problem` says what is (or is not) there, `fix` where it is done (rendered, never parsed);
    `code` 'no_firm' / 'needs_firm' when there is no firm yet."""

    id: str
    ok: bool
    problem: str
    state: State = "missing"
    fix: Where | None = None
    code: str = ""

    @property
    def title(self) -> str:
        return TITLES[self.id]

    def text(self, command: bool = True, place: bool = True) -> str:
        """The sentence: the problem, then (unless done) where to fix it; `command` adds the CLI command,
        `place` False leaves the place out (a screen that is that place)."""
        if self.state == "done" or self.fix is None or not place:
            return self.problem
        end = "" if self.problem.endswith((".", "!", "?")) else "."
        return f"{self.problem}{end} {self.fix.sentence(command)}"

    @property
    def message(self) -> str:
        return self.text()

    def as_json(self) -> dict:
        return {"id": self.id, "ok": self.ok, "state": self.state, "title": self.title, "message": self.message,
                "fix": self.fix.as_json() if self.fix else None}


def done(step_id: str, problem: str, fix: Where | None = None) -> StepResult:
    return StepResult(step_id, True, problem, "done", fix)


def missing(step_id: str, problem: str, fix: Where | None = None, code: str = "") -> StepResult:
    return StepResult(step_id, False, problem, "missing", fix, code)


def warning(step_id: str, problem: str, fix: Where | None = None) -> StepResult:
    """Usable, but something deserves the admin's attention (ok stays True)."""
    return StepResult(step_id, True, problem, "warning", fix)
