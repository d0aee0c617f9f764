"""The sandbox's state: companies and what they hold, OAuth grants, remembered requestids.

Everything lives in one SQLite file (so a rehearsal survives a restart and can be inspected) and is
mirrored in memory for speed. One re-entrant lock guards it: the server thread and the test thread
both call in.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

from core.db import open_db
from core.sandbox import jsonfmt
from core.sandbox.injection import FaultRule, Limits, Throttle, parse_faults, parse_limits
from core.settings import LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, LOCAL_REDIRECT_URI

COUNTRIES = ("US", "CA", "UK", "AU", "NZ")
CURRENCIES = {
    "US": ("USD", "United States Dollar"),
    "CA": ("CAD", "Canadian Dollar"),
    "UK": ("GBP", "British Pound Sterling"),
    "AU": ("AUD", "Australian Dollar"),
    "NZ": ("NZD", "New Zealand Dollar"),
}
ACCESS_LIFETIME = 3600
REFRESH_LIFETIME = 100 * 24 * 3600
CODE_LIFETIME = 600

SCHEMA = """
CREATE TABLE IF NOT EXISTS companies (
    realm TEXT PRIMARY KEY, country TEXT NOT NULL, name TEXT NOT NULL, no_zero_tax INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS entities (
    realm TEXT NOT NULL REFERENCES companies(realm), type TEXT NOT NULL, id TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0, updated REAL NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (realm, type, id)
) STRICT;
CREATE TABLE IF NOT EXISTS grants (
    token TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('code', 'access', 'refresh')),
    handle TEXT NOT NULL, grant_id TEXT NOT NULL, client_id TEXT NOT NULL, realm TEXT NOT NULL,
    scope TEXT NOT NULL, redirect_uri TEXT NOT NULL, expires REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('live', 'used', 'rotated', 'revoked'))
) STRICT;
CREATE INDEX IF NOT EXISTS grants_by_grant ON grants (grant_id);
CREATE TABLE IF NOT EXISTS requests (
    realm TEXT NOT NULL, requestid TEXT NOT NULL, status INTEGER NOT NULL, content_type TEXT NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (realm, requestid)
) STRICT;
"""


# The field each type must keep unique (compared case-insensitively), indexed for speed.
UNIQUE_FIELDS = {"Customer": "DisplayName", "Item": "Name", "Account": "FullyQualifiedName",
                 "Invoice": "DocNumber", "CreditMemo": "DocNumber"}
CUSTOMER_DOCS = ("Invoice", "CreditMemo", "Payment")


def _ref(record: dict, key: str) -> str | None:
    ref = record.get(key)
    return str(ref["value"]) if isinstance(ref, dict) and ref.get("value") not in (None, "") else None


class Company:
    """One QBO company: its entities by type and id, in memory and in the file."""

    def __init__(self, state: "SandboxState", realm: str, country: str, name: str, no_zero_tax: bool):
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

    @property
    def us(self) -> bool:
        return self.country == "US"

    def currency(self) -> dict:
        code, name = CURRENCIES[self.country]
        return {"value": code, "name": name}

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
            if old is not None and _ref(old, "CustomerRef"):
                self.docs_of[_ref(old, "CustomerRef")].discard((etype, eid))
            if record is not None and _ref(record, "CustomerRef"):
                self.docs_of[_ref(record, "CustomerRef")].add((etype, eid))
        if etype == "Customer":
            if old is not None and _ref(old, "ParentRef"):
                self.children[_ref(old, "ParentRef")].discard(eid)
            if record is not None and _ref(record, "ParentRef"):
                self.children[_ref(record, "ParentRef")].add(eid)

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
            self._index(etype, old, eid, self.rows[etype].get(eid))
            for table, key, value in ((self.rows[etype], eid, old), (self.updated, (etype, eid), updated),
                                      (self.deleted[etype], eid, deleted)):
                if value is None:
                    table.pop(key, None)
                else:
                    table[key] = value
            if etype == "Payment":
                self._unindex_payment(eid)
                if old is not None:
                    self._index_payment(old)

        self._undo.append(undo)

    def put(self, etype: str, record: dict) -> None:
        eid = record["Id"]
        self._keep_undo(etype, eid)
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


class SandboxState:
    """The whole sandbox: companies, OAuth client and grants, faults, limits, requestids, clock."""

    def __init__(
        self,
        db_path: Path | str,
        *,
        client_id: str = LOCAL_CLIENT_ID,
        client_secret: str = LOCAL_CLIENT_SECRET,
        redirect_uri: str = LOCAL_REDIRECT_URI,
        companies: tuple[str, ...] | list[str] = COUNTRIES,
        access_token_lifetime: int = ACCESS_LIFETIME,
        refresh_token_lifetime: int = REFRESH_LIFETIME,
        faults: str | list[FaultRule] | None = None,
        limits: str | Limits | dict | None = None,
        no_zero_tax: bool | tuple[str, ...] | list[str] = False,
        seed: int | None = None,
    ):
        self.lock = threading.RLock()
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.access_token_lifetime = access_token_lifetime
        self.refresh_token_lifetime = refresh_token_lifetime
        self.rng = random.Random(seed)
        self.clock_offset = 0.0
        self.companies: dict[str, Company] = {}
        self.faults: list[FaultRule] = []
        self.limits = Limits()
        self.set_faults(faults)
        self.set_limits(limits)
        self.db_path = Path(db_path)
        self.db = open_db(self.db_path).conn
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.executescript(SCHEMA)
        self._load()
        from core.sandbox.seed import seed_company

        wanted = [c.upper() for c in companies]
        zero_off = {c.upper() for c in (COUNTRIES if no_zero_tax is True else (no_zero_tax or ()))}
        with self.atomic():
            for cc in wanted:
                if not any(c.country == cc for c in self.companies.values()):
                    seed_company(self, cc, no_zero_tax=cc in zero_off)

    # -- plumbing
    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the sandbox's clock forward (token expiry, throttle windows) without waiting."""
        with self.lock:
            self.clock_offset += seconds

    @contextmanager
    def atomic(self) -> Iterator[None]:
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def _load(self) -> None:
        for realm, country, name, no_zero in self.db.execute("SELECT realm, country, name, no_zero_tax FROM companies"):
            self.companies[realm] = Company(self, realm, country, name, bool(no_zero))
        for realm, etype, eid, deleted, updated, data in self.db.execute(
            "SELECT realm, type, id, deleted, updated, data FROM entities ORDER BY rowid"
        ):
            self.companies[realm].load(etype, eid, bool(deleted), updated, data)

    def add_company(self, realm: str, country: str, name: str, no_zero_tax: bool) -> Company:
        self.db.execute(
            "INSERT INTO companies (realm, country, name, no_zero_tax) VALUES (?, ?, ?, ?)",
            (realm, country, name, int(no_zero_tax)),
        )
        company = self.companies[realm] = Company(self, realm, country, name, no_zero_tax)
        return company

    # -- public run-time controls
    @property
    def realm_ids(self) -> dict[str, str]:
        return {c.country: c.realm for c in self.companies.values()}

    def company(self, realm: str) -> Company | None:
        return self.companies.get(str(realm))

    def set_faults(self, faults: str | list[FaultRule] | None = None) -> None:
        """Replace the fault rules (a SPEC string or FaultRule objects; None clears them)."""
        with self.lock:
            self.faults = parse_faults(faults) if isinstance(faults, str) or faults is None else list(faults)

    def set_limits(self, limits: str | Limits | dict | None = None, **changes: Any) -> None:
        """Set the throttles: a SPEC string, a Limits, a dict or keyword changes (None restores QBO's)."""
        with self.lock:
            if isinstance(limits, Limits):
                base = limits
            elif isinstance(limits, dict):
                base = replace(Limits(), **limits)
            else:
                base = parse_limits(limits) if limits else Limits()
            self.limits = replace(base, **changes) if changes else base
            for company in self.companies.values():
                company.throttle = Throttle()

    def entities(self, realm: str, etype: str, *, include_inactive: bool = True) -> list[dict]:
        """What a company holds of one entity type, as the API would render it."""
        from core.sandbox.entities import render

        with self.lock:
            company = self.companies[str(realm)]
            rows = [render(company, etype, r) for r in company.all(etype)]
        if not include_inactive:
            rows = [r for r in rows if r.get("Active", True)]
        return rows

    def entity(self, realm: str, etype: str, eid: str) -> dict | None:
        from core.sandbox.entities import render

        with self.lock:
            company = self.companies[str(realm)]
            record = company.get(etype, eid)
            return render(company, etype, record) if record else None

    # -- OAuth grants
    def _token(self, prefix: str) -> str:
        return prefix + secrets.token_urlsafe(36)

    def issue_code(self, realm: str, scope: str, redirect_uri: str) -> str:
        code = self._token("AB1")
        with self.atomic():
            self._insert_grant(code, "code", secrets.token_hex(8), realm, scope, redirect_uri, CODE_LIFETIME)
        return code

    def _insert_grant(self, token: str, kind: str, grant_id: str, realm: str, scope: str,
                      redirect_uri: str, lifetime: float) -> None:
        handle = "AB" + str(int(self.now() * 1000)) + secrets.token_hex(4)
        self.db.execute(
            "INSERT INTO grants (token, kind, handle, grant_id, client_id, realm, scope, redirect_uri, expires, state)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'live')",
            (token, kind, handle, grant_id, self.client_id, realm, scope, redirect_uri, self.now() + lifetime),
        )

    def grant(self, token: str) -> dict | None:
        with self.lock:
            cur = self.db.execute(
                "SELECT token, kind, handle, grant_id, client_id, realm, scope, redirect_uri, expires, state"
                " FROM grants WHERE token = ?",
                (token,),
            )
            row = cur.fetchone()
        if not row:
            return None
        keys = ("token", "kind", "handle", "grant_id", "client_id", "realm", "scope", "redirect_uri", "expires", "state")
        return dict(zip(keys, row))

    def issue_tokens(self, grant_id: str, realm: str, scope: str, redirect_uri: str, refresh_expires: float | None = None) -> tuple[str, str]:
        """A new access and refresh token for a grant (caller holds atomic())."""
        access = self._token("eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..")
        refresh = self._token("RT1-")
        self._insert_grant(access, "access", grant_id, realm, scope, redirect_uri, self.access_token_lifetime)
        lifetime = self.refresh_token_lifetime if refresh_expires is None else refresh_expires - self.now()
        self._insert_grant(refresh, "refresh", grant_id, realm, scope, redirect_uri, lifetime)
        return access, refresh

    def mark(self, token: str, state: str) -> None:
        self.db.execute("UPDATE grants SET state = ? WHERE token = ?", (state, token))

    def revoke_grant(self, grant_id: str) -> None:
        self.db.execute("UPDATE grants SET state = 'revoked' WHERE grant_id = ? AND kind != 'code'", (grant_id,))

    def expire_access_tokens(self, realm: str | None = None) -> int:
        """Make every live access token (of one company) expire now; returns how many."""
        with self.atomic():
            cur = self.db.execute(
                "UPDATE grants SET expires = ? WHERE kind = 'access' AND state = 'live' AND expires > ?"
                + (" AND realm = ?" if realm else ""),
                (self.now() - 1, self.now(), *((str(realm),) if realm else ())),
            )
            return cur.rowcount

    def expire_token(self, token: str) -> None:
        with self.atomic():
            self.db.execute("UPDATE grants SET expires = ? WHERE token = ?", (self.now() - 1, token))

    # -- requestid replay
    def remembered(self, realm: str, requestid: str) -> tuple[int, str, str] | None:
        with self.lock:
            row = self.db.execute(
                "SELECT status, content_type, body FROM requests WHERE realm = ? AND requestid = ?",
                (realm, requestid),
            ).fetchone()
        return tuple(row) if row else None

    def remember(self, realm: str, requestid: str, status: int, content_type: str, body: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO requests (realm, requestid, status, content_type, body) VALUES (?, ?, ?, ?, ?)",
            (realm, requestid, status, content_type, body),
        )

    # -- summary for `ledgerlink sandbox dump`
    def summary(self) -> list[dict]:
        from core.sandbox.entities import ENTITY_TYPES

        with self.lock:
            out = []
            for company in self.companies.values():
                counts = {t: len(company.rows[t]) for t in ENTITY_TYPES if company.rows[t]}
                out.append({"realm_id": company.realm, "country": company.country, "name": company.name,
                            "no_zero_tax": company.no_zero_tax, "counts": counts})
            return out
