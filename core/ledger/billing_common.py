"""What every billing write shares: the validation context (_Ctx), failing with all problems at once, reading a
spec field, deleting a document (a reversal) and the balance check of freshly written entries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from core.errors import ValidationError
from core.ledger import trust
from core.ledger.base import audit, firm_row, mark_dirty, now, one_account, open_balance, reverse_version
from core.ledger.schema import LINE_TYPES
from core.ledger.tax import load_components, tax_method
from core.money import format_minor, parse_amount

if TYPE_CHECKING:
    from core.context import Firm


_KEEP: Any = object()
T = TypeVar("T")


def _ready(drafts: "list[T | None]") -> list[T]:
    """The drafts once `_fail` found no problem (a draft is None only when it had one)."""
    out = [d for d in drafts if d is not None]
    if len(out) != len(drafts):
        raise ValidationError("A document could not be prepared")
    return out


def _one(draft: "T | None") -> T:
    return _ready([draft])[0]


def _fail(problems: list[str]) -> None:
    if problems:
        raise ValidationError(problems[0] if len(problems) == 1 else
                              f"{len(problems)} problems: {problems[0]}", problems)


class _Ctx:
    """What one write needs to validate, loaded once (accounts, tax rates) or on demand (clients, balances)."""

    def __init__(self, firm: "Firm"):
        self.firm = firm
        row = firm_row(firm)
        self.currency = row["currency"]
        self.method = tax_method(row["country"])
        self.accounts = {r["id"]: r for r in firm.db.query("SELECT * FROM accounts")}
        self.tax_rates = {r["id"]: r for r in firm.db.query("SELECT * FROM tax_rates")}
        self.components = load_components(firm.db)
        self.banks = {r["id"]: r for r in firm.db.query("SELECT * FROM bank_accounts")}
        self._contacts: dict[int, dict | None] = {}
        self._matters: dict[int, dict | None] = {}
        self.open: dict[int, int] = {}  # invoice id -> open balance as of the documents prepared so far
        self.trust: dict[tuple[int, int], dict] = {}  # (client, trust account) -> ledgers by matter, as drafted

    def money(self, value, field_name: str) -> int:
        return parse_amount(value, self.currency, field=field_name)

    def fmt(self, minor: int) -> str:
        return f"{format_minor(minor, self.currency)} {self.currency}"

    def label(self, account_id: int) -> str:
        a = self.accounts[account_id]
        return f"{a['code']} {a['name']}"

    def client(self, client_id, problems: list[str], where: str = "client") -> dict | None:
        if client_id not in self._contacts:
            rows = list(self.firm.db.query("SELECT * FROM contacts WHERE id = ?", [client_id]))
            self._contacts[client_id] = rows[0] if rows else None
        row = self._contacts[client_id]
        if row is None or row["kind"] != "client":
            problems.append(f"{where}: there is no client with id {client_id}")
            return None
        return row

    def matter(self, matter_id, client_id, problems: list[str]) -> None:
        if matter_id is None:
            return
        if matter_id not in self._matters:
            rows = list(self.firm.db.query("SELECT * FROM matters WHERE id = ?", [matter_id]))
            self._matters[matter_id] = rows[0] if rows else None
        row = self._matters[matter_id]
        if row is None:
            problems.append(f"matter: there is no matter with id {matter_id}")
        elif row["client_id"] != client_id:
            problems.append(f"matter: matter {row['reference']} belongs to another client")

    def line_account(self, account_id, where: str, problems: list[str]) -> bool:
        a = self.accounts.get(account_id)
        if a is None:
            problems.append(f"{where}account: there is no account with id {account_id}")
        elif not a["active"]:
            problems.append(f"{where}account {self.label(account_id)} is inactive")
        elif a["type"] not in LINE_TYPES:
            problems.append(
                f"{where}account {self.label(account_id)} is a {a['type']} account; "
                "lines need an income or expense-recovery account"
            )
        else:
            return True
        return False

    def tax_rate(self, tax_rate_id, where: str, problems: list[str]) -> dict | None:
        t = self.tax_rates.get(tax_rate_id)
        if t is None:
            problems.append(f"{where}tax rate: there is no tax rate with id {tax_rate_id}")
        elif not t["active"]:
            problems.append(f"{where}tax rate {t['name']} is inactive")
        else:
            return t
        return None

    def line_refs(self, line, at: str, problems: list[str]) -> tuple[int | None, dict | None]:
        """The account (checked as a line account) and tax rate of an invoice or credit-note line."""
        account_id = _field(line, "account_id")
        ok = self.line_account(account_id, at, problems)
        return (account_id if ok else None), self.tax_rate(_field(line, "tax_rate_id"), at, problems)

    def subtype_account(self, subtype: str, purpose: str) -> int:
        for a in sorted(self.accounts.values(), key=lambda a: a["code"]):
            if a["subtype"] == subtype and a["active"]:
                return a["id"]
        return one_account(self.firm, subtype, purpose)

    def open_balance(self, invoice_id: int) -> int:
        if invoice_id not in self.open:
            self.open[invoice_id] = open_balance(self.firm, invoice_id)
        return self.open[invoice_id]

    def trust_ledgers(self, client_id: int, bank_account_id: int) -> dict:
        key = (client_id, bank_account_id)
        if key not in self.trust:
            self.trust[key] = trust.ledgers_of(self.firm, client_id, bank_account_id)
        return self.trust[key]


def _field(spec, name: str, default=None):
    return spec.get(name, default) if isinstance(spec, dict) else getattr(spec, name, default)


def _check_entries_balance(firm: "Firm", first_entry: int) -> None:
    """Inside the write transaction: every entry written from `first_entry` on sums to zero."""
    bad = firm.db.execute(
        "SELECT entry_id, sum(amount_minor) FROM journal_lines WHERE entry_id >= ? GROUP BY entry_id "
        "HAVING sum(amount_minor) != 0 LIMIT 1", [first_entry]).fetchone()
    if bad:
        raise ValidationError(f"Journal entry {bad[0]} does not balance (off by {bad[1]} minor units)")

def _delete(firm: "Firm", table: str, doc_type: str, row: dict, label: str) -> None:
    v = row["version"] + 1
    with firm.db.atomic():
        reverse_version(firm, date=row["date"], doc_type=doc_type, doc_id=row["id"], version=row["version"],
                        new_version=v, memo=f"Deletion of {doc_type.replace('_', ' ')} {label}")
        firm.db.execute(f"UPDATE {table} SET status = 'deleted', version = ?, updated_at = ? WHERE id = ?",
                        [v, now(), row["id"]])
        mark_dirty(firm, doc_type, row["id"], v, "delete")
        audit(firm, f"delete_{doc_type}", doc_type, row["id"], label)


def _minor_text(ctx: _Ctx, minor: int) -> str:
    return format_minor(minor, ctx.currency, grouping=False)
