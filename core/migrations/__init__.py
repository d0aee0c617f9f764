"""The firm database's schema version and its numbered migrations.

`PRAGMA user_version` names the schema a firm database is at; `PRAGMA application_id` marks the file as a
Ledgerlink firm. The steps are the files of this package named `NNNN_<what>.sql` (a script) or `NNNN_<what>.py`
(a module with `up(conn)`), applied in number order, each in one transaction together with its version bump.

`0001_baseline.sql` is the schema of the first release, frozen. A firm database made before versions existed
(user_version 0, every baseline table present) is stamped as schema 1 and upgraded from there. A file that is
not a Ledgerlink firm, or one made by a newer Ledgerlink, is refused and never written.
"""

from __future__ import annotations

import importlib
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from core.errors import ConfigError

APPLICATION_ID = 0x4C4C4E4B  # "LLNK"
_HERE = Path(__file__).parent
_STEP_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(sql|py)$")
# A table every Ledgerlink firm database has had since the first release; used to recognise a firm made before
# schema versions existed.
_BASELINE_MARKERS = ("firm", "accounts", "journal_entries", "journal_lines", "sync_queue", "qbo_connection",
                     "sync_links")


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    path: Path

    def apply(self, conn: sqlite3.Connection) -> None:
        if self.path.suffix == ".sql":
            for statement in _statements(self.path.read_text()):
                conn.execute(statement)
        else:
            importlib.import_module(f"{__name__}.{self.path.stem}").up(conn)


def _statements(script: str) -> list[str]:
    """Split a script into whole statements (triggers hold `;` inside BEGIN ... END)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--") and not current.strip():
            continue
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out


def steps() -> list[Step]:
    found = []
    for path in sorted(_HERE.iterdir()):
        match = _STEP_NAME.match(path.name)
        if match:
            found.append(Step(int(match.group(1)), match.group(2), path))
    numbers = [s.number for s in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration steps must be numbered 1..n without gaps: {numbers}")
    return found


LATEST = len(steps())

State = Literal["new", "legacy", "current", "behind", "newer", "foreign"]


@dataclass(frozen=True)
class SchemaState:
    state: State
    version: int
    tables: tuple[str, ...]


def inspect(conn: sqlite3.Connection) -> SchemaState:
    """What the open file is, read without writing anything (a file that is not SQLite raises
    sqlite3.DatabaseError, which the front ends turn into their message)."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = tuple(r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"))
    if app_id not in (0, APPLICATION_ID):
        return SchemaState("foreign", version, tables)
    if app_id == 0:
        if not tables and version == 0:
            return SchemaState("new", 0, tables)
        if version == 0 and set(_BASELINE_MARKERS) <= set(tables):
            return SchemaState("legacy", 0, tables)
        return SchemaState("foreign", version, tables)
    if version > LATEST:
        return SchemaState("newer", version, tables)
    return SchemaState("current" if version == LATEST else "behind", version, tables)


def refusal(state: SchemaState, path: object) -> ConfigError | None:
    """The error for a file Ledgerlink must not use, or None."""
    if state.state == "foreign":
        shown = ", ".join(state.tables[:5]) + (", ..." if len(state.tables) > 5 else "")
        return ConfigError(f"{path} is not a Ledgerlink firm database (it holds the tables {shown}); it was left "
                           "untouched: check --db (or LEDGERLINK_DB)")
    if state.state == "newer":
        return ConfigError(f"{path} was made by a newer Ledgerlink (schema {state.version}; this version knows "
                           f"schema {LATEST} at most): upgrade Ledgerlink to open it; the file was left untouched")
    return None


def migrate(conn: sqlite3.Connection, path: object = "the firm database") -> tuple[int, int]:
    """Bring the database to LATEST in place; returns (from, to). Each step commits with its version number."""
    state = inspect(conn)
    error = refusal(state, path)
    if error:
        raise error
    start = state.version
    if state.state == "legacy":
        _in_transaction(conn, lambda: None, 1, expect=0)
        start = 0
    for step in steps():
        if step.number > max(start, _version(conn)):
            _in_transaction(conn, lambda step=step: step.apply(conn), step.number, expect=step.number - 1)
    return start, LATEST


def _version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _in_transaction(conn: sqlite3.Connection, work, number: int, *, expect: int) -> None:
    if conn.in_transaction:
        conn.commit()
    conn.execute("BEGIN IMMEDIATE")
    try:
        if _version(conn) == expect:  # another process may have run this step while we waited for the lock
            work()
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {number}")
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
