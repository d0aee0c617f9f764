"""What every entity rule shares: reading amounts, dates and references out of a request body as QBO does,
and the currency check every transaction makes. Raises `faults.Fault` for what QBO refuses."""

from __future__ import annotations

import functools
import json
from datetime import date
from decimal import Decimal
from typing import Any, Literal, overload

from core import paths
from core.sandbox import faults, jsonfmt
from core.sandbox.company import CURRENCY_NAMES, Company

ZERO = Decimal("0.00")
SYSTEM = ("Id", "SyncToken", "domain", "sparse", "MetaData", "status", "time")


@functools.cache
def known_properties() -> dict[str, frozenset[str]]:
    """Top-level properties QBO accepts per writable entity (data/sandbox/properties.json)."""
    raw = json.loads((paths.DATA_DIR / "sandbox" / "properties.json").read_text())
    return {etype: frozenset(names) for etype, names in raw.items()}


def blank(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def _convert(convert, value: Any, element: str) -> Decimal:
    try:
        return convert(value)
    except (ValueError, ArithmeticError):
        raise faults.Fault("2010", "Request has invalid or unsupported property",
                           f"Property Name:Can not construct instance of java.math.BigDecimal from {value!r} "
                           "specified is unsupported or invalid", element) from None


def money(value: Any, element: str) -> Decimal:
    return _convert(jsonfmt.money, value, element)


def number(value: Any, element: str) -> Decimal | None:
    return None if blank(value) else _convert(jsonfmt.number, value, element)


def ref_id(ref: Any) -> str | None:
    if isinstance(ref, dict):
        value = ref.get("value")
        return None if blank(value) else str(value)
    return None


@overload
def resolve(company: Company, etype: str, ref: Any, element: str, *, required: Literal[True],
            allow_inactive: bool = False) -> dict:
    ...


@overload
def resolve(company: Company, etype: str, ref: Any, element: str, *, required: bool = False,
            allow_inactive: bool = False) -> dict | None:
    ...


def resolve(company: Company, etype: str, ref: Any, element: str, *, required: bool = False,
            allow_inactive: bool = False) -> dict | None:
    """The record a reference points to: 2020 if required and absent, 2500 unknown, 610 inactive."""
    rid = ref_id(ref)
    if rid is None:
        if required:
            raise faults.missing(element)
        return None
    record = company.get(etype, rid)
    if record is None:
        raise faults.invalid_reference(element)
    if not allow_inactive and record.get("Active") is False:
        raise faults.not_found(element)
    return record


def named(record: dict, key: str = "Name") -> dict:
    return {"value": record["Id"], "name": record.get("FullyQualifiedName") or record.get(key, "")}


def today() -> str:
    return date.today().isoformat()


def parse_date(value: Any, element: str) -> str | None:
    if blank(value):
        return None
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise faults.Fault("2010", "Request has invalid or unsupported property",
                           f"Property Name:Can not parse date {value!r} specified is unsupported or invalid",
                           element) from None


def meta(created: str, updated: str | None = None) -> dict:
    return {"CreateTime": created, "LastUpdatedTime": updated or created}


def enum(value: Any, allowed: tuple[str, ...], element: str) -> str:
    if value not in allowed:
        raise faults.Fault("2170", "Invalid Enumeration", f"Invalid Enumeration : {value}", element)
    return value


def apply_currency(company: Company, record: dict, body: dict, party: dict | None, total: Decimal) -> None:
    """CurrencyRef, ExchangeRate and HomeTotalAmt of a transaction.

    A currency other than the home currency needs multicurrency on (6000 otherwise: reference 11 item 18
    assumes 6000, and a refusal is the stricter reading), must be the customer's or vendor's currency, and
    needs an ExchangeRate above 0; HomeTotalAmt = round2(TotalAmt x ExchangeRate)."""
    home = company.home_currency
    party_currency = ref_id((party or {}).get("CurrencyRef")) or home
    code = ref_id(body.get("CurrencyRef")) or party_currency
    code = code.upper()
    if code != home and not company.settings["multicurrency"]:
        raise faults.business(
            f"The currency {code} cannot be used: this company's home currency is {home} and multicurrency is "
            "off.", "CurrencyRef")
    if code not in CURRENCY_NAMES:
        raise faults.invalid_reference("CurrencyRef")
    if party is not None and code != party_currency:
        raise faults.business(
            f"The transaction currency {code} must be the currency of {party.get('DisplayName', 'the name')} "
            f"({party_currency}).", "CurrencyRef")
    record["CurrencyRef"] = {"value": code, "name": CURRENCY_NAMES[code]}
    if code == home:
        record.pop("ExchangeRate", None)
        record.pop("HomeTotalAmt", None)
        return
    rate = number(body.get("ExchangeRate"), "ExchangeRate")
    if rate is None:
        raise faults.missing("ExchangeRate")
    if rate <= 0:
        raise faults.business(f"The exchange rate must be more than 0 (supplied {rate}).", "ExchangeRate")
    record["ExchangeRate"] = rate
    record["HomeTotalAmt"] = jsonfmt.money(total * rate)


def home_amount(record: dict, amount: Decimal) -> Decimal:
    """An amount of a transaction in the company's home currency."""
    rate = record.get("ExchangeRate")
    return jsonfmt.money(amount * jsonfmt.number(rate)) if rate not in (None, "") else amount
