"""Every wait of the sync is capped exponential with jitter: 30 s, then about twice as long each time, at most an hour.

`schedule` is the one rule (pure); the other functions keep named waits in `sync_meta` so that every process
sees them and `status --json` and the monitor can show when the next try is:
  - `customer:<client id>`: a client whose QBO customer could not be created is looked up again only when its
    wait is over (no metered read every 30 s for one stuck client); a decision clears it;
  - `close_date`: QBO's closing date is read again;
  - `watch`: `sync --watch` (and `run_sync(once=False)`) runs again when documents wait and the last run could
    send none; a save, a decision or a run that sent something starts it over.
Within a run, a request that failed for now is replayed after `schedule(attempt, first=1, cap=max_backoff)`.
Jitter keeps processes and firms that failed together from asking again together: a wait is drawn in
[half, all] of the doubled base ("equal jitter"), so it still grows and never passes the cap.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time

import sqlite_utils

FIRST = 30.0
CAP = 3600.0


def schedule(attempt: int, *, first: float = FIRST, cap: float = CAP, rand: float | None = None) -> float:
    """Seconds to wait after the `attempt`-th failure in a row (1-based): first * 2**(attempt-1), capped at `cap`,
    then drawn in [half, all] of it by `rand` in [0, 1] (random when None; 1 gives the base itself)."""
    if cap <= 0 or first <= 0:
        return 0.0
    base = min(cap, first * 2.0 ** min(max(attempt, 1) - 1, 64))
    r = random.random() if rand is None else min(1.0, max(0.0, rand))
    return base / 2 + base / 2 * r


def _key(name: str) -> str:
    return f"wait:{name}"


def _now(now: float | None) -> float:
    return now if now is not None else time.time()


def waiting(db: sqlite_utils.Database, name: str, now: float | None = None) -> dict | None:
    """The wait of `name` ({"until", "wait", "attempt", "reason"}) while it is not over, else None."""
    row = db.execute("SELECT value FROM sync_meta WHERE key = ?", [_key(name)]).fetchone()
    if not row:
        return None
    wait = json.loads(row[0])
    return wait if _now(now) < wait["until"] else None


def note(db: sqlite_utils.Database, name: str, reason: str = "", now: float | None = None, *,
         first: float = FIRST, cap: float = CAP, rand: float | None = None) -> float:
    """Start or lengthen the wait of `name` (one more failure in a row); returns its length in seconds."""
    row = db.execute("SELECT value FROM sync_meta WHERE key = ?", [_key(name)]).fetchone()
    attempt = (json.loads(row[0]).get("attempt", 1) + 1) if row else 1
    wait = schedule(attempt, first=first, cap=cap, rand=rand)
    value = {"until": _now(now) + wait, "wait": wait, "attempt": attempt, "reason": reason}
    db.execute("INSERT INTO sync_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
               [_key(name), json.dumps(value)])
    return wait


def clear(db: sqlite_utils.Database, name: str) -> None:
    db.execute("DELETE FROM sync_meta WHERE key = ?", [_key(name)])


def waits(db: sqlite_utils.Database, now: float | None = None) -> list[dict]:
    """Every wait not over yet, soonest first: {"name", "reason", "attempt", "wait_seconds", "next_try_at"}
    (next_try_at an ISO-8601 UTC time), for `status --json` and the monitor."""
    out = []
    for key, value in db.execute("SELECT key, value FROM sync_meta WHERE key LIKE 'wait:%'").fetchall():
        wait = json.loads(value)
        if _now(now) < wait["until"]:
            out.append({"name": key.removeprefix("wait:"), "reason": wait.get("reason", ""),
                        "attempt": wait.get("attempt", 1), "wait_seconds": round(wait["wait"], 1),
                        "next_try_at": dt.datetime.fromtimestamp(wait["until"], dt.timezone.utc)
                        .isoformat(timespec="seconds"), "until": wait["until"]})
    out.sort(key=lambda w: w["until"])
    for w in out:
        del w["until"]
    return out


def next_due(db: sqlite_utils.Database, now: float | None = None, *, skip: str | None = None) -> float | None:
    """Seconds until the soonest wait (other than `skip`) is over, or None when none is running."""
    t = _now(now)
    untils = [json.loads(v)["until"] for k, v in db.execute(
        "SELECT key, value FROM sync_meta WHERE key LIKE 'wait:%'").fetchall() if k != _key(skip or "")]
    future = [u - t for u in untils if u > t]
    return min(future) if future else None


WATCH = "watch"


def after_run(db: sqlite_utils.Database, pushed: int, waiting: int, *, first: float = FIRST, cap: float = CAP,
              now: float | None = None, rand: float | None = None) -> float:
    """Seconds until a watching sync runs again by itself (a save still wakes it at once): `first` after a run that
    sent something or left nothing waiting; when documents wait and the run could send none, the `watch` wait
    grows from `first` (FIRST when 0: the TUI's own minute tick) capped, with jitter. Never later than the
    soonest other wait (a client's or the closing date's)."""
    with db.atomic():
        if pushed or not waiting:
            clear(db, WATCH)
            wait = first
        else:
            wait = note(db, WATCH, f"{waiting} document(s) wait and the last run could send none", now,
                        first=first or FIRST, cap=cap, rand=rand)
    other = next_due(db, now, skip=WATCH)
    return min(wait, other) if other is not None else wait
