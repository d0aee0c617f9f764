"""One check per ledger-side step of the setup checklist (core.checks.LEDGER_STEPS).

Each returns a StepResult: ok or not, what is missing, and where it is fixed (a Where: the Setup page, the
command), which the sentence's last part is rendered from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from core.checks import StepResult, done, missing
from core.where import Where
from core.ledger.queries import firm_exists
from core.text import counted

if TYPE_CHECKING:
    from core.context import Firm

NO_FIRM = "There is no firm yet: create it from a country template"
NEEDS_FIRM = "Needs a firm first (see the first step)"
BILLING = Where("setup", "billing")
CREATE = Where("setup", "billing", "ledgerlink init --country XX")
PREFERENCES = Where("setup", "preferences")
BANKS = Where("setup", "bank_accounts", "ledgerlink setup bank operating NAME --account CODE --bank BANK")
TRUST = Where("setup", "trust", "ledgerlink setup bank trust NAME --account CODE --bank BANK")
ACCOUNTS = Where("setup", "accounts")
SALES_TAX = Where("setup", "sales_tax", "ledgerlink setup tax-rate NAME PERCENT")
PREVIEW = Where("setup", "feature_preview", "ledgerlink setup preview on")
FIXES = {"accounting_system": BILLING, "chart_of_accounts": BILLING, "accrual_method": PREFERENCES,
         "bank_account": BANKS, "trust_accounting": TRUST, "income_accounts": ACCOUNTS, "sales_tax": SALES_TAX,
         "feature_preview": PREVIEW}


def _firm(firm: "Firm") -> dict:
    return next(iter(firm.db.query("SELECT * FROM firm WHERE id = 1")))


def accounting_system(firm: "Firm") -> StepResult:
    if _firm(firm)["accounting_system"] == "builtin":
        return done("accounting_system", "The firm keeps its books in the built-in accounting system", BILLING)
    return missing("accounting_system", "The firm is set to an external accounting system: switch to the built-in "
                   "one", BILLING)


def chart_of_accounts(firm: "Firm") -> StepResult:
    cc = _firm(firm)["chart_template"]
    if cc:
        n = firm.db.execute("SELECT count(*) FROM accounts").fetchone()[0]
        return done("chart_of_accounts", f"Chart of accounts from the {cc} template ({n} accounts)", BILLING)
    return missing("chart_of_accounts", "No chart of accounts yet: create one from a country template", BILLING)


def accrual_method(firm: "Firm") -> StepResult:
    if _firm(firm)["method"] == "accrual":
        return done("accrual_method", "The accounting method is Accrual", PREFERENCES)
    return missing("accrual_method", "The accounting method is Cash, which blocks the QBO integration: invoices are "
                   "posted when created, not when paid (QBO itself may still report on a cash basis): "
                   "switch to Accrual", PREFERENCES)


def bank_account(firm: "Firm") -> StepResult:
    rows = firm.db.execute(
        "SELECT b.name FROM bank_accounts b JOIN contacts c ON c.id = b.bank_contact_id AND c.kind = 'bank' "
        "JOIN accounts a ON a.id = b.gl_account_id AND a.type = 'Bank' AND a.active = 1 "
        "WHERE b.kind = 'operating' ORDER BY b.id").fetchall()
    if rows:
        return done("bank_account", f"Operating bank account: {', '.join(r[0] for r in rows)}", BANKS)
    return missing("bank_account", "No operating bank account linked to a bank contact and a Bank GL account: "
                   "add one", BANKS)


def trust_accounting(firm: "Firm") -> StepResult:
    rows = firm.db.execute(
        "SELECT b.name FROM bank_accounts b JOIN accounts a ON a.id = b.gl_account_id AND a.subtype = 'trust_bank' "
        "WHERE b.kind = 'trust' ORDER BY b.id").fetchall()
    if rows:
        return done("trust_accounting", f"Trust bank account: {', '.join(r[0] for r in rows)}", TRUST)
    if _firm(firm)["no_client_money"]:
        return done("trust_accounting", "The firm states it holds no client money, so it needs no trust account",
                    TRUST)
    return missing("trust_accounting", "No trust bank account: add one, or state that the firm holds no client "
                   "money (`ledgerlink setup no-client-money`)", TRUST)


def income_accounts(firm: "Firm") -> StepResult:
    have = {r[0] for r in firm.db.execute(
        "SELECT DISTINCT subtype FROM accounts WHERE active = 1 AND subtype IN ('fee_income','expense_recovery')")}
    lack = [label for sub, label in (("fee_income", "fee-income"), ("expense_recovery", "expense-recovery"))
            if sub not in have]
    if not lack:
        return done("income_accounts", "Fee-income and expense-recovery accounts exist", ACCOUNTS)
    return missing("income_accounts", f"No active {' or '.join(lack)} account: add one", ACCOUNTS)


def sales_tax(firm: "Firm") -> StepResult:
    rows = firm.db.execute("SELECT name, rate_ppm FROM tax_rates WHERE active = 1").fetchall()
    if not any(ppm == 0 for _, ppm in rows):
        return missing("sales_tax", "No 0% tax rate (QBO needs a zero rate for untaxed lines): add one", SALES_TAX)
    return done("sales_tax", f"{counted(len(rows), 'tax rate')}, including 0%", SALES_TAX)


def feature_preview(firm: "Firm") -> StepResult:
    row = firm.db.execute("SELECT enabled FROM feature_previews WHERE name = 'qbo_integration_upgrade'").fetchone()
    if row and row[0]:
        return done("feature_preview", "The QBO integration upgrade preview is on", PREVIEW)
    return missing("feature_preview", "The \"QBO integration upgrade\" preview is off: switch it on", PREVIEW)


CHECKS: dict[str, Callable[["Firm"], StepResult]] = {
    "accounting_system": accounting_system,
    "chart_of_accounts": chart_of_accounts,
    "accrual_method": accrual_method,
    "bank_account": bank_account,
    "trust_accounting": trust_accounting,
    "income_accounts": income_accounts,
    "sales_tax": sales_tax,
    "feature_preview": feature_preview,
}


def ledger_steps(firm: "Firm") -> list[StepResult]:
    """The 8 ledger-side steps in checklist order (with no firm, the first says how to make one)."""
    if not firm_exists(firm):
        return [missing(step, NEEDS_FIRM if i else NO_FIRM, CREATE, "needs_firm" if i else "no_firm")
                for i, step in enumerate(CHECKS)]
    return [check(firm) for check in CHECKS.values()]
