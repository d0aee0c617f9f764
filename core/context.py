"""The one factory that opens a firm (used by the CLI, the TUI and the tests), and the firm handle every layer
passes around."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

import sqlite_utils

from core import migrations
from core.db import open_db
from core.errors import ConfigError
from core.settings import Settings


@dataclass
class Firm:
    settings: Settings
    db: sqlite_utils.Database
    user: str

    def close(self) -> None:
        self.db.close()


def current_user() -> str:
    """The operating-system user running Ledgerlink (LEDGERLINK_USER overrides it)."""
    return os.environ.get("LEDGERLINK_USER") or getpass.getuser()


def open_firm(settings: Settings, *, readonly: bool = False) -> Firm:
    """Open the firm database of `settings.db`, upgrading its schema in place.

    A file that is not a Ledgerlink firm, or one made by a newer Ledgerlink, is refused untouched. With
    `readonly` nothing is written: a database whose schema is behind is refused with what to run instead.
    """
    db = open_db(settings.db, wal=False, create=not readonly)
    try:
        state = migrations.inspect(db.conn)
        error = migrations.refusal(state, settings.db)
        if error is None and readonly and state.state != "current":
            error = ConfigError(
                f"{settings.db} is at schema {state.version} and this Ledgerlink uses schema {migrations.LATEST}: "
                "run `ledgerlink migrate` (or any command that changes the firm) to upgrade it in place first")
        if error:
            raise error
        if not readonly:
            migrations.migrate(db.conn, settings.db)
            db.enable_wal()
    except BaseException:
        db.close()
        raise
    return Firm(settings=settings, db=db, user=current_user())


def schema_version(settings: Settings) -> int:
    """The schema number of the firm database at `settings.db` (0: made before schema versions), read only."""
    db = open_db(settings.db, wal=False, create=False)
    try:
        state = migrations.inspect(db.conn)
        error = migrations.refusal(state, settings.db)
        if error:
            raise error
        return state.version
    finally:
        db.close()
