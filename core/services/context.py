"""The one factory that opens a firm: used by the CLI, the TUI and the tests."""

from __future__ import annotations

import getpass
import importlib
import importlib.util
import os
from dataclasses import dataclass

import sqlite_utils

from core.db import open_db
from core.ledger.schema import ensure_schema
from core.settings import Settings

# Other areas keep their tables in the same file; each exposes ensure_schema(db).
_EXTRA_SCHEMAS = ("core.qbo.store", "core.qbo.sync_store")


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


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def open_firm(settings: Settings) -> Firm:
    """Open (creating if needed) the firm database of `settings.db` and bring every schema up to date."""
    db = open_db(settings.db)
    ensure_schema(db)
    for name in _EXTRA_SCHEMAS:
        if _module_exists(name):
            importlib.import_module(name).ensure_schema(db)
    return Firm(settings=settings, db=db, user=current_user())
