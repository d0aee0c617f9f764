"""One sandbox company: its entities by type and id (in memory and in the state file), its indexes, its
settings (the behaviours the reference leaves UNCONFIRMED, per company) and its metered-read counter.

It knows nothing of the entity rules (core.sandbox.entities) or the seeds: those import it, never the reverse.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Any, Iterator

from core.sandbox import jsonfmt
from core.sandbox.injection import Throttle

CURRENCIES = {
    "US": ("USD", "United States Dollar"),
    "CA": ("CAD", "Canadian Dollar"),
    "UK": ("GBP", "British Pound Sterling"),
    "AU": ("AUD", "Australian Dollar"),
    "NZ": ("NZD", "New Zealand Dollar"),
}
CURRENCY_NAMES = {code: name for code, name in CURRENCIES.values()} | {
    "EUR": "Euro", "JPY": "Japanese Yen", "CHF": "Swiss Franc", "INR": "Indian Rupee", "MXN": "Mexican Peso",
    "SGD": "Singapore Dollar", "HKD": "Hong Kong Dollar", "ZAR": "South African Rand", "CNY": "Chinese Yuan Renminbi",
}

# Per-company behaviours: name -> (default, allowed values or a type). Each default is the stricter reading.
SETTINGS: dict[str, tuple[Any, Any]] = {
    # a client-sent TaxLine amount is kept (read-back shows OverrideDeltaAmount) or recomputed (reference 5.14)
    "tax_overrides": (False, bool),
    # rounding of round2(net x rate): the reference leaves half-up vs half-even unconfirmed (5.14)
    "tax_rounding": ("half-up", ("half-up", "half-even")),
    # a sparse Invoice/CreditMemo update that carries Line: refused with 2020, or replaces every line (1.5)
    "sparse_line": ("refuse", ("refuse", "replace")),
    # Preferences.CurrencyPrefs.MultiCurrencyEnabled
    "multicurrency": (False, bool),
    # CorePlus (metered) calls allowed a calendar month; None = no cap (5.15)
    "metered_cap": (None, int),
    # a Payment's lines link only invoices/credit memos of its own CustomerRef, or also those of its jobs
    # (sub-customers); the reference does not say (5.5, 5.7)
    "job_payments": ("same_customer", ("same_customer", "parent_or_job")),
}


def parse_setting(key: str, value: Any) -> Any:
    """A setting's value from Python or from text (`--company-setting KEY=VALUE`); ValueError names the problem."""
    if key not in SETTINGS:
        raise ValueError(f"unknown company setting {key!r} (one of {', '.join(SETTINGS)})")
    default, allowed = SETTINGS[key]
    if isinstance(value, str):
        text = value.strip().lower()
        if allowed is bool:
            if text not in ("true", "false", "on", "off", "1", "0", "yes", "no"):
                raise ValueError(f"company setting {key} takes on or off, not {value!r}")
            value = text in ("true", "on", "1", "yes")
        elif allowed is int:
            if text in ("none", "off", ""):
                value = None
            elif not text.isdigit():
                raise ValueError(f"company setting {key} takes a whole number or none, not {value!r}")
            else:
                value = int(text)
        else:
            value = text
    if allowed is bool and not isinstance(value, bool):
        raise ValueError(f"company setting {key} takes true or false, not {value!r}")
    if allowed is int and value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"company setting {key} takes a whole number or None, not {value!r}")
    if isinstance(allowed, tuple) and value not in allowed:
        raise ValueError(f"company setting {key} takes one of {', '.join(allowed)}, not {value!r}")
    return value


class CompanySettings(dict):
    """A company's settings: every key always present (defaults), a change validated and saved at once.
    `company.settings["sparse_line"] = "replace"` is all a test needs."""

    def __init__(self, company: "Company", saved: dict[str, Any]):
        super().__init__({key: default for key, (default, _) in SETTINGS.items()})
        super().update({k: v for k, v in saved.items() if k in SETTINGS})
        self._company = company

    def __setitem__(self, key: str, value: Any) -> None:
        value = parse_setting(key, value)
        state = self._company.state
        with state.lock:
            super().__setitem__(key, value)
            state.execute_committed(
                "INSERT OR REPLACE INTO company_settings (realm, key, value) VALUES (?, ?, ?)",
                (self._company.realm, key, jsonfmt.dumps(value)),
            )

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def reset(self) -> None:
        """Every setting back to its default (the stricter reading)."""
        for key, (default, _) in SETTINGS.items():
            self[key] = default


def month_of(moment: float) -> str:
    return time.strftime("%Y-%m", time.gmtime(moment))


# The field each type must keep unique (compared case-insensitively), indexed for speed.
UNIQUE_FIELDS = {"Customer": "DisplayName", "Vendor": "DisplayName", "Item": "Name", "Account": "FullyQualifiedName",
                 "Invoice": "DocNumber", "CreditMemo": "DocNumber"}
CUSTOMER_DOCS = ("Invoice", "CreditMemo", "Payment")


def _ref(record: dict, key: str) -> str | None:
    ref = record.get(key)
    return str(ref["value"]) if isinstance(ref, dict) and ref.get("value") not in (None, "") else None


class Company:
    """One QBO company: its entities by type and id, in memory and in the file."""

    def __init__(self, state: Any, realm: str, country: str, name: str, no_zero_tax: bool,
                 settings: dict[str, Any] | None = None):
        self.state = state
        self.realm = realm
        self.country = country
        self.name = name
        self.no_zero_tax = no_zero_tax
        self.rows: dict[str, dict[str, dict]] = defaultdict(dict)
        self.deleted: dict[str, dict[str, float]] = defaultdict(dict)
        self.updated: dict[tuple[str, str], float] = {}
        self.counters: dict[str, int] = defaultdict(int)
        # (TxnType, TxnId) -> {payment id: applied amount}
        self.applied: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
        self.unique: dict[str, dict[str, str]] = defaultdict(dict)
        self.docs_of: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self.children: dict[str, set[str]] = defaultdict(set)
        self.throttle = Throttle()
        self._undo: list | None = None  # inside savepoint(): how to take back each change in memory
        self.settings = CompanySettings(self, settings or {})
        self.version = 0  # bumped by every change: derived figures (account balances) are cached per version
        self.metered_calls: dict[str, int] = {}

    @property
    def us(self) -> bool:
        return self.country == "US"

    def currency(self) -> dict:
        code, name = CURRENCIES[self.country]
        return {"value": code, "name": name}

    @property
    def home_currency(self) -> str:
        return CURRENCIES[self.country][0]

    # -- metered (CorePlus) reads, per calendar month
    def metered(self, month: str | None = None) -> int:
        return self.metered_calls.get(month or month_of(self.state.now()), 0)

    def meter(self, calls: int = 1) -> bool:
        """Count CorePlus calls; False (and nothing counted) when the month's cap is reached."""
        month = month_of(self.state.now())
        used = self.metered_calls.get(month, 0)
        cap = self.settings["metered_cap"]
        if cap is not None and used + calls > cap:
            return False
        self.metered_calls[month] = used + calls
        self.state.execute_committed(
            "INSERT INTO metered (realm, month, calls) VALUES (?, ?, ?)"
            " ON CONFLICT (realm, month) DO UPDATE SET calls = calls + excluded.calls",
            (self.realm, month, calls),
        )
        return True

    # -- reading
    def get(self, etype: str, eid: str) -> dict | None:
        return self.rows[etype].get(str(eid))

    def all(self, etype: str) -> list[dict]:
        return list(self.rows[etype].values())

    def find(self, etype: str, value: Any) -> str | None:
        """The id of the record whose unique field equals value (case-insensitive), if any."""
        return self.unique[etype].get(str(value).strip().lower())

    def customer_docs(self, customer_id: str) -> list[tuple[str, dict]]:
        return [(t, self.rows[t][i]) for t, i in self.docs_of.get(customer_id, ()) if i in self.rows[t]]

    def _index(self, etype: str, record: dict | None, eid: str, old: dict | None) -> None:
        field = UNIQUE_FIELDS.get(etype)
        if field:
            if old is not None:
                key = str(old.get(field, "")).strip().lower()
                if self.unique[etype].get(key) == eid:
                    del self.unique[etype][key]
            if record is not None and str(record.get(field, "")).strip():
                self.unique[etype][str(record[field]).strip().lower()] = eid
        if etype in CUSTOMER_DOCS:
            if old is not None and (was := _ref(old, "CustomerRef")):
                self.docs_of[was].discard((etype, eid))
            if record is not None and (new := _ref(record, "CustomerRef")):
                self.docs_of[new].add((etype, eid))
        if etype == "Customer":
            if old is not None and (was := _ref(old, "ParentRef")):
                self.children[was].discard(eid)
            if record is not None and (new := _ref(record, "ParentRef")):
                self.children[new].add(eid)

    def next_id(self, etype: str) -> str:
        self.counters[etype] += 1
        return str(self.counters[etype])

    def _count(self, etype: str, eid: str) -> None:
        if eid.isdigit():
            self.counters[etype] = max(self.counters[etype], int(eid))

    # -- writing (callers hold the state lock and run inside state.atomic())
    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """One write (a batch item, a request) that either happens whole or leaves no trace, in the file
        and in memory: a SQLite savepoint inside the request's transaction, and an undo list for the mirror."""
        db = self.state.db
        db.execute("SAVEPOINT write")
        outer, self._undo = self._undo, []
        counters = dict(self.counters)
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK TO write")
            db.execute("RELEASE write")
            for undo in reversed(self._undo):
                undo()
            self.counters = defaultdict(int, counters)
            raise
        else:
            db.execute("RELEASE write")
            if outer is not None:
                outer.extend(self._undo)
        finally:
            self._undo = outer

    def _keep_undo(self, etype: str, eid: str) -> None:
        if self._undo is None:
            return
        old = self.rows[etype].get(eid)
        updated = self.updated.get((etype, eid))
        deleted = self.deleted[etype].get(eid)

        def undo() -> None:
            self.version += 1
            self._index(etype, old, eid, self.rows[etype].get(eid))
            _restore(self.rows[etype], eid, old)
            _restore(self.updated, (etype, eid), updated)
            _restore(self.deleted[etype], eid, deleted)
            if etype == "Payment":
                self._unindex_payment(eid)
                if old is not None:
                    self._index_payment(old)

        self._undo.append(undo)

    def put(self, etype: str, record: dict) -> None:
        eid = record["Id"]
        self._keep_undo(etype, eid)
        self.version += 1
        now = self.state.now()
        self._index(etype, record, eid, self.rows[etype].get(eid))
        self.rows[etype][eid] = record
        self.updated[(etype, eid)] = now
        self.deleted[etype].pop(eid, None)
        self._count(etype, eid)
        if etype == "Payment":
            self._index_payment(record)
        self.state.db.execute(
            "INSERT OR REPLACE INTO entities (realm, type, id, deleted, updated, data) VALUES (?, ?, ?, 0, ?, ?)",
            (self.realm, etype, eid, now, jsonfmt.dumps(record)),
        )

    def remove(self, etype: str, eid: str) -> None:
        self._keep_undo(etype, eid)
        self.version += 1
        now = self.state.now()
        record = self.rows[etype].pop(eid)
        self._index(etype, None, eid, record)
        self.deleted[etype][eid] = now
        self.updated[(etype, eid)] = now
        if etype == "Payment":
            self._unindex_payment(eid)
        self.state.db.execute(
            "UPDATE entities SET deleted = 1, updated = ?, data = ? WHERE realm = ? AND type = ? AND id = ?",
            (now, jsonfmt.dumps({"Id": eid, "MetaData": record.get("MetaData", {})}), self.realm, etype, eid),
        )

    def load(self, etype: str, eid: str, deleted: bool, updated: float, data: str) -> None:
        self._count(etype, eid)
        self.updated[(etype, eid)] = updated
        if deleted:
            self.deleted[etype][eid] = updated
            return
        record = jsonfmt.loads(data)
        self._index(etype, record, eid, None)
        self.rows[etype][eid] = record
        if etype == "Payment":
            self._index_payment(record)

    def _unindex_payment(self, pid: str) -> None:
        for applied in self.applied.values():
            applied.pop(pid, None)

    def _index_payment(self, payment: dict) -> None:
        self._unindex_payment(payment["Id"])
        for line in payment.get("Line") or []:
            for link in line.get("LinkedTxn") or []:
                key = (link["TxnType"], str(link["TxnId"]))
                self.applied[key][payment["Id"]] = self.applied[key].get(payment["Id"], 0) + line["Amount"]

    def applied_to(self, txn_type: str, txn_id: str) -> dict[str, Any]:
        return self.applied.get((txn_type, str(txn_id)), {})


def _restore(table: dict, key: Any, value: Any) -> None:
    """Put back what a table held under `key` before a failed batch (None: it held nothing)."""
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value
