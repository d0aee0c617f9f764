"""The pure plan of a sync: from a queue row, its stored link and the ledger document, the next write to send.

The state machine of one document is `next_op`: from the queue row and the stored link it names the
next write (create, sparse update or delete of the document, or of a credit note's application
payment) or None when QBO holds the document's current version. `build_step` turns that into a `Step`
with its body (core.qbo.payloads) and its requestid. Nothing here reads the database or the wire.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal, Protocol

from core.errors import SyncError
from core.money import decimal_to_minor
from core.qbo import payloads as P
from core.qbo import sync_compare as C
from core.qbo import sync_store as S
from core.qbo import trust_push
from core.qbo.edits import full_update
from core.qbo.sync_store import Row

Kind = Literal["invoice", "payment", "credit_note", "apply", "customer", "trust", "trust_payment"]
Op = Literal["create", "update", "delete", "void"]

ENTITY = {"invoice": "Invoice", "payment": "Payment", "credit_note": "CreditMemo", "apply": "Payment",
          "customer": "Customer", "trust": "JournalEntry", "trust_payment": "JournalEntry"}
LABEL = {"invoice": "Invoice", "payment": "Payment", "credit_note": "Credit note", "trust": "Trust transaction",
         "trust_payment": "Payment from trust"}
# Deletions of payments and credit notes go first (QBO refuses to delete an invoice with payments applied);
# then invoices, payments and credit notes in one pipeline: a payment or credit note is sent as soon as the
# invoice it applies to is in QBO. Trust JournalEntries depend on their client's customer only.
PHASES = (
    ("remove", (("payment", "delete"), ("credit_note", "delete"), ("trust", "delete"), ("trust_payment", "delete"))),
    ("documents", (("invoice", "upsert"), ("invoice", "delete"), ("payment", "upsert"), ("credit_note", "upsert"),
                   ("trust", "upsert"), ("trust_payment", "upsert"))),
)


class Sources(Protocol):
    """The ledger and the QBO settings as the engine sees them (core.services.sync builds one)."""

    def switch(self) -> tuple[bool, str | None]:
        """The "Sales invoices" switch and the sync-from date (YYYY-MM-DD or None)."""

    def context(self) -> P.PushContext: ...

    def document(self, doc_type: str, doc_id: int):
        """The ledger Invoice, Payment or CreditNote (core.ledger.models), deleted ones included."""

    def client(self, client_id: int):
        """The ledger Contact of a client."""


def next_op(row: Row, link: S.Link) -> tuple[Kind, Op] | None:
    """The next write for a queued document as (kind, op), or None when QBO is up to date.

    kind is the document type, or 'apply' for a credit note's application payment.
    """
    if row.action == "delete":
        if row.doc_type == "credit_note" and link.apply_id is not None:
            return ("apply", "delete")
        return (row.doc_type, "delete") if link.in_qbo else None
    if not link.in_qbo:
        return (row.doc_type, "create")
    if link.pushed_version != row.version or link.pushed_action != "upsert":
        return (row.doc_type, "update")
    if row.doc_type == "credit_note":
        if link.apply_id is None:
            return ("apply", "create")
        if link.apply_version != row.version:
            return ("apply", "update")
    return None


@dataclass
class Step:
    """One write of one document, ready to send."""

    kind: Kind
    doc_type: str
    doc_id: int
    version: int
    op: Op
    entity: str
    body: dict
    request_id: str
    label: str
    ledger_total_minor: int | None = None
    ledger_tax_minor: int | None = None  # invoices and credit notes: checked against QBO's after the write
    ledger_rates: tuple = ()  # sync_compare.ledger_rates
    tax_override: bool = False  # the ledger's tax went as explicit TaxLines

    def item(self, bid: str | None = None) -> dict:
        """What is kept in sync_pending about this step."""
        return {"kind": self.kind, "doc_type": self.doc_type, "doc_id": self.doc_id, "version": self.version,
                "op": self.op, "entity": self.entity, "label": self.label, "bid": bid,
                "ledger_total_minor": self.ledger_total_minor, "request_id": self.request_id,
                "ledger_tax_minor": self.ledger_tax_minor, "ledger_rates": list(self.ledger_rates),
                "tax_override": self.tax_override}

    def batch_item(self, bid: str) -> dict:
        operation = {"create": "create", "update": "update", "delete": "delete", "void": "void"}[self.op]
        return {"bId": bid, "operation": operation, self.entity: self.body}


def doc_label(doc_type: str, doc) -> str:
    if doc_type == "payment":
        return f"Payment {doc.reference or doc.id}" if doc is not None else "Payment"
    number = getattr(doc, "number", None)
    return f"{LABEL[doc_type]} {number}" if number else LABEL[doc_type]


def ledger_total(doc_type: str, doc) -> int:
    return doc.amount_minor if doc_type == "payment" else doc.total_minor


def _voided(row: Row, doc) -> bool:
    return row.action == "upsert" and row.doc_type in ("invoice", "payment") and doc.status == "voided"


def _newest_token(ours: str, last: dict | None) -> str:
    """QBO's SyncToken when the last copy read is newer than our last write (its fields are merged)."""
    theirs = str((last or {}).get("SyncToken") or "")
    return theirs if theirs.isdigit() and str(ours).isdigit() and int(theirs) > int(ours) else ours


def _held(value: str | None, what: str, label: str) -> str:
    """An id or SyncToken of the stored link that the write next_op chose from that link needs."""
    if value is None:
        raise SyncError(f"{label}: the stored link to QuickBooks has no {what}")
    return value


def _given_back(balances: dict | None, last: dict | None, invoices: dict, currency: str) -> dict | None:
    """QBO's open balances with a payment's own last application added back: what its update may apply. Without
    QBO's last answer for it nothing is known of that application, so nothing is capped."""
    if balances is None or last is None:
        return None
    back = dict(balances)
    ledger_id = {str(qbo_id): inv for inv, qbo_id in invoices.items()}
    for line in last.get("Line") or []:
        for txn in line.get("LinkedTxn") or []:
            inv = ledger_id.get(str(txn.get("TxnId")))
            if txn.get("TxnType") == "Invoice" and inv in back:
                back[inv] += decimal_to_minor(Decimal(str(line.get("Amount", 0))), currency)
    return back


def build_step(salt: str, row: Row, link: S.Link, doc, ctx: P.PushContext, customers: dict,
               invoices: dict, balances: dict | None = None, last: dict | None = None) -> Step | None:
    """The next step of a document with its body, or None when it is up to date. Raises Parked.

    An update is a full update: the ledger's payload over the fields QBO owns in `last`, QBO's last answer
    for the document (core.qbo.edits). A voided document that QBO holds is voided there; one it never held
    needs nothing."""
    nxt = next_op(row, link)
    if nxt is None:
        return None
    kind, op = nxt
    label = doc_label(row.doc_type, doc)
    entity = ENTITY[kind]
    if _voided(row, doc):
        if op == "create":
            return None
        op = "void"
        body = {"Id": link.qbo_id, "SyncToken": link.sync_token}
        rid = S.request_id(salt, kind, row.doc_id, row.version, link.generation, link.tries, op, body)
        return Step(kind, row.doc_type, row.doc_id, row.version, op, entity, body, rid, label, 0)
    if op == "delete":
        if kind == "apply":
            body = {"Id": link.apply_id, "SyncToken": link.apply_sync_token}
        else:
            body = {"Id": link.qbo_id, "SyncToken": link.sync_token}
        rid = S.request_id(salt, kind, row.doc_id, row.version, link.generation, link.tries, op, body)
        return Step(kind, row.doc_type, row.doc_id, row.version, op, entity, body, rid, label)
    if kind == "apply":
        note_id = _held(link.qbo_id, "QuickBooks id", label)
        if op == "create":
            body = P.apply_payload(doc, ctx, customers, invoices, note_id, balances).body()
        else:
            # The update gives the old application back first: QBO's balance kept since understates what it may take.
            apply_id = _held(link.apply_id, "application id", label)
            token = _held(link.apply_sync_token, "application SyncToken", label)
            body = P.sparse(P.apply_payload(doc, ctx, customers, invoices, note_id), apply_id, token)
        rid = S.request_id(salt, kind, row.doc_id, row.version, link.generation, link.tries, op, body)
        return Step(kind, row.doc_type, row.doc_id, row.version, op, entity, body, rid, label)
    override = json.loads(link.tax_override) if link.tax_override else None
    payload: P.InvoicePayload | P.PaymentPayload | P.CreditMemoPayload | trust_push.JournalEntry
    if row.doc_type == "invoice":
        payload = P.invoice_payload(doc, ctx, customers, override)
    elif row.doc_type == "payment":
        payload = P.payment_payload(doc, ctx, customers, invoices,
                                    balances if op == "create" else _given_back(balances, last, invoices, ctx.currency))
    elif row.doc_type in ("trust", "trust_payment"):
        payload = trust_push.journal_entry(doc, ctx, customers)
    else:
        payload = P.credit_memo_payload(doc, ctx, customers, override)
    total = ledger_total(row.doc_type, doc)
    taxed = kind in ("invoice", "credit_note")
    if op == "create":
        body = payload.body()
    else:
        body = full_update(payload.body(), last, _held(link.qbo_id, "QuickBooks id", label),
                           _newest_token(_held(link.sync_token, "SyncToken", label), last))
    rid = S.request_id(salt, kind, row.doc_id, row.version, link.generation, link.tries, op, body)
    return Step(kind, row.doc_type, row.doc_id, row.version, op, entity, body, rid, label, total,
                doc.tax_minor if taxed else None, tuple(C.ledger_rates(doc, ctx)) if taxed else (),
                bool(override) and taxed)


def customer_step(salt: str, client_id: int, generation: int, name: str, contact) -> Step:
    """The creation of a client's QBO customer (`name` is its DisplayName, as core.qbo.customers chose it)."""
    payload = P.customer_payload(name, getattr(contact, "email", None), getattr(contact, "phone", None))
    rid = S.request_id(salt, "customer", client_id, 0, generation, 0, "create", payload.body())
    return Step("customer", "customer", client_id, 0, "create", "Customer", payload.body(), rid, f"Customer {name}")


def fingerprint(ctx: P.PushContext) -> str:
    """A digest of the maps: a QBO refusal is retried by itself when it changes."""
    parts = []
    for name in ("sales", "gl", "tax"):
        mapping = getattr(ctx, name)
        parts.append(sorted((str(k), v.value) for k, v in mapping.items()))
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def dependencies(row: Row, doc) -> list[int]:
    """The invoices a payment or credit note applies to."""
    if row.doc_type == "payment":
        return [a.invoice_id for a in doc.allocations]
    if row.doc_type == "credit_note":
        return [doc.invoice_id]
    return []


def must_wait(row: Row, doc, waiting_on: set) -> bool:
    """A payment or credit note whose invoice (or customer) is still on its way waits, unparked."""
    if doc is None or row.action != "upsert":
        return False
    if ("customer", doc.client_id) in waiting_on:
        return True
    return any(("invoice", i) in waiting_on for i in dependencies(row, doc))


# ---------------------------------------------------------------- what an answer does to a link


def link_after_write(link: S.Link, kind: str, op: str, version: int, entity: dict, entity_name: str,
                     ledger_total_minor: int | None, qbo_total_minor: int | None, ledger_tax_minor: int | None = None,
                     qbo_tax_minor: int | None = None, qbo_balance_minor: int | None = None) -> S.Link:
    """The link once QBO has accepted a write (`entity` is its answer)."""
    if kind == "apply":
        if op == "delete":
            return replace(link, apply_id=None, apply_sync_token=None, apply_version=None)
        return replace(link, apply_id=entity["Id"], apply_sync_token=entity["SyncToken"], apply_version=version)
    if op == "delete":
        return replace(link, qbo_id=None, sync_token=None, pushed_version=version, pushed_action="delete",
                       qbo_total_minor=None)
    return replace(link, qbo_type=entity_name, qbo_id=entity["Id"], sync_token=entity["SyncToken"],
                   pushed_version=version, pushed_action="upsert", ledger_total_minor=ledger_total_minor,
                   qbo_total_minor=qbo_total_minor, ledger_tax_minor=ledger_tax_minor, qbo_tax_minor=qbo_tax_minor,
                   qbo_balance_minor=qbo_balance_minor, tax_override=None)


def link_after_gone(link: S.Link, kind: str, op: str, version: int) -> S.Link:
    """The link once QBO said the object is gone: a deletion is complete; anything else starts a new generation."""
    if op == "delete":
        if kind == "apply":
            return replace(link, apply_id=None, apply_sync_token=None, apply_version=None)
        return replace(link, qbo_id=None, sync_token=None, pushed_version=version, pushed_action="delete")
    # Deleted in QBO behind our back: a new generation creates it again.
    if kind == "apply":
        return replace(link, apply_id=None, apply_sync_token=None, apply_version=None,
                       generation=link.generation + 1, tries=0)
    return replace(link, qbo_id=None, sync_token=None, pushed_version=None, pushed_action=None,
                   apply_id=None, apply_sync_token=None, apply_version=None,
                   generation=link.generation + 1, tries=0)


def link_after_read(link: S.Link, kind: str, current: dict) -> S.Link:
    """The link once the object was read again after a stale SyncToken (`current` is QBO's copy)."""
    deleted = current.get("status") == "Deleted"
    if kind == "apply":
        return (replace(link, apply_id=None, apply_sync_token=None, apply_version=None) if deleted
                else replace(link, apply_sync_token=current["SyncToken"]))
    if deleted:
        return replace(link, qbo_id=None, sync_token=None, pushed_version=None, pushed_action=None,
                       generation=link.generation + 1, tries=0)
    return replace(link, sync_token=current["SyncToken"])
