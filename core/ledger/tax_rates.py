"""Writing tax rates and their components (GST 5% + PST 7%): checked completely before anything is written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from core.errors import Conflict, ValidationError
from core.ledger import queries
from core.ledger.base import audit, format_rate, inserted_id, parse_rate_percent, require_role, writes
from core.ledger.models import TaxRate

if TYPE_CHECKING:
    from core.context import Firm


def _part(spec, key: str, index: int):
    if isinstance(spec, dict):
        return spec.get(key)
    return spec[index] if len(spec) > index else None


def check_components(firm: "Firm", rate_name: str, rate_ppm: int, exempt: bool, components: Sequence,
                     default_account_id: int | None) -> list[tuple[str, int, int]]:
    """The components of a rate as (name, rate_ppm, account id), or a ValidationError naming the component.

    `components`: [{name, rate_percent, tax_account_id}] or [(name, rate_percent, tax_account_id)]; empty: a
    non-zero rate is one component of the whole rate posting to `default_account_id`.
    """
    accounts = {r[0]: r for r in firm.db.execute("SELECT id, code, name, subtype, active FROM accounts")}

    def liability(account_id, where: str) -> int:
        if account_id is None or account_id == "":
            raise ValidationError(f"{where} has no liability account: give the sales tax payable account it posts to")
        acc = accounts.get(account_id)
        if acc is None:
            raise ValidationError(f"{where}: there is no account with id {account_id}")
        if acc[3] != "sales_tax" or not acc[4]:
            raise ValidationError(f"{where}: account {acc[1]} {acc[2]} is not an active sales tax payable account")
        return account_id

    if not components:
        if not rate_ppm:
            return []
        if default_account_id is None:
            raise ValidationError("A non-zero rate needs a sales tax payable account: add one in Setup › Accounts")
        return [(rate_name, rate_ppm, liability(default_account_id, f"tax rate {rate_name}"))]
    if exempt:
        raise ValidationError(f"An exempt rate has no components; {rate_name} was given {len(components)}")
    out: list[tuple[str, int, int]] = []
    for n, spec in enumerate(components, 1):
        name = str(_part(spec, "name", 0) or "").strip()
        where = f"component {n}" + (f" ({name})" if name else "")
        if not name:
            raise ValidationError(f"{where}: a component needs a name")
        if any(name == o[0] for o in out):
            raise ValidationError(f"{where}: two components of {rate_name} are named '{name}'")
        raw = _part(spec, "rate_percent", 1)
        ppm = parse_rate_percent(raw, f"{where} rate")
        if ppm == 0:
            raise ValidationError(f"{where} rate: a component must be more than 0% (a zero rate has no components)")
        out.append((name, ppm, liability(_part(spec, "tax_account_id", 2), where)))
    total = sum(ppm for _n, ppm, _a in out)
    if total != rate_ppm:
        raise ValidationError(
            f"The components of {rate_name} add up to {format_rate(total)}%, not the rate's {format_rate(rate_ppm)}%: "
            + " + ".join(f"{n} {format_rate(p)}%" for n, p, _a in out))
    return out


def insert_tax_rate(firm: "Firm", name: str, rate_ppm: int, exempt: bool,
                    components: list[tuple[str, int, int]]) -> int:
    """Write a checked rate and its components (inside the caller's transaction); returns the rate's id."""
    cur = firm.db.execute(
        "INSERT INTO tax_rates (name, rate_ppm, exempt, tax_account_id) VALUES (?, ?, ?, ?)",
        [name, rate_ppm, int(exempt), components[0][2] if components else None])
    rate_id = inserted_id(cur)
    firm.db.conn.executemany(
        "INSERT INTO tax_rate_components (tax_rate_id, seq, name, rate_ppm, tax_account_id) VALUES (?, ?, ?, ?, ?)",
        [(rate_id, k, n, p, a) for k, (n, p, a) in enumerate(components, 1)])
    if len(components) > 1:
        audit(firm, "add_tax_components", "tax_rate", rate_id,
              "; ".join(f"{n} {format_rate(p)}%" for n, p, _a in components))
    return rate_id


# --- after set-up: rename, deactivate, change an unused rate ---------------------------------------

def tax_rate_uses(firm: "Firm", rate_id: int) -> tuple:
    """What in the ledger uses the rate (posted documents' lines and tax adjustments), as AccountUse values."""
    from core.ledger.accounts import AccountUse

    uses = []
    for what, sql in (
        ("invoice_lines", "SELECT count(*) FROM invoice_lines WHERE tax_rate_id = ?"),
        ("credit_note_lines", "SELECT count(*) FROM credit_note_lines WHERE tax_rate_id = ?"),
        ("tax_adjustment", "SELECT count(*) FROM tax_adjustments WHERE tax_rate_id = ?"),
    ):
        n = firm.db.execute(sql, [rate_id]).fetchone()[0]
        if n:
            uses.append(AccountUse(what, n))
    return tuple(uses)


def _rate_row(firm: "Firm", rate_id: int) -> dict:
    from core.ledger.base import get_row

    return get_row(firm, "tax_rates", rate_id, "tax rate")


@writes
def rename_tax_rate(firm: "Firm", rate_id: int, name: str) -> TaxRate:
    """A new name for a rate (its percentage, components and history stay)."""
    require_role(firm, "admin", "rename tax rates")
    row = _rate_row(firm, rate_id)
    name = str(name or "").strip()
    if not name:
        raise ValidationError("name: a tax rate needs a name")
    if firm.db.execute("SELECT 1 FROM tax_rates WHERE name = ? AND id != ?", [name, rate_id]).fetchone():
        raise Conflict(f"name: there is already a tax rate named '{name}'")
    if name != row["name"]:
        firm.db.execute("UPDATE tax_rates SET name = ? WHERE id = ?", [name, rate_id])
        audit(firm, "rename_tax_rate", "tax_rate", rate_id, f"{row['name']} -> {name}")
    return queries.get_tax_rate(firm, rate_id)


@writes
def set_tax_rate_active(firm: "Firm", rate_id: int, active: bool) -> TaxRate:
    """Deactivate a rate (not offered on new lines; documents that used it keep it) or reactivate it."""
    require_role(firm, "admin", "change tax rates")
    row = _rate_row(firm, rate_id)
    if active:
        dead = [r[0] for r in firm.db.execute(
            "SELECT a.code || ' ' || a.name FROM tax_rate_components c JOIN accounts a ON a.id = c.tax_account_id "
            "WHERE c.tax_rate_id = ? AND a.active = 0", [rate_id])]
        if dead:
            raise ValidationError(f"Tax rate {row['name']} posts to the inactive account {', '.join(dead)}: "
                                  "reactivate the account first")
    if bool(row["active"]) != bool(active):
        firm.db.execute("UPDATE tax_rates SET active = ? WHERE id = ?", [int(bool(active)), rate_id])
        audit(firm, "set_tax_rate_active", "tax_rate", rate_id,
              f"{row['name']}: {'active' if active else 'inactive'}")
    return queries.get_tax_rate(firm, rate_id)


@writes
def change_tax_rate(firm: "Firm", rate_id: int, rate_percent: str, *, tax_account_id: int | None = None,
                    components: Sequence | None = None) -> TaxRate:
    """A new percentage (and components) for a rate no document has used yet; a used rate is refused: posted
    history is never rewritten, so the way is to deactivate it and add a new rate."""
    require_role(firm, "admin", "change tax rates")
    row = _rate_row(firm, rate_id)
    ppm = parse_rate_percent(rate_percent)
    if row["exempt"] and ppm:
        raise ValidationError(f"rate: {row['name']} is an exempt rate and stays 0%")
    old = [(r[0], r[1], r[2]) for r in firm.db.execute(
        "SELECT name, rate_ppm, tax_account_id FROM tax_rate_components WHERE tax_rate_id = ? ORDER BY seq", [rate_id])]
    default = tax_account_id if tax_account_id is not None else (old[0][2] if old else None)
    if ppm and default is None and not components:
        first = firm.db.execute(
            "SELECT id FROM accounts WHERE subtype = 'sales_tax' AND active = 1 ORDER BY code").fetchone()
        default = first[0] if first else None
    parts = check_components(firm, row["name"], ppm, bool(row["exempt"]), list(components or []), default)
    if ppm == row["rate_ppm"] and parts == old:
        return queries.get_tax_rate(firm, rate_id)
    uses = tax_rate_uses(firm, rate_id)
    if uses:
        from core.ledger.accounts import uses_text

        raise Conflict(
            f"Tax rate {row['name']} is used by {uses_text(uses)}: its percentage ({format_rate(row['rate_ppm'])}%) "
            f"cannot change, because posted history is never rewritten. Deactivate it and add a new rate "
            f"of {format_rate(ppm)}% instead")
    firm.db.execute("DELETE FROM tax_rate_components WHERE tax_rate_id = ?", [rate_id])
    firm.db.execute("UPDATE tax_rates SET rate_ppm = ?, tax_account_id = ? WHERE id = ?",
                    [ppm, parts[0][2] if parts else None, rate_id])
    firm.db.conn.executemany(
        "INSERT INTO tax_rate_components (tax_rate_id, seq, name, rate_ppm, tax_account_id) VALUES (?, ?, ?, ?, ?)",
        [(rate_id, k, n, p, a) for k, (n, p, a) in enumerate(parts, 1)])
    audit(firm, "change_tax_rate", "tax_rate", rate_id, f"{row['name']}: {format_rate(row['rate_ppm'])}% -> "
          + (" + ".join(f"{n} {format_rate(p)}%" for n, p, _a in parts) or "0%"))
    return queries.get_tax_rate(firm, rate_id)
