"""The chart of accounts after set-up: add, rename, deactivate and reactivate; delete only what nothing uses.

A change is refused with the field or the use that blocks it (`AccountUse`, data a screen or the CLI renders).
An account once used (a journal line, a document line, a bank account, a tax rate, a QBO map) is never deleted:
it can be deactivated, and then it is not offered for new documents but keeps its history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from core.errors import Conflict, ValidationError
from core.ledger import queries
from core.ledger.base import audit, get_row, require_role, writes
from core.ledger.models import Account
from core.ledger.schema import ACCOUNT_TYPES, SUBTYPES

if TYPE_CHECKING:
    from core.context import Firm

ROLE = "admin"
"""The chart of accounts is set-up work: an admin changes it (as add_account and add_tax_rate always needed)."""


@dataclass(frozen=True)
class AccountUse:
    """One thing that uses an account (or a tax rate): `what` is a code, `count` how many, `names` a few of them."""

    what: str
    """'journal' (posted journal lines), 'invoice_lines', 'credit_note_lines', 'bank_account', 'tax_rate',
    'tax_adjustment', 'map' (a QBO map row)."""
    count: int
    names: tuple[str, ...] = ()


USE_WORDS = {
    "journal": ("posted journal line", "posted journal lines"),
    "invoice_lines": ("invoice line", "invoice lines"),
    "credit_note_lines": ("credit note line", "credit note lines"),
    "bank_account": ("bank account", "bank accounts"),
    "tax_rate": ("tax rate", "tax rates"),
    "tax_adjustment": ("tax adjustment", "tax adjustments"),
    "map": ("QuickBooks map", "QuickBooks maps"),
}


def use_text(use: AccountUse) -> str:
    one, many = USE_WORDS.get(use.what, (use.what, use.what))
    text = f"{use.count} {one if use.count == 1 else many}"
    return text + (f" ({', '.join(use.names)})" if use.names else "")


def uses_text(uses: Sequence[AccountUse]) -> str:
    return ", ".join(use_text(u) for u in uses)


def _count(firm: "Firm", sql: str, params: list) -> int:
    return firm.db.execute(sql, params).fetchone()[0]


def account_uses(firm: "Firm", account_id: int) -> tuple[AccountUse, ...]:
    """What in the ledger uses the account (QBO maps are added by core.services.accounts)."""
    uses: list[AccountUse] = []
    for what, sql in (
        ("journal", "SELECT count(*) FROM journal_lines WHERE account_id = ?"),
        ("invoice_lines", "SELECT count(*) FROM invoice_lines WHERE account_id = ?"),
        ("credit_note_lines", "SELECT count(*) FROM credit_note_lines WHERE account_id = ?"),
    ):
        n = _count(firm, sql, [account_id])
        if n:
            uses.append(AccountUse(what, n))
    banks = tuple(r[0] for r in firm.db.execute("SELECT name FROM bank_accounts WHERE gl_account_id = ? ORDER BY name",
                                                [account_id]))
    if banks:
        uses.append(AccountUse("bank_account", len(banks), banks))
    rates = tuple(r[0] for r in firm.db.execute(
        "SELECT DISTINCT r.name FROM tax_rates r LEFT JOIN tax_rate_components c ON c.tax_rate_id = r.id "
        "WHERE r.tax_account_id = ? OR c.tax_account_id = ? ORDER BY r.name", [account_id, account_id]))
    if rates:
        uses.append(AccountUse("tax_rate", len(rates), rates))
    return tuple(uses)


def _clean_name(name) -> str:
    name = str(name or "").strip()
    if not name:
        raise ValidationError("name: an account needs a name")
    return name


@writes
def add_account(firm: "Firm", *, code: str, name: str, type: str, subtype: str = "general") -> Account:
    """A new account; every problem is named by its field (code, name, type, subtype)."""
    require_role(firm, ROLE, "add accounts")
    code, name = str(code or "").strip(), str(name or "").strip()
    problems = []
    if not code:
        problems.append("code: an account needs a code")
    if not name:
        problems.append("name: an account needs a name")
    if type not in ACCOUNT_TYPES:
        problems.append(f"type: '{type}' is not an account type ({', '.join(ACCOUNT_TYPES)})")
    if subtype not in SUBTYPES:
        problems.append(f"subtype: '{subtype}' is not one of {', '.join(SUBTYPES)}")
    elif type in ACCOUNT_TYPES and type not in SUBTYPES[subtype]:
        problems.append(f"subtype: a {subtype.replace('_', ' ')} account must be of type "
                        f"{' or '.join(sorted(SUBTYPES[subtype]))}, not {type}")
    if problems:
        raise ValidationError(problems[0], problems)
    taken = firm.db.execute("SELECT name FROM accounts WHERE code = ?", [code]).fetchone()
    if taken:
        raise Conflict(f"code: Account code {code} is already used by {code} {taken[0]}")
    account_id = firm.db.execute("INSERT INTO accounts (code, name, type, subtype) VALUES (?, ?, ?, ?) RETURNING id",
                                 [code, name, type, subtype]).fetchone()[0]
    audit(firm, "add_account", "account", account_id, f"{code} {name} ({type}, {subtype})")
    return queries.get_account(firm, account_id)


@writes
def rename_account(firm: "Firm", account_id: int, name: str) -> Account:
    """A new name for an account (its code, type and history stay)."""
    require_role(firm, ROLE, "rename accounts")
    row = get_row(firm, "accounts", account_id, "account")
    name = _clean_name(name)
    if name != row["name"]:
        firm.db.execute("UPDATE accounts SET name = ? WHERE id = ?", [name, account_id])
        audit(firm, "rename_account", "account", account_id, f"{row['code']}: {row['name']} -> {name}")
    return queries.get_account(firm, account_id)


def _deactivation_blocker(firm: "Firm", row: dict) -> str | None:
    label = f"{row['code']} {row['name']}"
    bank = firm.db.execute("SELECT name FROM bank_accounts WHERE gl_account_id = ?", [row["id"]]).fetchone()
    if bank:
        return (f"Account {label} is the ledger account of the bank account {bank[0]}: payments go through it, "
                "so it stays active")
    rates = [r[0] for r in firm.db.execute(
        "SELECT DISTINCT r.name FROM tax_rates r LEFT JOIN tax_rate_components c ON c.tax_rate_id = r.id "
        "WHERE r.active = 1 AND (r.tax_account_id = ? OR c.tax_account_id = ?) ORDER BY r.name",
        [row["id"], row["id"]])]
    if rates:
        return (f"Account {label} is the liability account of the active tax rate{'s' if len(rates) > 1 else ''} "
                f"{', '.join(rates)}: deactivate {'them' if len(rates) > 1 else 'it'} first")
    return None


@writes
def set_account_active(firm: "Firm", account_id: int, active: bool) -> Account:
    """Deactivate (not offered for new documents or maps; its history stays in reports) or reactivate."""
    require_role(firm, ROLE, "change accounts")
    row = get_row(firm, "accounts", account_id, "account")
    if not active:
        blocker = _deactivation_blocker(firm, row)
        if blocker:
            raise Conflict(blocker)
    if bool(row["active"]) != bool(active):
        firm.db.execute("UPDATE accounts SET active = ? WHERE id = ?", [int(bool(active)), account_id])
        audit(firm, "set_account_active", "account", account_id,
              f"{row['code']} {row['name']}: {'active' if active else 'inactive'}")
    return queries.get_account(firm, account_id)


@writes
def delete_account(firm: "Firm", account_id: int, other_uses: Sequence[AccountUse] = ()) -> Account:
    """Delete an account nothing uses (a mistake just made); anything used is refused with what uses it."""
    require_role(firm, ROLE, "delete accounts")
    row = get_row(firm, "accounts", account_id, "account")
    account = queries.get_account(firm, account_id)
    uses = (*account_uses(firm, account_id), *other_uses)
    if uses:
        raise Conflict(f"Account {account.label} cannot be deleted: it is used by {uses_text(uses)}. "
                       "Deactivate it instead: it is then not offered for new documents and keeps its history")
    firm.db.execute("DELETE FROM accounts WHERE id = ?", [account_id])
    audit(firm, "delete_account", "account", account_id, f"{row['code']} {row['name']}")
    return account
