"""Ledger bulk-posting benchmark.

Posts 100,000 invoices (3 lines each) and 50,000 payments through the ledger's bulk paths
(core.ledger.billing.post_invoices / post_payments: validation, tax, numbering, journal, audit and
outbox rows), then inserts exactly the same rows with a raw `sqlite3.executemany` into a fresh database
with the same schema, in the same run, and reports the ledger's rate as a ratio of the raw rate.
Then it tops the journal up to at least 1,000,000 lines and times the trial balance.

    .venv/bin/python bench/ledger.py            # full size
    .venv/bin/python bench/ledger.py --small    # 10,000 invoices, 5,000 payments, 100,000 journal lines
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.ledger import billing, queries  # noqa: E402
from core.ledger.demo import ensure_ready  # noqa: E402
from core.ledger.firm import add_client, create_firm  # noqa: E402
from core.migrations import migrate  # noqa: E402
from core.settings import Settings  # noqa: E402

TABLES = ("invoices", "invoice_lines", "journal_entries", "journal_lines", "sync_queue", "audit_log",
          "payments", "payment_allocations")


def invoice_specs(firm, clients: list[int], n: int, rng: random.Random) -> list[dict]:
    fees = [a.id for a in queries.list_accounts(firm, subtypes=["fee_income", "expense_recovery"])]
    rates = [r.id for r in queries.list_tax_rates(firm)]
    return [
        dict(client_id=rng.choice(clients), date=f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
             lines=[dict(description="Professional services", account_id=rng.choice(fees),
                         quantity=f"{rng.randint(1, 40) / 4:g}", unit_price=f"{rng.randint(100, 600)}.{rng.randint(0, 99):02d}",
                         tax_rate_id=rng.choice(rates)) for _ in range(3)])
        for _ in range(n)
    ]


def payment_specs(firm, invoice_ids: list[int], n: int, rng: random.Random) -> list[dict]:
    operating = queries.list_bank_accounts(firm, "operating")[0].id
    owner = dict(firm.db.execute("SELECT id, client_id FROM invoices").fetchall())
    totals = dict(firm.db.execute(
        "SELECT invoice_id, sum(amount_minor + tax_minor) FROM invoice_lines GROUP BY invoice_id").fetchall())
    specs = []
    for inv in rng.sample(invoice_ids, n):
        amount = totals[inv] // rng.choice((1, 1, 2, 4))
        text = f"{amount // 100}.{amount % 100:02d}"
        specs.append(dict(client_id=owner[inv], date="2026-12-31", amount=text, bank_account_id=operating,
                          allocations=[(inv, text)]))
    return specs


def counts(db) -> dict[str, int]:
    return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def raw_copy(src: Path, dst: Path, tables: tuple[str, ...], since: dict[str, int]) -> tuple[float, int]:
    """Insert the rows the ledger wrote (rowid > since[t]) into a fresh same-schema file with executemany."""
    from core.db import open_db

    migrate(open_db(dst).conn)
    rows = {}
    with sqlite3.connect(src) as s:
        for t in tables:
            rows[t] = s.execute(f"SELECT * FROM {t} WHERE rowid > ?", [since.get(t, 0)]).fetchall()
        ref = {t: s.execute(f"SELECT * FROM {t}").fetchall() for t in ("firm", "users", "accounts", "tax_rates",
                                                                        "contacts", "matters", "bank_accounts")}
    conn = sqlite3.connect(dst)
    conn.execute("PRAGMA journal_mode = WAL")
    for t, rs in ref.items():  # reference data, not timed
        if rs:
            conn.executemany(f"INSERT INTO {t} VALUES ({','.join('?' * len(rs[0]))})", rs)
    conn.commit()
    n = sum(len(r) for r in rows.values())
    start = time.perf_counter()
    conn.execute("BEGIN")
    for t in tables:
        if rows[t]:
            conn.executemany(f"INSERT INTO {t} VALUES ({','.join('?' * len(rows[t][0]))})", rows[t])
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed, n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="a tenth of the size, for a quick check")
    args = ap.parse_args(argv)
    n_inv, n_pay, n_lines = (10_000, 5_000, 100_000) if args.small else (100_000, 50_000, 1_000_000)
    os.environ.setdefault("LEDGERLINK_USER", "bench")
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ledger.db"
        firm = create_firm(Settings(_env_file=None, db=db), "CA", name="Bench LLP")
        ensure_ready(firm)
        clients = [add_client(firm, f"Client {i:04d}").id for i in range(500)]
        specs = invoice_specs(firm, clients, n_inv, rng)
        before = counts(firm.db)
        start = time.perf_counter()
        invoice_ids = billing.post_invoices(firm, specs)
        t_inv = time.perf_counter() - start
        after_inv = counts(firm.db)
        pspecs = payment_specs(firm, invoice_ids, n_pay, rng)
        start = time.perf_counter()
        billing.post_payments(firm, pspecs)
        t_pay = time.perf_counter() - start
        inv_tables = ("invoices", "invoice_lines", "journal_entries", "journal_lines", "sync_queue", "audit_log")
        raw_inv, rows_inv = raw_copy(db, Path(tmp) / "raw_inv.db", inv_tables, before)
        pay_tables = ("payments", "payment_allocations", "journal_entries", "journal_lines", "sync_queue", "audit_log")
        raw_pay, rows_pay = raw_copy(db, Path(tmp) / "raw_pay.db", pay_tables, after_inv)
        print(f"invoices: {n_inv:,} ({rows_inv:,} rows) in {t_inv:.2f} s = {n_inv / t_inv:,.0f}/s; "
              f"raw executemany of the same rows {raw_inv:.2f} s = {n_inv / raw_inv:,.0f}/s; "
              f"ratio {raw_inv / t_inv:.0%}")
        print(f"payments: {n_pay:,} ({rows_pay:,} rows) in {t_pay:.2f} s = {n_pay / t_pay:,.0f}/s; "
              f"raw executemany of the same rows {raw_pay:.2f} s = {n_pay / raw_pay:,.0f}/s; "
              f"ratio {raw_pay / t_pay:.0%}")
        while firm.db.execute("SELECT count(*) FROM journal_lines").fetchone()[0] < n_lines:
            billing.post_invoices(firm, invoice_specs(firm, clients, 20_000, rng))
        lines = firm.db.execute("SELECT count(*) FROM journal_lines").fetchone()[0]
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            tb = queries.trial_balance(firm)
            best = min(best, time.perf_counter() - start)
        assert tb.total_debit_minor == tb.total_credit_minor
        print(f"trial balance over {lines:,} journal lines: {best:.3f} s (best of 3)")
        firm.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
