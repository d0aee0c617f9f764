"""Trust money in QBO: each trust transaction is ONE JournalEntry (reference 5.10), built from the ledger's own
posting of the document, so that QBO's trust bank and client trust liability move exactly as the ledger's.

  receipt        Dr trust bank               Cr trust liability (Entity: the client's customer)
  disbursement   Dr trust liability (client) Cr trust bank            (also refund)
  transfer       Dr trust bank B             Cr trust bank A

Why a JournalEntry: it is the one QBO entity that carries the customer on the liability line (the per-customer
liability QBO reports) and that QBO balances by rule. A Deposit cannot debit a liability, a Transfer carries no
customer, a Purchase/Check puts the client on an expense-style line. A reversal deletes the JournalEntry.

Trust and operating money never mix: a posting that touches any account other than a trust bank or the trust
liability parks (`trust_mixed`) instead of being sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.qbo import payloads as P
from core.qbo.reasons import ParkedFor, Reason

DOC_PREFIX = "TR-"
PAYMENT_PREFIX = "TRP-"  # the trust side of a payment of an invoice from trust, by the payment's id


@dataclass(frozen=True)
class TrustLine:
    account_id: int  # ledger GL account
    amount_minor: int  # > 0 debit, < 0 credit
    client_id: int | None


@dataclass(frozen=True)
class TrustDoc:
    """A trust transaction as the sync engine needs it (core.ledger.trust is the ledger's own view)."""

    id: int
    kind: str
    client_id: int
    date: str
    amount_minor: int
    currency: str
    version: int
    status: str
    payee: str | None
    reference: str | None
    memo: str
    lines: tuple[TrustLine, ...]
    trust_accounts: frozenset  # GL account ids of the trust banks and the trust liability
    prefix: str = DOC_PREFIX

    @property
    def number(self) -> str:
        return f"{self.prefix}{self.id}"

    @property
    def total_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines if line.amount_minor > 0)


def trust_accounts(db) -> frozenset:
    rows = db.execute("SELECT gl_account_id FROM bank_accounts WHERE kind = 'trust' UNION "
                      "SELECT id FROM accounts WHERE subtype = 'trust_liability'").fetchall()
    return frozenset(r[0] for r in rows)


def load(db, transaction_id: int) -> TrustDoc | None:
    row = db.execute("SELECT id, kind, client_id, date, amount_minor, currency, version, status, payee, reference, "
                     "memo FROM trust_transactions WHERE id = ?", [transaction_id]).fetchone()
    if row is None:
        return None
    # The document's own posting (version 1), summed per account: matters are the ledger's detail.
    lines = db.execute(
        "SELECT l.account_id, sum(l.amount_minor), l.client_id FROM journal_lines l JOIN journal_entries e ON "
        "e.id = l.entry_id WHERE e.doc_type = 'trust' AND e.doc_id = ? AND e.kind = 'post' "
        "GROUP BY l.account_id, l.client_id HAVING sum(l.amount_minor) != 0 ORDER BY min(l.id)",
        [transaction_id]).fetchall()
    tid, kind, client, date, amount, currency, version, status, payee, reference, memo = row
    return TrustDoc(tid, kind, client, date, amount, currency, version, status, payee, reference, memo,
                    tuple(TrustLine(a, m, c) for a, m, c in lines), trust_accounts(db))


def load_payment(db, payment_id: int) -> TrustDoc | None:
    """The trust side of a payment from trust: Dr trust liability (client) / Cr trust bank, as its current version
    leaves it (its postings and reversals summed; a voided payment moves nothing)."""
    row = db.execute("SELECT id, client_id, date, amount_minor, currency, version, status, reference, from_trust "
                     "FROM payments WHERE id = ?", [payment_id]).fetchone()
    if row is None or not row[8]:
        return None
    accounts = trust_accounts(db)
    marks = ", ".join("?" for _ in accounts)
    lines = db.execute(
        "SELECT l.account_id, sum(l.amount_minor), l.client_id FROM journal_lines l JOIN journal_entries e ON "
        f"e.id = l.entry_id WHERE e.doc_type = 'payment' AND e.doc_id = ? AND l.account_id IN ({marks}) "
        "GROUP BY l.account_id, l.client_id HAVING sum(l.amount_minor) != 0 ORDER BY min(l.id)",
        [payment_id, *accounts]).fetchall()
    trust_lines = tuple(TrustLine(a, m, c) for a, m, c in lines)
    pid, client, date, amount, currency, version, status, reference, _ = row
    return TrustDoc(pid, "payment", client, date, sum(m for _, m, _ in lines if m > 0), currency, version, status,
                    None, reference, "", trust_lines, accounts, PAYMENT_PREFIX)


class JournalEntry:
    def __init__(self, body: dict):
        self._body = body

    def body(self) -> dict:
        return dict(self._body)


def _account_ref(doc: TrustDoc, ctx: P.PushContext, account_id: int) -> dict:
    ref = ctx.gl.get(account_id)
    acc = ctx.accounts.get(account_id)
    label = acc.name if acc is not None else f"#{account_id}"
    if ref is None and ("gl", account_id) in ctx.map_messages:
        raise ParkedFor(Reason("map_unusable", {"kind": "gl", "ledger_id": account_id,
                                                "message": ctx.map_messages[("gl", account_id)]}))
    if ref is None:
        raise ParkedFor(Reason("trust_unmapped", {"account_id": account_id, "account": label}))
    return {"value": ref.value}


def _note(doc: TrustDoc) -> str:
    parts = [f"Trust {doc.kind} {doc.number}"]
    if doc.payee:
        parts.append(f"payee {doc.payee}")
    if doc.reference:
        parts.append(f"ref {doc.reference}")
    if doc.memo:
        parts.append(doc.memo)
    return "; ".join(parts)[:4000]


def journal_entry(doc: TrustDoc, ctx: P.PushContext, customers: dict) -> JournalEntry:
    """The JournalEntry of a trust transaction; raises ParkedFor when it cannot be sent as it is."""
    mixed = [line.account_id for line in doc.lines if line.account_id not in doc.trust_accounts]
    if mixed or not doc.lines:
        names = ", ".join(ctx.accounts[a].name if a in ctx.accounts else f"#{a}" for a in mixed)
        raise ParkedFor(Reason("trust_mixed", {"doc_id": doc.id, "number": doc.number, "accounts": names}))
    liability = {a for a in doc.trust_accounts if a in ctx.accounts and ctx.accounts[a].subtype == "trust_liability"}
    customer = P._customer_ref(doc.client_id, customers, ctx)
    lines = []
    for line in doc.lines:
        detail: dict = {"PostingType": "Debit" if line.amount_minor > 0 else "Credit",
                        "AccountRef": _account_ref(doc, ctx, line.account_id)}
        if line.account_id in liability:
            detail["Entity"] = {"Type": "Customer", "EntityRef": {"value": customer.value}}
        lines.append({"Amount": P.money(abs(line.amount_minor), doc.currency), "DetailType": "JournalEntryLineDetail",
                      "Description": f"Trust {doc.kind}: {ctx.client_names.get(doc.client_id, '')}"[:4000],
                      "JournalEntryLineDetail": detail})
    return JournalEntry({"DocNumber": doc.number, "TxnDate": doc.date, "PrivateNote": _note(doc), "Line": lines})
