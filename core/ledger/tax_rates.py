"""Writing tax rates and their components (GST 5% + PST 7%): checked completely before anything is written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from core.errors import ValidationError
from core.ledger.base import audit, format_rate, parse_rate_percent

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
    rate_id = cur.lastrowid
    firm.db.conn.executemany(
        "INSERT INTO tax_rate_components (tax_rate_id, seq, name, rate_ppm, tax_account_id) VALUES (?, ?, ?, ?, ?)",
        [(rate_id, k, n, p, a) for k, (n, p, a) in enumerate(components, 1)])
    if len(components) > 1:
        audit(firm, "add_tax_components", "tax_rate", rate_id,
              "; ".join(f"{n} {format_rate(p)}%" for n, p, _a in components))
    return rate_id
