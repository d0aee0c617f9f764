"""The sync history for the TUI and the CLI: what was pushed when, by whom, with QBO's id and the operation, and
each park reason's life (parked, why, retried, resolved). Plain values in, frozen dataclasses out.

    documents(firm, search=None, limit=None) -> list[DocRow]     one row per document the sync has touched
    document(firm, doc_type, doc_id) -> DocHistory               its entries, oldest first
    find(firm, text) -> (doc_type, doc_id)                       a document by number, payment reference or id

Reasons stay data (core.qbo.reasons.Reason); `Entry.text()` renders them at the edge. `actor` None means the
entry was recorded before history was kept (it then reads BEFORE_HISTORY).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from core.errors import NotFound
from core.qbo.reasons import Reason

BEFORE_HISTORY = "before history was kept"
KINDS = ("invoice", "payment", "credit_note", "trust", "trust_payment")
LABEL = {"invoice": "Invoice", "payment": "Payment", "credit_note": "Credit note", "trust": "Trust transaction",
         "trust_payment": "Payment from trust"}
# A record's outcome in words (sync_records.outcome); the events are sync_events.event.
WHAT = {"ok": "pushed", "parked": "refused", "retry": "will retry", "gone": "gone from QBO", "stale": "stale",
        "parked_event": "parked", "retried": "retried", "resolved": "resolved"}

# What a request wrote, in words (the entity part of sync_records.operation).
ENTITY = {"invoice": "invoice", "payment": "payment", "credit_note": "credit note", "customer": "customer",
          "apply": "credit application", "trust": "journal entry", "trust_payment": "journal entry"}

# Each document kind's number (or reference), client and status, for the list and the search.
_DOCS = """
SELECT 'invoice' AS doc_type, i.id AS doc_id, i.number AS number, c.name AS client, i.status AS status,
  'Invoice' AS kind FROM invoices i JOIN contacts c ON c.id = i.client_id
UNION ALL SELECT 'credit_note', n.id, n.number, c.name, n.status,
  CASE n.kind WHEN 'writeoff' THEN 'Write-off' ELSE 'Credit note' END
  FROM credit_notes n JOIN contacts c ON c.id = n.client_id
UNION ALL SELECT 'payment', p.id, coalesce(p.reference, CAST(p.id AS TEXT)), c.name, p.status, 'Payment'
  FROM payments p JOIN contacts c ON c.id = p.client_id
UNION ALL SELECT 'trust_payment', p.id, coalesce(p.reference, CAST(p.id AS TEXT)), c.name, p.status,
  'Payment from trust' FROM payments p JOIN contacts c ON c.id = p.client_id WHERE p.from_trust = 1
"""


@dataclass(frozen=True)
class DocRow:
    """A document in the history list: its last request, who sent it, QBO's id, and its state in the queue."""

    doc_type: str
    doc_id: int
    label: str
    client: str
    last_at: str
    actor: str | None
    operation: str | None  # create / update / void / delete of the last request
    qbo_id: str | None
    state: str | None  # the queue's state: queued, sending, done, parked
    requests: int
    parks: int
    number: str = ""  # the document's number, or a payment's reference (its id without one)

    @property
    def who(self) -> str:
        return self.actor or BEFORE_HISTORY

    def as_json(self) -> dict:
        return {"doc_type": self.doc_type, "doc_id": self.doc_id, "label": self.label, "number": self.number,
                "client": self.client,
                "last_at": self.last_at, "actor": self.actor, "who": self.who, "operation": self.operation,
                "qbo_id": self.qbo_id, "state": self.state, "requests": self.requests, "parks": self.parks}


@dataclass(frozen=True)
class Entry:
    """One step of a document's history: a request's outcome, or an event of a park reason."""

    at: str
    actor: str | None
    what: str  # pushed, refused, will retry, gone from QBO, stale, parked, retried, resolved
    operation: str | None = None  # create / update / void / delete
    entity: str | None = None  # what the request wrote: invoice, customer, apply (a credit note's payment)...
    qbo_id: str | None = None
    version: int | None = None
    reason: Reason | None = None  # why it parked (events) or QBO's fault code and message (refusals)
    fault_code: str | None = None
    fault_message: str | None = None

    @property
    def who(self) -> str:
        return self.actor or BEFORE_HISTORY

    def text(self) -> str:
        """The entry's detail in words, rendered here at the edge from data."""
        if self.reason is not None:
            return self.reason.render()
        if self.fault_code or self.fault_message:
            return " ".join(p for p in (self.fault_code, self.fault_message) if p)
        return " ".join(b for b in (self.operation, ENTITY.get(self.entity or "", self.entity)) if b)

    def as_json(self) -> dict:
        return {"at": self.at, "actor": self.actor, "who": self.who, "what": self.what,
                "operation": self.operation, "entity": self.entity, "qbo_id": self.qbo_id, "version": self.version,
                "code": self.reason.code if self.reason else None,
                "fields": self.reason.fields if self.reason else None,
                "reason": self.reason.render() if self.reason else None,
                "fault_code": self.fault_code, "fault_message": self.fault_message}


@dataclass(frozen=True)
class DocHistory:
    doc: DocRow
    entries: tuple[Entry, ...]

    def as_json(self) -> dict:
        return {**self.doc.as_json(), "entries": [e.as_json() for e in self.entries]}


def _qbo_id(response: str | None) -> str | None:
    if not response:
        return None
    try:
        obj = json.loads(response)
    except ValueError:
        return None
    return str(obj["Id"]) if isinstance(obj, dict) and obj.get("Id") is not None else None


def _split(operation: str | None) -> tuple[str | None, str | None]:
    """'invoice:create' -> ('create', 'invoice')."""
    if not operation:
        return None, None
    entity, _, op = operation.rpartition(":")
    return op or None, entity or None


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def documents(firm, search: str | None = None, limit: int | None = None,
              doc: tuple[str, int] | None = None) -> list[DocRow]:
    """Every document the sync has sent a request for or parked, newest activity first; `search` keeps those whose
    number (a payment's reference) or client name contains it (any case); `doc` only that one."""
    where, args = "", []
    one, one_args = "", []
    if doc is not None:
        one, one_args = "AND doc_type = ? AND doc_id = ?", [doc[0], doc[1]]
    if search and search.strip():
        where = "WHERE d.number LIKE ? ESCAPE '\\' OR d.client LIKE ? ESCAPE '\\'"
        args = [_like(search.strip())] * 2
    sql = f"""
    WITH docs AS ({_DOCS}),
    acts AS (
      SELECT doc_type, doc_id, max(at) AS last_at, count(*) AS requests, 0 AS parks FROM sync_records
        WHERE doc_type IN ({', '.join('?' for _ in KINDS)}) {one} GROUP BY doc_type, doc_id
      UNION ALL SELECT doc_type, doc_id, max(at), 0, sum(event = 'parked') FROM sync_events WHERE 1 {one}
        GROUP BY doc_type, doc_id
    ),
    per AS (SELECT doc_type, doc_id, max(last_at) AS last_at, sum(requests) AS requests, sum(parks) AS parks
            FROM acts GROUP BY doc_type, doc_id)
    SELECT per.doc_type, per.doc_id, d.number, d.client, d.kind, per.last_at, per.requests, per.parks, q.state, l.qbo_id,
      (SELECT actor FROM (SELECT at, actor FROM sync_records r WHERE r.doc_type = per.doc_type
          AND r.doc_id = per.doc_id UNION ALL SELECT at, actor FROM sync_events e WHERE e.doc_type = per.doc_type
          AND e.doc_id = per.doc_id) ORDER BY at DESC LIMIT 1),
      (SELECT r.operation FROM sync_records r WHERE r.doc_type = per.doc_type AND r.doc_id = per.doc_id
        ORDER BY r.id DESC LIMIT 1)
    FROM per JOIN docs d ON d.doc_type = per.doc_type AND d.doc_id = per.doc_id
    LEFT JOIN sync_queue q ON q.doc_type = per.doc_type AND q.doc_id = per.doc_id
    LEFT JOIN sync_links l ON l.doc_type = per.doc_type AND l.doc_id = per.doc_id
    {where}
    ORDER BY per.last_at DESC, per.doc_type, per.doc_id
    """
    if limit:
        sql += f" LIMIT {int(limit)}"
    out = []
    for t, i, number, client, kind, last_at, requests, parks, state, qbo_id, actor, operation in firm.db.execute(
            sql, [*KINDS, *one_args, *one_args, *args]).fetchall():
        out.append(DocRow(t, i, f"{kind} {number}", client, last_at, actor, _split(operation)[0], qbo_id, state,
                          requests, parks, number))
    return out


def document(firm, doc_type: str, doc_id: int) -> DocHistory:
    """One document's history: every request's outcome and every park event, oldest first."""
    db = firm.db
    doc = next(iter(documents(firm, doc=(doc_type, doc_id))), None)
    if doc is None:
        raise NotFound(f"{LABEL.get(doc_type, doc_type)} {doc_id} has no sync history yet: it was never sent "
                       "to QuickBooks nor parked")
    entries: list[tuple[str, int, Entry]] = []
    for rid, at, version, operation, outcome, response, fault_code, fault_message, actor in db.execute(
            "SELECT id, at, version, operation, outcome, response, fault_code, fault_message, actor "
            "FROM sync_records WHERE doc_type = ? AND doc_id = ? ORDER BY id", [doc_type, doc_id]).fetchall():
        op, entity = _split(operation)
        entries.append((at, 0, Entry(at, actor, WHAT.get(outcome, outcome), op, entity, _qbo_id(response), version,
                                     None, fault_code, fault_message)))
    for at, version, event, code, fields, reason, actor in db.execute(
            "SELECT at, version, event, code, fields, reason, actor FROM sync_events WHERE doc_type = ? "
            "AND doc_id = ? ORDER BY id", [doc_type, doc_id]).fetchall():
        why = Reason.stored(code, fields, reason) if event == "parked" else None
        entries.append((at, 1, Entry(at, actor, WHAT["parked_event" if event == "parked" else event],
                                     version=version, reason=why)))
    entries.sort(key=lambda e: (e[0], e[1]))
    return DocHistory(doc, tuple(e for _, _, e in entries))


def find(firm, text: str) -> tuple[str, int]:
    """A document by its number (INV-00001, CR-00002), a payment's reference, or `<kind> <id>` (`payment 3`)."""
    text = (text or "").strip()
    kind, _, rest = text.partition(" ")
    if kind in KINDS and rest.strip().isdigit():
        return kind, int(rest.strip())
    rows = firm.db.execute(f"SELECT doc_type, doc_id FROM ({_DOCS}) WHERE number = ? COLLATE NOCASE "
                           "AND doc_type != 'trust_payment' ORDER BY doc_type, doc_id", [text]).fetchall()
    if len(rows) == 1:
        return rows[0][0], rows[0][1]
    if not rows:
        raise NotFound(f"No invoice, credit note or payment is numbered {text!r}: give its number, a payment's "
                       "reference, or KIND ID (`invoice 12`)")
    raise NotFound(f"{len(rows)} documents answer to {text!r}: give KIND ID instead (`payment {rows[0][1]}`)")
