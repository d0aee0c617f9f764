"""Opening the firm database: one SQLite file, WAL mode, created 0600."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Iterator

import sqlite_utils

from core.errors import ConfigError


class Database(sqlite_utils.Database):
    """sqlite-utils' Database whose outermost `atomic()` takes the write lock at BEGIN (IMMEDIATE; nested blocks
    stay savepoints). Under a deferred BEGIN a block that reads and then writes must upgrade its read lock, and
    when another process (the TUI beside a cron sync) wrote in between SQLite answers "database is locked" at
    once: busy_timeout does not retry that. IMMEDIATE waits for the lock (busy_timeout) before reading."""

    @contextlib.contextmanager
    def atomic(self) -> Iterator["Database"]:
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                self.rollback()
                raise


def open_db(path: Path | str, *, memory: bool = False, wal: bool = True, create: bool = True) -> sqlite_utils.Database:
    """Open a database file readable only by its owner (created when `create`; WAL switched on when `wal`).

    The firm opener passes `wal=False` and switches WAL on only once it knows the file is a Ledgerlink firm: a
    journal-mode change writes to the file.
    """
    if memory:
        db = Database(memory=True)
    else:
        path = Path(path).expanduser()
        if not create and not path.exists():
            raise ConfigError(f"There is no database at {path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
        except OSError as exc:
            raise ConfigError(f"Cannot create the database file {path}: {exc.strerror}") from exc
        try:
            conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        except sqlite3.Error as exc:
            raise ConfigError(f"Cannot open the database file {path}: {exc}") from exc
        db = Database(conn)
        if wal:
            db.enable_wal()
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA busy_timeout = 30000")
    return db
