"""Accounts and tax rates after set-up, for the TUI's Accounts screen and `ledgerlink accounts|tax-rates`.

Plain values in, frozen dataclasses out. Each row says which QBO map it belongs to and its state there, so that a
new, renamed or deactivated account or rate shows as unmapped (or gone from the map) until the admin fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import NotFound
from core.ledger import queries
from core.ledger.accounts import (
    AccountUse,
    account_uses as _ledger_account_uses,
    add_account,
    delete_account as _delete_account,
    rename_account,
    set_account_active,
    use_text,
    uses_text,
)
from core.ledger.base import transaction
from core.ledger.firm import add_tax_rate
from core.ledger.models import Account, TaxRate
from core.ledger.schema import ACCOUNT_TYPES, SUBTYPES
from core.ledger.tax_rates import change_tax_rate, rename_tax_rate, set_tax_rate_active, tax_rate_uses
from core.qbo import maps as _maps

__all__ = [
    "ACCOUNT_TYPES", "LEDGER_INACTIVE", "SUBTYPES", "AccountRow", "AccountUse", "TaxRateRow", "account_rows", "account_uses",
    "add_account", "add_tax_rate", "change_tax_rate", "deactivate_account", "deactivate_tax_rate", "delete_account",
    "find_account", "find_tax_rate", "map_kind_of", "reactivate_account", "reactivate_tax_rate", "rename_account",
    "rename_tax_rate", "set_account_active", "set_tax_rate_active", "tax_rate_rows", "tax_rate_uses", "use_text",
    "uses_text",
]


LEDGER_INACTIVE = "inactive here"
"""Map status of an inactive ledger account or rate that keeps its mapping (the map no longer offers it)."""


@dataclass(frozen=True)
class AccountRow:
    account: Account
    uses: tuple[AccountUse, ...]
    map_kind: str | None
    """'sales' or 'gl': the QBO map the account belongs to; None when it needs none."""
    map_status: str | None
    """The map row's status ('mapped', 'unmapped', 'inactive', 'gone'), LEDGER_INACTIVE for an inactive account
    still mapped (the map no longer lists it), None when it needs no map."""
    qbo_name: str | None

    def as_json(self) -> dict:
        a = self.account
        return {"id": a.id, "code": a.code, "name": a.name, "type": a.type, "subtype": a.subtype, "active": a.active,
                "used": bool(self.uses), "uses": [{"what": u.what, "count": u.count, "names": list(u.names)}
                                                  for u in self.uses],
                "map": self.map_kind, "map_status": self.map_status, "qbo_name": self.qbo_name}


@dataclass(frozen=True)
class TaxRateRow:
    rate: TaxRate
    uses: tuple[AccountUse, ...]
    map_status: str | None
    qbo_name: str | None

    @property
    def frozen(self) -> bool:
        """Its percentage can no longer change (a posted document used it)."""
        return bool(self.uses)

    def as_json(self) -> dict:
        r = self.rate
        return {"id": r.id, "name": r.name, "rate_percent": r.rate_percent, "exempt": r.exempt, "active": r.active,
                "components": [{"name": c.name, "rate_percent": c.rate_percent, "tax_account_id": c.tax_account_id}
                               for c in r.components],
                "used": bool(self.uses), "uses": [{"what": u.what, "count": u.count} for u in self.uses],
                "map_status": self.map_status, "qbo_name": self.qbo_name}


def map_kind_of(account: Account) -> str | None:
    """The QBO map an account belongs to: income accounts go on invoice lines (sales), GL roles to the GL map."""
    if account.type in ("Income", "Other Income"):
        return "sales"
    if account.subtype in _maps.GL_SUBTYPES:
        return "gl"
    return None


def _mapped(firm, kind: str) -> dict[int, str]:
    return dict(firm.db.execute("SELECT ledger_id, qbo_id FROM qbo_maps WHERE kind = ?", [kind]).fetchall())


def _map_uses(firm, kind: str, ledger_id: int) -> tuple[AccountUse, ...]:
    kinds = ("sales", "gl") if kind == "account" else ("tax",)
    found = [k for k in kinds if ledger_id in _mapped(firm, k)]
    return (AccountUse("map", len(found), tuple(_maps.KIND_TITLES[k] for k in found)),) if found else ()


def account_uses(firm, account_id: int) -> tuple[AccountUse, ...]:
    """Everything that uses an account: ledger rows, bank accounts, tax rates and QBO maps."""
    return (*_ledger_account_uses(firm, account_id), *_map_uses(firm, "account", account_id))


def account_rows(firm, *, include_inactive: bool = True) -> list[AccountRow]:
    """The chart of accounts with each account's uses and QBO map state."""
    rows = {kind: {r.ledger_id: r for r in _maps.list_map(firm.db, kind)} for kind in ("sales", "gl")}
    mapped = {kind: _mapped(firm, kind) for kind in ("sales", "gl")}
    out = []
    for account in queries.list_accounts(firm, active_only=not include_inactive):
        kind = map_kind_of(account)
        row = rows[kind].get(account.id) if kind else None
        status = row.status if row else (LEDGER_INACTIVE if kind and account.id in mapped[kind] else None)
        out.append(AccountRow(account, account_uses(firm, account.id), kind, status, row.qbo_name if row else None))
    return out


def find_account(firm, key) -> Account:
    """An account by its code (or its id when given an int)."""
    if isinstance(key, int):
        return queries.get_account(firm, key)
    return queries.get_account_by_code(firm, key)


def deactivate_account(firm, account_id: int) -> Account:
    return set_account_active(firm, account_id, False)


def reactivate_account(firm, account_id: int) -> Account:
    return set_account_active(firm, account_id, True)


def delete_account(firm, account_id: int) -> Account:
    """Delete an account nothing uses; refused with what uses it otherwise (a QBO map counts)."""
    with transaction(firm):
        return _delete_account(firm, account_id, _map_uses(firm, "account", account_id))


def tax_rate_rows(firm) -> list[TaxRateRow]:
    rows = {r.ledger_id: r for r in _maps.list_map(firm.db, "tax")}
    mapped = _mapped(firm, "tax")
    out = []
    for rate in queries.list_tax_rates(firm):
        row = rows.get(rate.id)
        status = row.status if row else (LEDGER_INACTIVE if rate.id in mapped else None)
        out.append(TaxRateRow(rate, tax_rate_uses(firm, rate.id), status, row.qbo_name if row else None))
    return out


def find_tax_rate(firm, key) -> TaxRate:
    """A tax rate by its name (or id)."""
    rates = queries.list_tax_rates(firm)
    key_text = str(key).strip()
    found = next((r for r in rates if r.name == key_text), None) or next(
        (r for r in rates if str(r.id) == key_text), None)
    if found is None:
        raise NotFound(f"There is no tax rate named {key_text!r}: `ledgerlink tax-rates list` shows them")
    return found


def deactivate_tax_rate(firm, rate_id: int) -> TaxRate:
    return set_tax_rate_active(firm, rate_id, False)


def reactivate_tax_rate(firm, rate_id: int) -> TaxRate:
    return set_tax_rate_active(firm, rate_id, True)
