"""Matters as QBO sub-customers (jobs): a firm setting, off by default, and the link of each matter to its job.

- firm.matters_as_jobs: 0 (every document goes to the client's customer, as before) or 1 (a matter's documents go
  to a sub-customer of the client's customer). A firm upgraded from an earlier release keeps 0.
- sync_jobs: matter -> QBO job (Id once created; the display name and generation fixed before the create is sent,
  so a crash replays the same request instead of creating a second job). One QBO job serves one matter.
"""

from __future__ import annotations

import sqlite3

_STATEMENTS = (
    "ALTER TABLE firm ADD COLUMN matters_as_jobs INTEGER NOT NULL DEFAULT 0 CHECK (matters_as_jobs IN (0,1))",
    """CREATE TABLE sync_jobs (
         matter_id INTEGER PRIMARY KEY REFERENCES matters(id),
         client_id INTEGER NOT NULL REFERENCES contacts(id),
         qbo_id TEXT,
         parent_qbo_id TEXT NOT NULL,
         display_name TEXT NOT NULL,
         generation INTEGER NOT NULL DEFAULT 0,
         updated_at TEXT NOT NULL
       ) STRICT""",
    "CREATE UNIQUE INDEX sync_jobs_qbo ON sync_jobs(qbo_id) WHERE qbo_id IS NOT NULL",
)


def up(conn: sqlite3.Connection) -> None:
    for statement in _STATEMENTS:
        conn.execute(statement)
