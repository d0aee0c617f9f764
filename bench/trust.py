"""Trust benchmark: client ledgers, statement import with automatic matching, and the three-way reconciliation
of the demo firm's main trust account, each timed in-process (best of 3) against the trial balance of the same
firm in the same run (baseline: one GROUP BY over every journal line).

    .venv/bin/python bench/trust.py            # demo of 500 clients, 10,000 invoices, 5,000 payments
    .venv/bin/python bench/trust.py --small    # 100 clients, 2,000 invoices, 1,000 payments
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.ledger import trust_reconcile, trust_statement  # noqa: E402
from core.ledger.demo import build_demo  # noqa: E402
from core.services import ledger, trust  # noqa: E402
from core.services.context import open_firm  # noqa: E402
from core.settings import Settings  # noqa: E402


def best(fn, n: int = 3) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("LEDGERLINK_USER", "bench")
    sizes = dict(clients=100, invoices=2000, payments=1000, credits=40) if args.small else \
        dict(clients=500, invoices=10_000, payments=5000, credits=200)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, db=Path(tmp) / "firm.db", log_file=Path(tmp) / "log")
        summary = build_demo(settings, **sizes, seed=1)
        account, path = summary.trust_statements[0]
        firm = open_firm(settings)
        try:
            bank = trust.resolve_trust_account(firm, account)
            lines = firm.db.execute("SELECT count(*) FROM journal_lines").fetchone()[0]
            base = best(lambda: ledger.trial_balance(firm))
            ledgers = best(lambda: trust.ledger(firm))
            t = time.perf_counter()
            result = trust_statement.import_statement(firm, bank, path)
            imported = time.perf_counter() - t
            rec = best(lambda: trust_reconcile.compute(firm, bank, "2026-12-31"))
            ok = trust_reconcile.compute(firm, bank, "2026-12-31").ok
        finally:
            firm.close()
    print(f"demo {sizes}: {lines:,} journal lines, {summary.trust_moves} trust moves, "
          f"statement of {result.lines} lines ({result.matched} matched automatically), reconciled: {ok}")
    print(f"{'what':<44}{'seconds':>10}{'x trial balance':>18}")
    for what, secs in (("baseline: trial balance", base), ("client ledgers (trust ledger)", ledgers),
                       ("statement import + automatic matching", imported), ("three-way reconciliation", rec)):
        print(f"{what:<44}{secs:>10.4f}{secs / base:>18.2f}")


if __name__ == "__main__":
    main()
