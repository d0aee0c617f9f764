"""Reconcile trust: QBO's trust bank balances and client trust liability per customer against the ledger's.

QBO's figures are read back: Account.CurrentBalance of each mapped trust bank and of the trust liability (debits
minus credits, so a liability owed is negative: reference 5.2), and the liability per customer from the lines
of the JournalEntries QBO holds on that account (the entity trust reaches QBO as: core.qbo.trust_push). Every difference is one row of the result's "trust"
section: {"check": "bank" | "liability" | "liability_customer", the ledger and QBO accounts, the client and
customer where there is one, "ledger_minor", "qbo_minor"}.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from core.errors import PermanentError
from core.money import decimal_to_minor


def _minor(value, currency: str) -> int:
    return decimal_to_minor(Decimal(str(value if value is not None else 0)), currency)


def _ledger(db, account_id: int) -> int:
    return db.execute("SELECT coalesce(sum(amount_minor), 0) FROM journal_lines WHERE account_id = ?",
                      [account_id]).fetchone()[0]


async def _entry_lines(client, account: str, cur: str) -> dict[str | None, int]:
    """An account's balance per customer summed from the JournalEntries QBO holds."""
    out: dict[str | None, int] = defaultdict(int)
    for entry in await client.query_all("JournalEntry"):
        for line in entry.get("Line") or []:
            detail = line.get("JournalEntryLineDetail") or {}
            if (detail.get("AccountRef") or {}).get("value") != account:
                continue
            sign = 1 if detail.get("PostingType") == "Debit" else -1
            who = ((detail.get("Entity") or {}).get("EntityRef") or {}).get("value")
            out[who] += sign * _minor(line.get("Amount"), cur)
    return dict(out)


async def _by_customer(client, account: str, cur: str) -> dict[str | None, int]:
    """The liability per customer, from the lines of the JournalEntries QBO holds on the account (QBO has no
    balance-by-customer report the API can read for an arbitrary account; the sandbox's own report is for tests
    to check this figure against, never for the product to lean on)."""
    return await _entry_lines(client, account, cur)


async def _balance(client, account: str, cur: str, notes: list[str]) -> int:
    """Account.CurrentBalance; when the account cannot be read, the sum of the JournalEntries' lines on it."""
    try:
        read = await client.read("Account", account)
        if read.get("CurrentBalance") is not None:
            return _minor(read["CurrentBalance"], cur)
        notes.append(f"QuickBooks did not give the balance of account {account}: it was summed from the "
                     "JournalEntries it holds")
    except PermanentError as exc:
        notes.append(f"QuickBooks account {account} could not be read ({exc}): its balance was summed from the "
                     "JournalEntries it holds")
    return sum((await _entry_lines(client, account, cur)).values())


async def trust_differences(db, client, ctx) -> tuple[list[dict], list[str]]:
    """(differences, notes) between the ledger's trust accounts and QBO's; nothing when the firm holds no
    client money."""
    cur = ctx.currency
    notes: list[str] = []
    banks = db.execute("SELECT b.gl_account_id, b.name FROM bank_accounts b WHERE b.kind = 'trust' "
                       "ORDER BY b.id").fetchall()
    liabilities = [a for a in ctx.accounts.values() if a.subtype == "trust_liability"]
    if not any(_ledger(db, gl) for gl, _ in banks) and not any(_ledger(db, a.id) for a in liabilities):
        if not db.execute("SELECT 1 FROM trust_transactions LIMIT 1").fetchone():
            return [], []
    out: list[dict] = []
    for gl, name in banks:
        ref = ctx.gl.get(gl)
        ledger = _ledger(db, gl)
        if ref is None:
            out.append({"check": "bank", "account_id": gl, "account": name, "qbo_account_id": None,
                        "ledger_minor": ledger, "qbo_minor": None})
            continue
        qbo = await _balance(client, ref.value, cur, notes)
        if qbo != ledger:
            out.append({"check": "bank", "account_id": gl, "account": name, "qbo_account_id": ref.value,
                        "ledger_minor": ledger, "qbo_minor": qbo})
    customers = dict(db.execute("SELECT client_id, qbo_id FROM sync_customers WHERE qbo_id IS NOT NULL").fetchall())
    clients = {q: c for c, q in customers.items()}
    for acc in liabilities:
        ref = ctx.gl.get(acc.id)
        ledger = _ledger(db, acc.id)
        if ref is None:
            out.append({"check": "liability", "account_id": acc.id, "account": acc.name, "qbo_account_id": None,
                        "ledger_minor": ledger, "qbo_minor": None})
            continue
        qbo = await _balance(client, ref.value, cur, notes)
        if qbo != ledger:
            out.append({"check": "liability", "account_id": acc.id, "account": acc.name,
                        "qbo_account_id": ref.value, "ledger_minor": ledger, "qbo_minor": qbo})
        ours = {c: s for c, s in db.execute(
            "SELECT client_id, sum(amount_minor) FROM journal_lines WHERE account_id = ? GROUP BY client_id",
            [acc.id]).fetchall() if s}
        theirs = {k: v for k, v in (await _by_customer(client, ref.value, cur)).items() if v}
        mine: dict = {}  # QBO customer id (or "client:<id>" when the client has none) -> ledger balance
        for c, amount in ours.items():
            mine[customers.get(c, f"client:{c}") if c is not None else None] = amount
        for key in sorted(set(mine) | set(theirs), key=str):
            local = str(key).startswith("client:")
            client_id = int(str(key).removeprefix("client:")) if local else clients.get(key)
            if mine.get(key, 0) != theirs.get(key, 0):
                out.append({"check": "liability_customer", "account_id": acc.id, "account": acc.name,
                            "client_id": client_id, "client": ctx.client_names.get(client_id),
                            "qbo_customer_id": None if local else key,
                            "ledger_minor": mine.get(key, 0), "qbo_minor": theirs.get(key, 0)})
    return out, notes
