"""Give the database its requestid salt (core.qbo.sync_store) when it has none: a new firm, or one made before the
salt existed. The same six-letter alphabet as sync_store; a forget-links purge gives a new one there."""

from __future__ import annotations

import secrets
import sqlite3

ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def up(conn: sqlite3.Connection) -> None:
    salt = "".join(secrets.choice(ALPHABET) for _ in range(6))
    conn.execute("INSERT OR IGNORE INTO sync_meta (key, value) VALUES ('salt', ?)", [salt])
