"""JSON as QBO writes it: amounts with two decimals, other numbers as given, times with a local offset.

Request bodies are parsed with `parse_float=Decimal` so no amount ever passes through a float.
"""

from __future__ import annotations

import json
import re
from json.encoder import encode_basestring as _string
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")

# Fields written with exactly two decimals (QBO: "Amount": 100.00, but a zero is written 0).
MONEY_FIELDS = frozenset(
    {
        "Amount",
        "TotalAmt",
        "Balance",
        "HomeBalance",
        "UnappliedAmt",
        "TotalTax",
        "NetAmountTaxable",
        "RemainingCredit",
        "BalanceWithJobs",
        "CurrentBalance",
        "CurrentBalanceWithSubAccounts",
        "txnOpenBalance",
        "HomeTotalAmt",
        "OverrideDeltaAmount",
    }
)

_MARK = "\u0000N:"
_MARK_RE = re.compile(r'"\\u0000N:(-?[0-9.]+)"')


class BadJSON(ValueError):
    """The request body is not JSON QBO could read."""


def loads(raw: bytes | str) -> Any:
    try:
        return json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadJSON(str(exc)) from exc


def money(value: Any) -> Decimal:
    """A request amount as a Decimal rounded to cents (ints and numeric strings accepted)."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not an amount")
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def number(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ValueError("not a number")
    return Decimal(str(value))


def _plain(d: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 75, 4.5."""
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1)))
    return format(d.normalize(), "f")


def _encode(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: _encode(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v, key) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (Decimal, int, float)):
        d = value if isinstance(value, Decimal) else Decimal(str(value))
        if key in MONEY_FIELDS and d != 0:
            return _MARK + str(d.quantize(CENT, rounding=ROUND_HALF_UP))
        return _MARK + _plain(d)
    return value


def _number_text(value: Any, key: str | None) -> str:
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if not d.is_finite():
        return _string(_MARK + _plain(d))  # as the marker-and-regex encoding leaves it: a string
    if key in MONEY_FIELDS and d != 0:
        return str(d.quantize(CENT, rounding=ROUND_HALF_UP))
    return _plain(d)


def _key(key: Any) -> str:
    """A non-string key as json writes it: 1 -> "1", None -> "null"."""
    return json.dumps({key: 0}, ensure_ascii=False, separators=(",", ":"))[1:-3]


def _write(value: Any, key: str | None, out: list) -> None:
    """Append value's JSON to out: one pass, numbers written as QBO writes them."""
    kind = type(value)
    if kind is str:
        out.append(_string(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        sep = "{"
        for k, v in value.items():
            out.append(sep)
            out.append(_string(k) if type(k) is str else _key(k))
            out.append(":")
            _write(v, k, out)
            sep = ","
        out.append("}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        sep = "["
        for v in value:
            out.append(sep)
            _write(v, key, out)
            sep = ","
        out.append("]")
    elif value is None or kind is bool:
        out.append("null" if value is None else "true" if value else "false")
    elif isinstance(value, (Decimal, int, float)):
        out.append(_number_text(value, key))
    else:  # subclasses of str, dict or list, and what json itself refuses
        out.append(_MARK_RE.sub(r"\1", json.dumps(_encode(value, key), ensure_ascii=False, separators=(",", ":"))))


def dumps(value: Any) -> str:
    """Serialise with QBO's number formatting (compact, non-ASCII kept)."""
    out: list[str] = []
    _write(value, None, out)
    return "".join(out)


def canonical(value: Any) -> str:
    """A key-order-independent form, for telling a real change from a no-op."""
    return json.dumps(_encode(value), sort_keys=True, ensure_ascii=False)


def now() -> datetime:
    return datetime.now().astimezone()


def stamp(moment: datetime | None = None) -> str:
    """An entity timestamp: 2020-09-29T05:58:07-07:00."""
    return (moment or now()).isoformat(timespec="seconds")


def time_field(moment: datetime | None = None) -> str:
    """The top-level "time": 2020-09-29T05:58:07.300-07:00."""
    return (moment or now()).isoformat(timespec="milliseconds")


def epoch_ms(moment: datetime | None = None) -> int:
    return int((moment or now()).timestamp() * 1000)


def parse_when(text: str) -> datetime | None:
    """An ISO date or datetime from a query or CDC parameter; None when it is not one."""
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment


def add_days(day: str, days: int) -> str:
    return (datetime.fromisoformat(day) + timedelta(days=days)).date().isoformat()
