"""Reference data pulled from QBO into the cache tables, and the diff a refresh shows.

A refresh keeps the maps. It reports what is new, renamed, made inactive or gone, and flags every map
whose QBO reference became inactive or vanished (the map stays until the admin changes it).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from core.qbo import store
from core.qbo.client import QBOClient, dumps
from core.text import counted

log = logging.getLogger(__name__)

DELETED_SUFFIX = " (deleted)"
ALL_ROWS = "Active IN (true, false)"


@dataclass(frozen=True)
class RefChange:
    entity: str
    qbo_id: str
    name: str
    old_name: str | None = None


@dataclass(frozen=True)
class MapFlag:
    kind: str
    ledger_id: int
    qbo_id: str
    qbo_name: str
    problem: str
    """'inactive' or 'gone'."""


ENTITY_NOUNS = {
    "Account": ("account",), "Item": ("product/service", "products/services"), "TaxCode": ("tax code",),
    "TaxRate": ("tax rate",), "Customer": ("customer",),
}


@dataclass(frozen=True)
class RefreshDiff:
    new: tuple[RefChange, ...]
    renamed: tuple[RefChange, ...]
    inactive: tuple[RefChange, ...]
    gone: tuple[RefChange, ...]
    flagged: tuple[MapFlag, ...]
    counts: tuple[tuple[str, int], ...]
    company_name: str
    first_pull: bool = False
    """True when the cache was empty before (nothing to compare with)."""

    @property
    def changed(self) -> bool:
        return bool(self.new or self.renamed or self.inactive or self.gone)

    def counts_text(self) -> str:
        """`139 accounts, 11 products/services, 3 tax codes, ...`"""
        return ", ".join(counted(n, *ENTITY_NOUNS.get(entity, (entity,))) for entity, n in self.counts)


def _details(value) -> list:
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


def tax_code_rate(code: dict, rates: dict[str, Decimal]) -> Decimal | None:
    """The sum of a tax code's sales rates, or None when QBO gives no rate list (e.g. US TAX)."""
    details = _details((code.get("SalesTaxRateList") or {}).get("TaxRateDetail"))
    if not details:
        return Decimal(0) if code.get("Taxable") is False else None
    total = Decimal(0)
    for detail in details:
        ref = (detail.get("TaxRateRef") or {}).get("value")
        if ref not in rates:
            return None
        total += rates[ref]
    return total


def normalise(entity: str, obj: dict, rates: dict[str, Decimal]) -> dict:
    """The cache row of one QBO object."""
    row = {
        "id": str(obj["Id"]),
        "active": 0 if obj.get("Active") is False else 1,
        "type": "",
        "subtype": "",
        "rate": None,
        "taxable": None,
        "sync_token": obj.get("SyncToken"),
    }
    if entity == "Account":
        row.update(name=obj.get("FullyQualifiedName") or obj.get("Name", ""), type=obj.get("AccountType", ""),
                   subtype=obj.get("AccountSubType", ""))
    elif entity == "Item":
        row.update(name=obj.get("FullyQualifiedName") or obj.get("Name", ""), type=obj.get("Type", ""),
                   subtype=(obj.get("IncomeAccountRef") or {}).get("value", ""))
    elif entity == "TaxCode":
        rate = tax_code_rate(obj, rates)
        row.update(name=obj.get("Name", ""), rate=None if rate is None else format(rate, "f"),
                   taxable=None if obj.get("Taxable") is None else int(bool(obj.get("Taxable"))))
    elif entity == "TaxRate":
        row.update(name=obj.get("Name", ""), rate=format(Decimal(str(obj.get("RateValue", 0))), "f"))
    elif entity == "Customer":
        row.update(name=obj.get("DisplayName", ""))
    else:
        raise ValueError(entity)
    return row


def _base_name(name: str) -> str:
    return name[: -len(DELETED_SUFFIX)] if name.endswith(DELETED_SUFFIX) else name


async def fetch_reference(client: QBOClient, progress: Callable[[str], None] | None = None) -> dict:
    """Every reference object from QBO (inactive ones too), plus CompanyInfo and Preferences."""
    pulled: dict = {}
    for entity in ("TaxRate", "TaxCode", "Account", "Item", "Customer"):
        if progress:
            progress(f"Reading {entity} list")
        pulled[entity] = await client.query_all(entity, where=ALL_ROWS)
    if progress:
        progress("Reading company info and preferences")
    pulled["CompanyInfo"] = await client.company_info()
    pulled["Preferences"] = await client.preferences()
    return pulled


def apply_reference(db, pulled: dict) -> RefreshDiff:
    """Write a pull into the cache in one transaction and return what changed."""
    now = store.now_iso()
    rates = {str(r["Id"]): Decimal(str(r.get("RateValue", 0))) for r in pulled.get("TaxRate", [])}
    new, renamed, inactive, gone, counts = [], [], [], [], []
    first = db.execute("SELECT 1 FROM qbo_company WHERE id = 1").fetchone() is None
    with db.atomic():
        for entity, table in store.REF_TABLES.items():
            old = {
                r[0]: (r[1], r[2], r[3])
                for r in db.execute(f"SELECT id, name, active, present FROM {table}").fetchall()
            }
            seen = set()
            objects = pulled.get(entity, [])
            counts.append((entity, len(objects)))
            for obj in objects:
                row = normalise(entity, obj, rates)
                seen.add(row["id"])
                before = old.get(row["id"])
                if before is None or not before[2]:
                    if before is not None or old:
                        new.append(RefChange(entity, row["id"], row["name"]))
                else:
                    if _base_name(before[0]) != _base_name(row["name"]):
                        renamed.append(RefChange(entity, row["id"], row["name"], before[0]))
                    if before[1] and not row["active"]:
                        inactive.append(RefChange(entity, row["id"], row["name"]))
                db.execute(
                    f"INSERT OR REPLACE INTO {table} (id, name, active, present, type, subtype, rate, taxable,"
                    " sync_token, json, pulled_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
                    [row["id"], row["name"], row["active"], row["type"], row["subtype"], row["rate"], row["taxable"],
                     row["sync_token"], dumps(obj), now],
                )
            for qbo_id, (name, _active, present) in old.items():
                if qbo_id not in seen and present:
                    gone.append(RefChange(entity, qbo_id, name))
                    db.execute(f"UPDATE {table} SET present = 0, pulled_at = ? WHERE id = ?", [now, qbo_id])
        company = pulled.get("CompanyInfo") or {}
        name = company.get("CompanyName") or ""
        db.execute(
            "INSERT OR REPLACE INTO qbo_company (id, company_name, country, company_json, preferences_json, pulled_at)"
            " VALUES (1, ?, ?, ?, ?, ?)",
            [name, company.get("Country") or "", dumps(company), dumps(pulled.get("Preferences") or {}), now],
        )
        db.execute("UPDATE qbo_connection SET company_name = ?, country = ? WHERE id = 1", [name, company.get("Country")])
    diff = RefreshDiff(tuple(new), tuple(renamed), tuple(inactive), tuple(gone), flagged_maps(db), tuple(counts), name,
                       first)
    log.info(
        "QBO reference refreshed: %d new, %d renamed, %d inactive, %d gone, %d maps flagged",
        len(diff.new), len(diff.renamed), len(diff.inactive), len(diff.gone), len(diff.flagged),
    )
    return diff


MAP_TABLE = {"sales": "qbo_items", "gl": "qbo_accounts", "tax": "qbo_tax_codes"}


def flagged_maps(db) -> tuple[MapFlag, ...]:
    """Maps whose QBO reference is inactive or no longer exists in QBO."""
    flags = []
    for kind, table in MAP_TABLE.items():
        rows = db.execute(
            f"SELECT m.ledger_id, m.qbo_id, r.name, r.active, r.present FROM qbo_maps m"
            f" LEFT JOIN {table} r ON r.id = m.qbo_id WHERE m.kind = ? ORDER BY m.ledger_id",
            [kind],
        ).fetchall()
        for ledger_id, qbo_id, name, active, present in rows:
            if name is None or not present:
                flags.append(MapFlag(kind, ledger_id, qbo_id, name or qbo_id, "gone"))
            elif not active:
                flags.append(MapFlag(kind, ledger_id, qbo_id, name, "inactive"))
    return tuple(flags)


def cached_company(db) -> dict | None:
    row = db.execute("SELECT company_json, preferences_json FROM qbo_company WHERE id = 1").fetchone()
    if not row:
        return None
    return {"CompanyInfo": json.loads(row[0], parse_float=Decimal), "Preferences": json.loads(row[1], parse_float=Decimal)}


def is_zero_rate(taxable, rate) -> bool:
    """A tax code that charges nothing: not taxable (US NON, exempt) or all its rates are 0."""
    if taxable == 0:
        return True
    return rate is not None and Decimal(rate) == 0
