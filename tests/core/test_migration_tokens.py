"""Migration 0003_tokens on a firm made by the previous release (tests/fixtures/firm_schema0.sql, connected and
synced): documents, balances, tokens and links are kept; the new columns say "not known yet" (NULL) and the
connection keeps working on the old defaults; the metered-read table starts empty."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from core.cli import main
from core.qbo import store
from core.qbo.oauth import leeway
from core.services.context import open_firm
from core.settings import Settings

LEGACY = Path(__file__).parents[1] / "fixtures" / "firm_schema0.sql"


def test_the_token_migration_keeps_the_connection_and_adds_sensible_values(tmp_path, capsys):
    db = tmp_path / "firm.db"
    conn = sqlite3.connect(db)
    conn.executescript(LEGACY.read_text())
    before = conn.execute("SELECT * FROM qbo_connection").fetchall()
    balances = conn.execute("SELECT account_id, sum(amount_minor), count(*) FROM journal_lines"
                            " GROUP BY account_id ORDER BY account_id").fetchall()
    links = conn.execute("SELECT count(*) FROM sync_links").fetchone()[0]
    conn.close()
    assert before and links

    assert main(["--db", str(db), "migrate"]) == 0
    capsys.readouterr()
    conn = sqlite3.connect(db)
    after = conn.execute("SELECT * FROM qbo_connection").fetchall()
    assert [row[: len(before[0])] for row in after] == before  # tokens, expiries, realm untouched
    new = conn.execute("SELECT access_lifetime, refresh_hard_expires_at, refresh_lease_owner, refresh_lease_until"
                       " FROM qbo_connection").fetchall()
    assert new == [(None, None, None, None)]  # unknown until the next refresh tells; no lease held
    assert conn.execute("SELECT count(*) FROM qbo_metered_reads").fetchone()[0] == 0
    assert conn.execute("SELECT account_id, sum(amount_minor), count(*) FROM journal_lines"
                        " GROUP BY account_id ORDER BY account_id").fetchall() == balances
    assert conn.execute("SELECT count(*) FROM sync_links").fetchone()[0] == links
    conn.close()

    firm = open_firm(Settings(_env_file=None, db=db), readonly=True)
    try:
        stored = store.load_connection(firm.db)
    finally:
        firm.close()
    assert stored.access_lifetime is None and leeway(stored.access_lifetime) == 300  # the old leeway
    assert main(["--db", str(db), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["connection"]["refresh_token_hard_expires_at"] is None
    assert status["metered_reads"]["count"] == 0 and status["metered_reads"]["budget"] == 500_000
    assert main(["--db", str(db), "status"]) == 0
    assert "five-year limit not known yet (told at the next token refresh)" in " ".join(capsys.readouterr().out.split())
