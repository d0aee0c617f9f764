"""Metered reads (reference 5.15): QBO meters CorePlus calls (reads, queries, CDC, reports, CompanyInfo,
Preferences; each query item of a batch) per company per calendar month, and blocks them past the app's
monthly allowance. `Meter` counts what the client sends into the firm database (qbo_metered_reads);
`metered_reads` says where the month stands against LEDGERLINK_SYNC__METERED_READS_BUDGET."""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone

log = logging.getLogger(__name__)

WARN_SHARE = 0.8
"""Warn from this share of the monthly budget."""


def month_of(epoch: float) -> str:
    """The calendar month (UTC) a call falls in, e.g. '2026-12'."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m")


def metered_calls(method: str, path: str, batch_items: list[dict] | None = None) -> int:
    """How many metered calls one API request is: GETs and queries 1, a batch its Query items, writes 0."""
    if batch_items is not None:
        return sum(1 for item in batch_items if "Query" in item)
    if method.upper() == "GET":
        return 1
    return 1 if path.strip("/").split("/")[0].lower() == "query" else 0


class Meter:
    """Adds a company's metered calls to this month's row as they are sent. A count the database cannot take
    at once (locked, read-only) is kept and added with the next one."""

    def __init__(self, db, realm_id: str, *, clock=time.time):
        self.db = db
        self.realm_id = realm_id
        self.clock = clock
        self.unsaved: dict[str, int] = {}

    def __call__(self, calls: int) -> None:
        if calls <= 0:
            return
        month = month_of(self.clock())
        self.unsaved[month] = self.unsaved.get(month, 0) + calls
        try:
            for month, n in list(self.unsaved.items()):
                self.db.execute(
                    "INSERT INTO qbo_metered_reads (realm_id, month, count) VALUES (?, ?, ?)"
                    " ON CONFLICT (realm_id, month) DO UPDATE SET count = count + excluded.count",
                    [self.realm_id, month, n],
                )
                del self.unsaved[month]
        except sqlite3.OperationalError as exc:
            log.info("metered-read count kept for later (%s)", exc)


@dataclass(frozen=True)
class MeteredReads:
    realm_id: str
    month: str
    count: int
    budget: int

    @property
    def warning(self) -> bool:
        return self.count >= self.budget * WARN_SHARE

    @property
    def share(self) -> int:
        """Whole per cent of the budget used."""
        return self.count * 100 // self.budget

    def as_json(self) -> dict:
        return {"month": self.month, "count": self.count, "budget": self.budget, "warning": self.warning}

    @classmethod
    def of_json(cls, realm_id: str, data: dict) -> "MeteredReads":
        return cls(realm_id, data["month"], data["count"], data["budget"])


def metered_reads(db, realm_id: str, budget: int, *, now: float | None = None) -> MeteredReads:
    month = month_of(time.time() if now is None else now)
    row = db.execute("SELECT count FROM qbo_metered_reads WHERE realm_id = ? AND month = ?",
                     [realm_id, month]).fetchone()
    return MeteredReads(realm_id, month, int(row[0]) if row else 0, budget)
