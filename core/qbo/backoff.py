"""Waits that cost metered reads back off: 30 s, then twice as long each time, at most an hour.

A client whose QBO customer could not be created (a name QBO keeps for an inactive customer, a vendor or an
employee) is looked up again, and QBO's closing date is read again, only when its wait is over; `sync --watch`
no longer pays a metered read every 30 s for one stuck client. A decision or a change of the cause clears it.
"""

from __future__ import annotations

import json
import time

import sqlite_utils

FIRST = 30.0
CAP = 3600.0


def _key(name: str) -> str:
    return f"wait:{name}"


def waiting(db: sqlite_utils.Database, name: str, now: float | None = None) -> dict | None:
    """The wait of `name` ({"until", "wait", "reason"}) while it is not over, else None."""
    row = db.execute("SELECT value FROM sync_meta WHERE key = ?", [_key(name)]).fetchone()
    if not row:
        return None
    wait = json.loads(row[0])
    return wait if (now if now is not None else time.time()) < wait["until"] else None


def note(db: sqlite_utils.Database, name: str, reason: str = "", now: float | None = None) -> float:
    """Start or double the wait of `name`; returns its length in seconds."""
    row = db.execute("SELECT value FROM sync_meta WHERE key = ?", [_key(name)]).fetchone()
    wait = min(CAP, json.loads(row[0])["wait"] * 2) if row else FIRST
    value = {"until": (now if now is not None else time.time()) + wait, "wait": wait, "reason": reason}
    db.execute("INSERT INTO sync_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
               [_key(name), json.dumps(value)])
    return wait


def clear(db: sqlite_utils.Database, name: str) -> None:
    db.execute("DELETE FROM sync_meta WHERE key = ?", [_key(name)])
