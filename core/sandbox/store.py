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
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from core.db import open_db
from core.sandbox import jsonfmt, ledger
from core.sandbox.company import CURRENCIES, Company, month_of
from core.sandbox.entities import ENTITY_TYPES, render
from core.sandbox.injection import FaultRule, Limits, Throttle, parse_faults, parse_limits
from core.sandbox.seed import seed_company, top_up
from core.settings import LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, LOCAL_REDIRECT_URI

__all__ = ["COUNTRIES", "CURRENCIES", "Company", "SandboxState"]

COUNTRIES = ("US", "CA", "UK", "AU", "NZ")
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
CREATE TABLE IF NOT EXISTS company_settings (
    realm TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (realm, key)
) STRICT;
CREATE TABLE IF NOT EXISTS metered (
    realm TEXT NOT NULL, month TEXT NOT NULL, calls INTEGER NOT NULL, PRIMARY KEY (realm, month)
) STRICT;
"""

HARD_LIFETIME = 5 * 365 * 24 * 3600  # a refresh token's five-year limit from consent


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
        company_settings: dict[str, dict[str, Any]] | None = None,
    ):
        """company_settings: {country or realm or "*": {setting: value}}, applied after seeding."""
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
        self.refresh_rotation = "always"  # the token rotation (core.sandbox.oauth.set_tokens); per realm below
        self.refresh_rotation_of: dict[str, str] = {}
        self.refresh_hard_lifetime = HARD_LIFETIME
        self.set_faults(faults)
        self.set_limits(limits)
        self.db_path = Path(db_path)
        self.db = open_db(self.db_path).conn
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.executescript(SCHEMA)
        self._load()
        wanted = [c.upper() for c in companies]
        zero_off = {c.upper() for c in (COUNTRIES if no_zero_tax is True else (no_zero_tax or ()))}
        with self.atomic():
            for company in self.companies.values():
                top_up(company)
            for cc in wanted:
                if not any(c.country == cc for c in self.companies.values()):
                    seed_company(self, cc, no_zero_tax=cc in zero_off)
        for who, values in (company_settings or {}).items():
            targets = [c for c in self.companies.values() if who in ("*", c.country, c.realm)]
            if not targets:
                raise ValueError(f"company setting for {who!r}: no such company (a country code, a realm or *)")
            for company in targets:
                company.settings.update(values)

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

    def execute_committed(self, sql: str, params: tuple = ()) -> None:
        """One statement: inside the open transaction if there is one, else committed on its own."""
        with self.lock:
            if self.db.in_transaction:
                self.db.execute(sql, params)
            else:
                with self.atomic():
                    self.db.execute(sql, params)

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def _load(self) -> None:
        saved: dict[str, dict[str, Any]] = {}
        for realm, key, value in self.db.execute("SELECT realm, key, value FROM company_settings"):
            saved.setdefault(realm, {})[key] = jsonfmt.loads(value)
        for realm, country, name, no_zero in self.db.execute("SELECT realm, country, name, no_zero_tax FROM companies"):
            self.companies[realm] = Company(self, realm, country, name, bool(no_zero), saved.get(realm))
        for realm, month, calls in self.db.execute("SELECT realm, month, calls FROM metered"):
            if realm in self.companies:
                self.companies[realm].metered_calls[month] = calls
        for realm, etype, eid, deleted, updated, data in self.db.execute(
            "SELECT realm, type, id, deleted, updated, data FROM entities ORDER BY rowid"
        ):
            self.companies[realm].load(etype, eid, bool(deleted), updated, data)

    def add_company(self, realm: str, country: str, name: str, no_zero_tax: bool) -> Company:
        """A new, empty company (caller holds atomic(); core.sandbox.seed fills it)."""
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

    def set_company_setting(self, realm_or_country: str, key: str, value: Any) -> None:
        """One company's setting (by realm or country code); ValueError for an unknown key or value."""
        company = self.company(realm_or_country) or next(
            (c for c in self.companies.values() if c.country == str(realm_or_country).upper()), None)
        if company is None:
            raise ValueError(f"no sandbox company {realm_or_country!r}")
        company.settings[key] = value

    def set_tax_rate(self, realm: str, rate_id: str, percent: Decimal | str | int) -> dict:
        """Change a TaxRate's RateValue as a QBO admin could in the QBO screens (the API cannot): for tests that
        force a difference after the tax map was made. Documents already written keep their tax."""
        value = Decimal(str(percent))
        if not Decimal(0) <= value <= Decimal(100):
            raise ValueError(f"a rate is between 0 and 100, not {value}")
        with self.atomic():
            company = self.companies[str(realm)]
            rate = company.get("TaxRate", str(rate_id))
            if rate is None:
                raise ValueError(f"no TaxRate {rate_id} in company {realm}")
            record = dict(rate, RateValue=value, SyncToken=str(int(rate["SyncToken"]) + 1))
            record["MetaData"] = dict(rate["MetaData"], LastUpdatedTime=jsonfmt.stamp())
            company.put("TaxRate", record)
            return record

    def metered(self, realm: str, month: str | None = None) -> int:
        """CorePlus (metered) calls the company has answered this calendar month (or `month`, YYYY-MM)."""
        with self.lock:
            return self.companies[str(realm)].metered(month or month_of(self.now()))

    def balances(self, realm: str, account_id: str) -> dict[str | None, Decimal]:
        """An account's balance per customer (None: postings without one), debits minus credits (reference 5.2)."""
        with self.lock:
            return dict(ledger.by_customer(self.companies[str(realm)], str(account_id)))

    def entities(self, realm: str, etype: str, *, include_inactive: bool = True) -> list[dict]:
        """What a company holds of one entity type, as the API would render it."""
        with self.lock:
            company = self.companies[str(realm)]
            rows = [render(company, etype, r) for r in company.all(etype)]
        if not include_inactive:
            rows = [r for r in rows if r.get("Active", True)]
        return rows

    def entity(self, realm: str, etype: str, eid: str) -> dict | None:
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
        with self.lock:
            out = []
            for company in self.companies.values():
                counts = {t: len(company.rows[t]) for t in ENTITY_TYPES if company.rows[t]}
                out.append({"realm_id": company.realm, "country": company.country, "name": company.name,
                            "no_zero_tax": company.no_zero_tax, "settings": dict(company.settings),
                            "metered_this_month": company.metered(), "counts": counts})
            return out
