"""The demo firm's trust activity and bank statements: a reconciliation a new user can try at once."""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex

from core.cli import main
from core.ledger.demo import statement_as_of


def run(capsys, db, *args) -> tuple[int, str, str]:
    code = main(["--db", str(db), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _demo(capsys, db):
    code, out, _ = run(capsys, db, "demo", "--clients", "12", "--invoices", "60", "--payments", "40", "--credits",
                       "4", "--seed", "5")
    assert code == 0
    return out


def test_demo_statements_reconcile_with_outstanding_items_and_a_changed_line_fails(capsys, tmp_path):
    db = tmp_path / "demo.db"
    out = _demo(capsys, db)
    ledger = json.loads(run(capsys, db, "trust", "ledger", "--json")[1])
    accounts = [a["account"] for a in ledger["accounts"]]
    assert len(accounts) == 2 and all(a["book_minor"] == a["clients_minor"] for a in ledger["accounts"])
    kinds = {t["kind"] for t in _transactions(db)}
    assert {"receipt", "disbursement", "transfer", "refund"} <= kinds
    assert _paid_from_trust(db) > 0
    statements = sorted(tmp_path.glob("demo.*.statement.csv"))
    assert len(statements) == 2 and all(str(p) in out for p in statements)
    commands = hinted_commands(out)
    assert len(commands) == 4
    outstanding = 0
    for imported, reconciled in zip(commands[::2], commands[1::2]):
        assert imported[:3] == ["trust", "statement", "import"] and reconciled[:2] == ["trust", "reconcile"]
        assert reconciled[-1] <= dt.date.today().isoformat()
        assert run(capsys, db, *imported)[0] == 0
        code, body, _ = run(capsys, db, *reconciled, "--json")
        rec = json.loads(body)
        assert code == 0 and rec["ok"], rec["differences"]
        assert rec["saved_id"] and rec["as_of"] == reconciled[-1]
        outstanding += len(rec["outstanding_deposits"]) + len(rec["outstanding_cheques"])
    assert outstanding >= 1


def hinted_commands(out: str) -> list[list[str]]:
    """The `ledgerlink ...` commands the demo prints, split as a shell would."""
    found = re.findall(r"(?:try:)?\s+ledgerlink (trust .+)$", out, flags=re.M)
    return [shlex.split(line) for line in found]


def test_the_statements_run_to_the_end_of_the_month_before_today():
    assert statement_as_of(dt.date(2026, 12, 7)) == "2026-11-30"
    assert statement_as_of(dt.date(2027, 1, 1)) == "2026-12-31"
    assert statement_as_of(dt.date(2028, 3, 31)) == "2028-02-29"


def test_the_demo_statement_is_deterministic_and_a_changed_line_says_where(capsys, tmp_path):
    a, b = tmp_path / "a" / "f.db", tmp_path / "b" / "f.db"
    for db in (a, b):
        db.parent.mkdir()
        _demo(capsys, db)
    first = sorted(a.parent.glob("*.statement.csv"))
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in sorted(b.parent.glob("*.statement.csv"))]
    path = next(p for p in first if "separate" not in p.name)
    lines = path.read_text().splitlines()
    date, what, amount, ref = lines[2].split(",")
    lines[2] = ",".join([date, what, f"{amount}1" if "." not in amount else amount[:-1] + "9", ref])
    path.write_text("\n".join(lines) + "\n")
    account = json.loads(run(capsys, a, "trust", "ledger", "--json")[1])["accounts"][0]["account"]
    assert run(capsys, a, "trust", "statement", "import", "--account", account, str(path))[0] == 0
    code, out, _ = run(capsys, a, "trust", "reconcile", "--account", account, "--as-of", statement_as_of())
    assert code == 1 and "DOES NOT BALANCE" in out and f"{path.name} row 3" in out


def _transactions(db):
    import sqlite3

    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT kind FROM trust_transactions")]
    finally:
        conn.close()


def _paid_from_trust(db) -> int:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM payments WHERE from_trust = 1").fetchone()[0]
    finally:
        conn.close()
