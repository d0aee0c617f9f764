"""What `reconcile` knows of QBO's documents, kept between runs so that each run reads only what changed.

QBO meters reads (reference §5.15). The first reconcile, `--full`, or one more than CDC_DAYS after the last
reads every Invoice, CreditMemo and Payment (paged queries); the others ask change data capture (§1.6) for what
changed since the last read (by QBO's own clock, from its answers' "time"; by ours less five minutes when
QBO does not tell it), and apply it to the mirror
(deleted objects go). CDC answers at most 1000 objects: an answer that full falls back to a full read.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import sqlite_utils

from core.errors import PermanentError

ENTITIES = ("Invoice", "CreditMemo", "Payment")
CDC_DAYS = 29  # QBO keeps 30 days of changes; a day's margin
CDC_CAP = 1000
OVERLAP = dt.timedelta(minutes=5)  # our clock may differ from QBO's
SERVER_OVERLAP = dt.timedelta(seconds=5)  # QBO's own clock: only writes committed in the same moment
_META = "mirror_read_at"


@dataclass(frozen=True)
class ReadInfo:
    mode: Literal["full", "cdc"]
    why: str  # 'asked' (--full), 'first' (no earlier read), 'stale' (older than CDC_DAYS), 'capped', 'no_cdc',
    # 'changes'
    since: str | None
    calls: int  # metered calls this read made
    changed: int  # objects read


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def last_read(db: sqlite_utils.Database) -> dt.datetime | None:
    row = db.execute("SELECT value FROM sync_meta WHERE key = ?", [_META]).fetchone()
    return dt.datetime.fromisoformat(row[0]) if row else None


def _store(db: sqlite_utils.Database, entity: str, objs: list[dict]) -> None:
    db.conn.executemany(
        "INSERT INTO qbo_mirror (entity, id, json) VALUES (?, ?, ?) "
        "ON CONFLICT(entity, id) DO UPDATE SET json = excluded.json",
        [(entity, str(o["Id"]), json.dumps(o, default=str)) for o in objs])


def _load(db: sqlite_utils.Database) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {e: [] for e in ENTITIES}
    for entity, text in db.execute("SELECT entity, json FROM qbo_mirror ORDER BY entity, CAST(id AS INTEGER), id"):
        if entity in out:
            out[entity].append(json.loads(text, parse_float=Decimal))
    return out


def _server_time(body: dict) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(body.get("time") or ""))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


async def _mark_before_full(client, started: dt.datetime) -> tuple[dt.datetime, int]:
    """Where the next CDC starts after a full read: QBO's own clock at the start of the read (one CDC call
    that asks for nearly nothing), or ours less OVERLAP when QBO does not tell it."""
    try:
        body = await client.cdc(ENTITIES, started.isoformat(timespec="seconds"))
    except PermanentError:
        return started - OVERLAP, 0
    moment = _server_time(body)
    return (moment - SERVER_OVERLAP if moment else started - OVERLAP), 1


async def _full(db: sqlite_utils.Database, client, why: str, started: dt.datetime) -> ReadInfo:
    mark, pages = await _mark_before_full(client, started)
    fresh: dict[str, list[dict]] = {}
    for entity in ENTITIES:
        rows = await client.query_all(entity)
        fresh[entity] = rows
        pages += len(rows) // 1000 + 1
    with db.atomic():
        db.execute(f"DELETE FROM qbo_mirror WHERE entity IN ({','.join('?' * len(ENTITIES))})", list(ENTITIES))
        for entity, rows in fresh.items():
            _store(db, entity, rows)
        _mark(db, mark)
    return ReadInfo("full", why, None, pages, sum(len(r) for r in fresh.values()))


def _mark(db: sqlite_utils.Database, since: dt.datetime) -> None:
    """The changedSince of the next CDC (already moved back by the overlap its clock needs)."""
    db.execute("INSERT INTO sync_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
               [_META, since.isoformat(timespec="seconds")])


async def read_documents(db: sqlite_utils.Database, client, *, full: bool = False,
                         now: dt.datetime | None = None) -> tuple[dict[str, list[dict]], ReadInfo]:
    """QBO's Invoices, CreditMemos and Payments as of now: {entity: [objects]}, and how they were read."""
    started = now or _now()
    last = last_read(db)
    if full or last is None or started - last > dt.timedelta(days=CDC_DAYS):
        info = await _full(db, client, "asked" if full else ("first" if last is None else "stale"), started)
        return _load(db), info
    since = last.isoformat(timespec="seconds")
    try:
        body = await client.cdc(ENTITIES, since)
    except PermanentError:  # a company (or an emulator) that refuses change data capture is read in full
        info = await _full(db, client, "no_cdc", started)
        return _load(db), ReadInfo("full", "no_cdc", since, info.calls + 1, info.changed)
    changed: dict[str, list[dict]] = {}
    for block in body.get("CDCResponse") or []:
        for response in block.get("QueryResponse") or []:
            for entity in ENTITIES:
                changed.setdefault(entity, []).extend(response.get(entity) or [])
    if sum(len(objs) for objs in changed.values()) >= CDC_CAP:
        info = await _full(db, client, "capped", started)
        return _load(db), ReadInfo("full", "capped", since, info.calls + 1, info.changed)
    with db.atomic():
        for entity, objs in changed.items():
            gone = [str(o["Id"]) for o in objs if o.get("status") == "Deleted"]
            db.conn.executemany("DELETE FROM qbo_mirror WHERE entity = ? AND id = ?", [(entity, i) for i in gone])
            _store(db, entity, [o for o in objs if o.get("status") != "Deleted"])
        moment = _server_time(body)
        _mark(db, moment - SERVER_OVERLAP if moment else started - OVERLAP)
    return _load(db), ReadInfo("cdc", "changes", since, 1, sum(len(o) for o in changed.values()))
