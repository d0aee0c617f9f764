"""The sync engine: the ledger's outbox (`sync_queue`) pushed to QBO exactly once, in dependency order.

One engine per firm and run. A run:
  1. replays requests written to `sync_pending` but never answered (a crash, a timeout): same body,
     same requestid, so QBO answers from memory instead of creating a second copy;
  2. re-queues parked documents whose reason may be gone (a local reason is checked again every run;
     a QBO refusal when the maps changed since it was parked);
  3. works through three phases: deletions of payments and credit notes, then invoices (customers
     first: found by exact DisplayName, else created), then payments and credit notes;
  4. in each phase, sends every ready step in batches of up to 30 and single requests side by side,
     inside the company's limiter, and stores each answer in one transaction (sync_store).

The state machine of one document is `next_op`: from the queue row and the stored link it names the
next write (create, sparse update or delete of the document, or of a credit note's application
payment) or None when QBO holds the document's current version.

Failures: a fault the user must fix parks the document with a sentence naming the fix; a stale
SyncToken (5010) is re-read and retried once; an object QBO lost is created again under a new
generation; transient failures keep their pending request and are retried with backoff; an
authentication failure stops the run ("Reconnect to QuickBooks") and loses nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Callable, Protocol

import sqlite_utils

from core.errors import AuthError, Parked, PermanentError, QBOError, TransientError
from core.qbo import payloads as P
from core.qbo import sync_store as S
from core.qbo.client import dumps

log = logging.getLogger(__name__)

ENTITY = {"invoice": "Invoice", "payment": "Payment", "credit_note": "CreditMemo", "apply": "Payment",
          "customer": "Customer"}
LABEL = {"invoice": "Invoice", "payment": "Payment", "credit_note": "Credit note"}
# Codes meaning the object is gone from QBO (deleted there, or never existed under that Id).
GONE_CODES = {"610", "2030"}
STALE_CODE = "5010"
# Deletions of payments and credit notes go first (QBO refuses to delete an invoice with payments applied);
# then invoices, payments and credit notes in one pipeline: a payment or credit note is sent as soon as the
# invoice it applies to is in QBO.
PHASES = (
    ("remove", (("payment", "delete"), ("credit_note", "delete"))),
    ("documents", (("invoice", "upsert"), ("invoice", "delete"), ("payment", "upsert"), ("credit_note", "upsert"))),
)
TRANSIENT_ATTEMPTS_PER_RUN = 5
CUSTOMER_QUERY_NAMES = 40  # DisplayNames per `IN (...)` query


# ---------------------------------------------------------------- what the engine is given


class Wire(Protocol):
    """The QBO calls the engine makes (core.qbo.client.QBOClient has them)."""

    async def create(self, entity: str, body: dict, *, requestid: str | None) -> dict: ...
    async def sparse_update(self, entity: str, body: dict, *, requestid: str | None) -> dict: ...
    async def delete(self, entity: str, id: str, sync_token: str, *, requestid: str | None) -> dict: ...
    async def read(self, entity: str, id: str) -> dict: ...
    async def query_all(self, entity: str, where: str = "", order_by: str = "") -> list[dict]: ...
    async def batch(self, items: list[dict], *, requestid: str | None = None,
                    encoded: str | None = None) -> list[dict]: ...


class Sources(Protocol):
    """The ledger and the QBO settings as the engine sees them (core.services.sync builds one)."""

    def switch(self) -> tuple[bool, str | None]:
        """The "Sales invoices" switch and the sync-from date (YYYY-MM-DD or None)."""

    def context(self) -> P.PushContext: ...

    def document(self, doc_type: str, doc_id: int):
        """The ledger Invoice, Payment or CreditNote (core.ledger.models), deleted ones included."""

    def client(self, client_id: int):
        """The ledger Contact of a client."""


# ---------------------------------------------------------------- events and results


@dataclass(frozen=True)
class QueueCounts:
    queued: int = 0
    sending: int = 0
    done: int = 0
    parked: int = 0

    def as_json(self) -> dict:
        return {"queued": self.queued, "sending": self.sending, "done": self.done, "parked": self.parked}


@dataclass(frozen=True)
class TotalDifference:
    doc_type: str
    doc_id: int
    label: str
    ledger_minor: int
    qbo_minor: int
    currency: str

    def as_json(self) -> dict:
        return {"doc_type": self.doc_type, "doc_id": self.doc_id, "label": self.label,
                "ledger_minor": self.ledger_minor, "qbo_minor": self.qbo_minor, "currency": self.currency}


@dataclass(frozen=True)
class Progress:
    """One progress event; each replaces the previous one on screen."""

    phase: str
    counts: QueueCounts
    sent: int
    total: int
    current: str | None
    docs_per_minute: float
    requests: int
    limiter: object | None = None
    message: str = ""


@dataclass(frozen=True)
class SyncSummary:
    pushed: int
    parked: int
    waiting: int
    skipped: int
    requests: int
    seconds: float
    differences: tuple[TotalDifference, ...] = ()
    stopped: str | None = None
    message: str = ""
    counts: QueueCounts = QueueCounts()
    writes: int = 0  # QBO writes answered (batch items count one each)

    @property
    def ok(self) -> bool:
        return self.stopped is None and self.counts.parked == 0 and not self.differences

    @property
    def docs_per_minute(self) -> float:
        return self.pushed * 60.0 / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict:
        return {
            "ok": self.ok, "pushed": self.pushed, "parked": self.parked, "waiting": self.waiting,
            "skipped": self.skipped, "requests": self.requests, "writes": self.writes,
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped, "message": self.message, "queue": self.counts.as_json(),
            "differences": [d.as_json() for d in self.differences],
        }


# ---------------------------------------------------------------- the state machine


@dataclass(frozen=True)
class Row:
    doc_type: str
    doc_id: int
    version: int
    action: str
    state: str
    reason: str | None = None
    attempts: int = 0
    next_attempt_at: str | None = None


def next_op(row: Row, link: S.Link) -> tuple[str, str] | None:
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

    kind: str
    doc_type: str
    doc_id: int
    version: int
    op: str
    entity: str
    body: dict
    request_id: str
    label: str
    ledger_total_minor: int | None = None

    def item(self, bid: str | None = None) -> dict:
        """What is kept in sync_pending about this step."""
        return {"kind": self.kind, "doc_type": self.doc_type, "doc_id": self.doc_id, "version": self.version,
                "op": self.op, "entity": self.entity, "label": self.label, "bid": bid,
                "ledger_total_minor": self.ledger_total_minor, "request_id": self.request_id}

    def batch_item(self, bid: str) -> dict:
        operation = {"create": "create", "update": "update", "delete": "delete"}[self.op]
        return {"bId": bid, "operation": operation, self.entity: self.body}


def doc_label(doc_type: str, doc) -> str:
    if doc_type == "payment":
        return f"Payment {doc.reference or doc.id}" if doc is not None else "Payment"
    number = getattr(doc, "number", None)
    return f"{LABEL[doc_type]} {number}" if number else LABEL[doc_type]


def ledger_total(doc_type: str, doc) -> int:
    return doc.amount_minor if doc_type == "payment" else doc.total_minor


def build_step(salt: str, row: Row, link: S.Link, doc, ctx: P.PushContext, customers: dict,
               invoices: dict) -> Step | None:
    """The next step of a document with its body, or None when it is up to date. Raises Parked."""
    nxt = next_op(row, link)
    if nxt is None:
        return None
    kind, op = nxt
    label = doc_label(row.doc_type, doc)
    rid = S.request_id(salt, kind, row.doc_id, row.version, link.generation, link.tries, op)
    entity = ENTITY[kind]
    if op == "delete":
        if kind == "apply":
            body = {"Id": link.apply_id, "SyncToken": link.apply_sync_token}
        else:
            body = {"Id": link.qbo_id, "SyncToken": link.sync_token}
        return Step(kind, row.doc_type, row.doc_id, row.version, op, entity, body, rid, label)
    if row.doc_type == "invoice":
        payload = P.invoice_payload(doc, ctx, customers)
    elif row.doc_type == "payment":
        payload = P.payment_payload(doc, ctx, customers, invoices)
    elif kind == "apply":
        payload = P.apply_payload(doc, ctx, customers, invoices, link.qbo_id)
    else:
        payload = P.credit_memo_payload(doc, ctx, customers)
    total = None if kind == "apply" else ledger_total(row.doc_type, doc)
    if op == "create":
        body = payload.body()
    elif kind == "apply":
        body = P.sparse(payload, link.apply_id, link.apply_sync_token)
    else:
        body = P.sparse(payload, link.qbo_id, link.sync_token)
    return Step(kind, row.doc_type, row.doc_id, row.version, op, entity, body, rid, label, total)


def fingerprint(ctx: P.PushContext) -> str:
    """A digest of the maps: a QBO refusal is retried by itself when it changes."""
    parts = []
    for name in ("sales", "gl", "tax"):
        mapping = getattr(ctx, name)
        parts.append(sorted((str(k), v.value) for k, v in mapping.items()))
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- queue helpers


def queue_counts(db: sqlite_utils.Database) -> QueueCounts:
    counts = dict(db.execute("SELECT state, count(*) FROM sync_queue GROUP BY state").fetchall())
    return QueueCounts(**{k: counts.get(k, 0) for k in ("queued", "sending", "done", "parked")})


def _row(db, doc_type: str, doc_id: int) -> Row | None:
    r = db.execute(
        "SELECT doc_type, doc_id, version, action, state, reason, attempts, next_attempt_at FROM sync_queue "
        "WHERE doc_type = ? AND doc_id = ?", [doc_type, doc_id]).fetchone()
    return Row(*r) if r else None


def park(db, row: Row, reason: str, kind: str, fp: str, record_id: int | None = None) -> None:
    """Park a document (inside the caller's transaction) unless the ledger has queued a newer version."""
    db.execute(
        "UPDATE sync_queue SET state = 'parked', reason = ?, updated_at = ? "
        "WHERE doc_type = ? AND doc_id = ? AND version = ?",
        [reason, S.now(), row.doc_type, row.doc_id, row.version])
    db.execute(
        "INSERT INTO sync_parked (doc_type, doc_id, version, kind, reason, fingerprint, record_id, parked_at) "
        "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(doc_type, doc_id) DO UPDATE SET version = excluded.version, "
        "kind = excluded.kind, reason = excluded.reason, fingerprint = excluded.fingerprint, "
        "record_id = excluded.record_id, parked_at = excluded.parked_at",
        [row.doc_type, row.doc_id, row.version, kind, reason, fp, record_id, S.now()])


def _finish(db, doc_type: str, doc_id: int, version: int, state: str, reason: str | None = None) -> None:
    db.execute(
        "UPDATE sync_queue SET state = ?, reason = ?, attempts = 0, next_attempt_at = NULL, updated_at = ? "
        "WHERE doc_type = ? AND doc_id = ? AND version = ?",
        [state, reason, S.now(), doc_type, doc_id, version])
    if state == "done":
        db.execute("DELETE FROM sync_parked WHERE doc_type = ? AND doc_id = ?", [doc_type, doc_id])


def requeue_parked(db, doc_type: str | None = None, doc_id: int | None = None) -> int:
    """Put parked documents back in the queue (by hand: one, or all)."""
    where, args = "state = 'parked'", []
    if doc_type is not None:
        where += " AND doc_type = ? AND doc_id = ?"
        args = [doc_type, doc_id]
    with db.atomic():
        n = db.execute(f"UPDATE sync_queue SET state = 'queued', next_attempt_at = NULL, attempts = 0, "
                       f"updated_at = ? WHERE {where}", [S.now(), *args]).rowcount
    return n


# ---------------------------------------------------------------- the engine


class StopRun(Exception):
    pass


@dataclass
class _RunState:
    started: float
    pushed: int = 0
    parked: int = 0
    skipped: int = 0
    requests: int = 0
    writes: int = 0
    stale_retried: set = field(default_factory=set)
    transient: dict = field(default_factory=dict)  # (doc_type, doc_id) -> failures this run
    differences: list = field(default_factory=list)
    retry_later: list = field(default_factory=list)  # pending requests whose send failed transiently
    current: str | None = None
    total: int = 0
    phase: str = "starting"


class SyncEngine:
    def __init__(
        self,
        db: sqlite_utils.Database,
        wire: Wire,
        sources: Sources,
        *,
        max_concurrent: int = 10,
        batch_size: int = 30,
        batch_min: int = 4,
        max_backoff: float = 60.0,
        progress: Callable[[Progress], None] | None = None,
        limiter=None,
        owner: str = "ledgerlink sync",
    ):
        self.db = db
        self.wire = wire
        self.sources = sources
        self.max_concurrent = max(1, max_concurrent)
        self.batch_size = max(1, min(30, batch_size))
        self.batch_min = batch_min
        self.max_backoff = max_backoff
        self.progress = progress
        self.limiter = limiter
        self.owner = owner
        self._touched = 0.0
        self.salt = S.salt(db)
        self.ctx: P.PushContext | None = None
        self.fp = ""
        self.from_date: str | None = None
        self.blocked_customers: dict[int, str] = {}
        self.run_state = _RunState(time.monotonic())
        self._stopped = False
        self._waiters: dict[int, set] = {}  # invoice id -> documents waiting for it to reach QBO

    # -- public -------------------------------------------------------------------------------

    async def run(self) -> SyncSummary:
        st = self.run_state = _RunState(time.monotonic())
        enabled, self.from_date = self.sources.switch()
        if not enabled:
            counts = queue_counts(self.db)
            return self._summary(message=(
                f"The Sales invoices synchronisation is off: {counts.queued + counts.parked} documents wait in "
                "the queue. Switch it on in Mapping > Synchronisation (or `ledgerlink sync enable`)."))
        busy = S.acquire_engine_lock(self.db, self.owner)
        if busy:
            return self._summary(message=busy)
        self.ctx = self.sources.context()
        self.fp = fingerprint(self.ctx)
        try:
            self._recover()
            await self._replay(S.list_pending(self.db))
            self._unpark_automatically()
            st.total = self._count_open()
            for phase, kinds in PHASES:
                st.phase = phase
                await self._run_phase(kinds)
            st.phase = "done"
            self._emit("Finished")
        except StopRun as stop:
            self._release_sending()
            return self._summary(stopped=str(stop))
        finally:
            S.release_engine_lock(self.db)
        return self._summary()

    # -- recovery and parking -------------------------------------------------------------------

    def _recover(self) -> None:
        """Rows left 'sending' by a crash go back to 'queued' (their pending requests are replayed first)."""
        pending = S.pending_docs(self.db)
        with self.db.atomic():
            for doc_type, doc_id in self.db.execute(
                    "SELECT doc_type, doc_id FROM sync_queue WHERE state = 'sending'").fetchall():
                if (doc_type, doc_id) not in pending:
                    self.db.execute("UPDATE sync_queue SET state = 'queued' WHERE doc_type = ? AND doc_id = ?",
                                    [doc_type, doc_id])

    def _release_sending(self) -> None:
        with self.db.atomic():
            self.db.execute("UPDATE sync_queue SET state = 'queued' WHERE state = 'sending'")

    def _unpark_automatically(self) -> None:
        """Local reasons are checked again each run; QBO refusals when the maps changed since."""
        with self.db.atomic():
            rows = self.db.execute(
                "SELECT q.doc_type, q.doc_id, p.kind, p.fingerprint FROM sync_queue q "
                "LEFT JOIN sync_parked p ON p.doc_type = q.doc_type AND p.doc_id = q.doc_id "
                "WHERE q.state = 'parked'").fetchall()
            for doc_type, doc_id, kind, fp in rows:
                if kind is None or kind == "local" or fp != self.fp:
                    self.db.execute("UPDATE sync_queue SET state = 'queued' WHERE doc_type = ? AND doc_id = ?",
                                    [doc_type, doc_id])

    def _count_open(self) -> int:
        return self.db.execute("SELECT count(*) FROM sync_queue WHERE state IN ('queued','sending')").fetchone()[0]

    # -- phases ---------------------------------------------------------------------------------

    def _due_rows(self, kinds) -> list[Row]:
        """Queued rows of this phase with no request in flight."""
        pending = S.pending_docs(self.db)
        clauses = " OR ".join("(doc_type = ? AND action = ?)" for _ in kinds)
        args = [v for pair in kinds for v in pair]
        rows = [Row(*r) for r in self.db.execute(
            "SELECT doc_type, doc_id, version, action, state, reason, attempts, next_attempt_at FROM sync_queue "
            f"WHERE state = 'queued' AND ({clauses}) ORDER BY doc_type, doc_id", args).fetchall()]
        return [r for r in rows if (r.doc_type, r.doc_id) not in pending]

    async def _run_phase(self, kinds) -> None:
        st = self.run_state
        deferred_before: set = set()
        while True:
            self._waiters = {}
            await self._replay_due()
            rows = self._due_rows(kinds)
            docs = {(r.doc_type, r.doc_id): self.sources.document(r.doc_type, r.doc_id) for r in rows}
            await self._ensure_customers(rows, docs)
            steps = self._plan_rows(rows, docs)
            deferred = {k for keys in self._waiters.values() for k in keys}
            if steps:
                await self._send(steps, kinds)
            elif st.retry_later:
                await asyncio.sleep(max(0.0, min(w for w, _ in st.retry_later) - time.time()))
            elif not deferred or deferred == deferred_before:
                return  # nothing sent, nothing to wait for: the rest waits for the next run
            deferred_before = deferred
            st.total = max(st.total, st.pushed + st.parked + self._count_open())

    def _in_flight_invoices(self) -> set:
        """Invoices not yet in QBO whose push is still under way in this run (queued or sending)."""
        rows = self.db.execute(
            "SELECT q.doc_id FROM sync_queue q LEFT JOIN sync_links l ON l.doc_type = q.doc_type AND "
            "l.doc_id = q.doc_id WHERE q.doc_type = 'invoice' AND q.state IN ('queued','sending') "
            "AND q.action = 'upsert' AND l.qbo_id IS NULL").fetchall()
        return {("invoice", r[0]) for r in rows}

    def _pending_customers(self) -> set:
        return {d for d in S.pending_docs(self.db) if d[0] == "customer"}

    def _must_wait(self, row: Row, doc, waiting_on: set) -> bool:
        """A payment or credit note whose invoice (or customer) is still on its way waits, unparked."""
        if doc is None or row.action != "upsert":
            return False
        if ("customer", doc.client_id) in waiting_on:
            return True
        if row.doc_type == "payment":
            return any(("invoice", a.invoice_id) in waiting_on for a in doc.allocations)
        if row.doc_type == "credit_note":
            return ("invoice", doc.invoice_id) in waiting_on
        return False

    def _plan(self, row: Row, doc, customers: dict, invoices: dict) -> Step | None:
        st = self.run_state
        link = S.get_link(self.db, row.doc_type, row.doc_id)
        if doc is None:
            with self.db.atomic():
                park(self.db, row, f"{LABEL[row.doc_type]} #{row.doc_id} no longer exists in the ledger", "local",
                     self.fp)
            st.parked += 1
            return None
        if (not link.in_qbo and link.apply_id is None and self.from_date and doc.date < self.from_date):
            with self.db.atomic():
                _finish(self.db, row.doc_type, row.doc_id, row.version, "done",
                        f"Dated before the sync-from date {self.from_date}: not sent")
            st.skipped += 1
            return None
        if row.action == "upsert" and row.doc_type != "invoice" and not link.in_qbo:
            blocked = self.blocked_customers.get(doc.client_id)
            if blocked:
                return self._park_local(row, blocked)
        if row.action == "upsert" and row.doc_type == "invoice":
            blocked = self.blocked_customers.get(doc.client_id)
            if blocked:
                return self._park_local(row, blocked)
        try:
            step = build_step(self.salt, row, link, doc, self.ctx, customers, invoices)
        except P.WaitsForInvoice as exc:
            return self._park_local(row, self._why_invoice_missing(exc))
        except Parked as exc:
            return self._park_local(row, str(exc))
        if step is None:
            with self.db.atomic():
                _finish(self.db, row.doc_type, row.doc_id, row.version, "done")
            st.pushed += 1
        return step

    def _why_invoice_missing(self, exc: P.WaitsForInvoice) -> str:
        inv = _row(self.db, "invoice", exc.invoice_id)
        if inv is not None and inv.state == "parked" and inv.reason:
            return f"{str(exc).removesuffix(', which is not in QuickBooks yet')}, which is parked: {inv.reason}"
        if inv is not None and inv.state == "done" and self.from_date:
            return (f"{str(exc).removesuffix(', which is not in QuickBooks yet')}, which is dated before the "
                    f"sync-from date {self.from_date} and so is not in QuickBooks: record this in QuickBooks by "
                    "hand, or move the sync-from date (Mapping > Synchronisation)")
        return str(exc)

    def _park_local(self, row: Row, reason: str) -> None:
        with self.db.atomic():
            park(self.db, row, reason, "local", self.fp)
        self.run_state.parked += 1
        log.info("Parked %s %s: %s", row.doc_type, row.doc_id, reason)
        return None

    def _invoice_links(self) -> dict:
        return dict(self.db.execute(
            "SELECT doc_id, qbo_id FROM sync_links WHERE doc_type = 'invoice' AND qbo_id IS NOT NULL").fetchall())

    def _customer_links(self) -> dict:
        return dict(self.db.execute(
            "SELECT client_id, qbo_id FROM sync_customers WHERE qbo_id IS NOT NULL").fetchall())

    # -- customers ------------------------------------------------------------------------------

    async def _ensure_customers(self, rows: list[Row], docs: dict) -> None:
        """Find (exact DisplayName) or create the QBO customer of every client these documents need."""
        known = self._customer_links()
        needed: dict[int, str] = {}
        for row in rows:
            doc = docs[(row.doc_type, row.doc_id)]
            if row.action != "upsert" or doc is None:
                continue
            cid = doc.client_id
            if cid in known or cid in needed or cid in self.blocked_customers:
                continue
            contact = self.sources.client(cid)
            needed[cid] = P.display_name(contact.name if contact else f"Client {cid}")
        if not needed:
            return
        ids = list(needed)
        found: dict[int, str] = {}
        for start in range(0, len(ids), CUSTOMER_QUERY_NAMES):
            chunk = ids[start:start + CUSTOMER_QUERY_NAMES]
            names = ", ".join("'" + _escape(needed[cid]) + "'" for cid in chunk)
            rows_ = await self._call(self.wire.query_all("Customer", where=f"DisplayName IN ({names})"))
            by_name = {}
            for c in rows_:
                by_name.setdefault(c.get("DisplayName"), c["Id"])
            for cid in chunk:
                if needed[cid] in by_name:
                    found[cid] = by_name[needed[cid]]
        with self.db.atomic():
            for cid, qbo_id in found.items():
                old = S.get_customer(self.db, cid)
                S.put_customer(self.db, S.CustomerLink(cid, qbo_id, needed[cid], old.generation if old else 0))
        steps = []
        for cid in ids:
            if cid in found:
                continue
            old = S.get_customer(self.db, cid)
            gen = old.generation if old else 0
            contact = self.sources.client(cid)
            payload = P.customer_payload(contact.name if contact else needed[cid],
                                         getattr(contact, "email", None), getattr(contact, "phone", None))
            rid = S.request_id(self.salt, "customer", cid, 0, gen, 0, "create")
            steps.append(Step("customer", "customer", cid, 0, "create", "Customer", payload.body(), rid,
                              f"Customer {needed[cid]}"))
        if steps:
            await self._send(steps)

    # -- sending --------------------------------------------------------------------------------

    async def _call(self, coro):
        try:
            self.run_state.requests += 1
            return await coro
        except AuthError as exc:
            self._stopped = True
            raise StopRun(reconnect_message(exc)) from None

    async def _send(self, steps: list[Step], kinds=()) -> None:
        """Send steps: batches of up to 30 and single requests side by side, within the limiter.

        Steps that become ready while this runs (a payment whose invoice just reached QBO, a credit memo's
        application, a retry after a stale SyncToken) join the same work queue.
        """
        work = deque(steps)
        busy = {"n": 0}
        batches = {"n": 0}  # batches taken from the queue and not yet answered
        cond = asyncio.Condition()
        use_batches = len(steps) >= self.batch_min

        async def nap() -> None:
            """Wait for a change (an answer, new work) or for the limiter's budget to move on."""
            async with cond:
                try:
                    await asyncio.wait_for(cond.wait(), self._batch_poll())
                except asyncio.TimeoutError:
                    pass

        async def finished(new_steps: list[Step]) -> None:
            async with cond:
                busy["n"] -= 1
                work.extend(new_steps)
                cond.notify_all()

        async def batch_worker():
            while not self._stopped:
                async with cond:
                    await cond.wait_for(lambda: self._stopped or len(work) >= self.batch_min or busy["n"] == 0)
                    if self._stopped or len(work) < self.batch_min:
                        return  # nothing in flight can add work: the singles take what is left
                    if self._batch_slot_free(batches["n"]):
                        chunk = [work.popleft() for _ in range(min(self.batch_size, len(work)))]
                        busy["n"] += 1
                        batches["n"] += 1
                    else:
                        chunk = None
                if chunk is None:
                    # Leave the work to single requests while the batch budget is spent.
                    await nap()
                    continue
                try:
                    await self._send_batch(chunk)
                finally:
                    batches["n"] -= 1
                    await finished(self._follow_up(chunk, kinds))

        async def single_worker():
            while not self._stopped:
                async with cond:
                    await cond.wait_for(lambda: self._stopped or work or busy["n"] == 0)
                    if self._stopped or not work:
                        return
                    # A batch carries up to 30 documents for one request of the budget: while one can go,
                    # or one still fits in this minute's budget, single requests leave the work to it.
                    yield_to_batches = (use_batches and len(work) >= self.batch_min
                                        and (self._batch_slot_free(batches["n"])
                                             or not self._single_slot_free(batches["n"])))
                    if not yield_to_batches:
                        step = work.pop() if use_batches else work.popleft()
                        busy["n"] += 1
                if yield_to_batches:
                    await nap()
                    continue
                try:
                    await self._send_single(step)
                finally:
                    await finished(self._follow_up([step], kinds))

        workers = []
        if use_batches:
            workers += [batch_worker() for _ in range(self.max_concurrent)]
        workers += [single_worker() for _ in range(self.max_concurrent)]
        results = await asyncio.gather(*workers, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    def _follow_up(self, sent: list[Step], kinds) -> list[Step]:
        """The next steps that became ready now that `sent` has an outcome (only within this phase)."""
        if not kinds or self._stopped:
            return []
        keys = {(s.doc_type, s.doc_id) for s in sent if s.doc_type in S.DOC_TYPES}
        for s in sent:
            if s.doc_type == "invoice":
                keys |= self._waiters.pop(s.doc_id, set())
        if not keys:
            return []
        allowed = set(kinds)
        pending = S.pending_docs(self.db)
        rows = [r for r in (_row(self.db, t, i) for t, i in sorted(keys))
                if r is not None and r.state == "queued" and (r.doc_type, r.action) in allowed
                and (r.doc_type, r.doc_id) not in pending]
        if not rows:
            return []
        docs = {(r.doc_type, r.doc_id): self.sources.document(r.doc_type, r.doc_id) for r in rows}
        return self._plan_rows(rows, docs)

    def _plan_rows(self, rows: list[Row], docs: dict) -> list[Step]:
        """Steps for the rows that can go now; the others wait for their invoice (see _waiters)."""
        invoices = self._invoice_links()
        customers = self._customer_links()
        waiting_on = self._in_flight_invoices() | {("customer", c) for _, c in self._pending_customers()}
        steps = []
        for row in rows:
            doc = docs[(row.doc_type, row.doc_id)]
            if self._must_wait(row, doc, waiting_on):
                for dep in self._dependencies(row, doc):
                    self._waiters.setdefault(dep, set()).add((row.doc_type, row.doc_id))
                continue
            step = self._plan(row, doc, customers, invoices)
            if step is not None:
                steps.append(step)
        return steps

    @staticmethod
    def _dependencies(row: Row, doc) -> list[int]:
        if row.doc_type == "payment":
            return [a.invoice_id for a in doc.allocations]
        if row.doc_type == "credit_note":
            return [doc.invoice_id]
        return []

    def _batch_slot_free(self, outstanding: int = 0) -> bool:
        """Whether the company's limiter would let one more batch go now (True when there is no limiter).

        `outstanding` batches were taken but may not be counted by the limiter yet: they count too.
        """
        lim = self.limiter
        if lim is None or not hasattr(lim, "stats") or not hasattr(lim, "batches_per_minute"):
            return True
        stats = lim.stats()
        return (stats.batches_this_minute + outstanding < lim.batches_per_minute
                and stats.requests_this_minute + outstanding < lim.requests_per_minute)

    def _single_slot_free(self, outstanding: int = 0) -> bool:
        """Whether a single request leaves room in this minute's request budget for the batches still allowed."""
        lim = self.limiter
        if lim is None or not hasattr(lim, "stats") or not hasattr(lim, "batches_per_minute"):
            return True
        stats = lim.stats()
        batch_room = max(0, lim.batches_per_minute - stats.batches_this_minute - outstanding)
        return stats.requests_this_minute + outstanding + batch_room < lim.requests_per_minute

    def _batch_poll(self) -> float:
        """How long a batch worker waits before asking again: a fiftieth of the limiter's minute."""
        return 60.0 * getattr(self.limiter, "time_scale", 1.0) / 50

    def _write_pending(self, pending: S.Pending) -> None:
        at = S.now()
        with self.db.atomic():
            S.add_pending(self.db, pending)
            self.db.conn.executemany(
                "UPDATE sync_queue SET state = 'sending', updated_at = ? WHERE doc_type = ? AND doc_id = ?",
                [(at, item["doc_type"], item["doc_id"]) for item in pending.items if item["doc_type"] in S.DOC_TYPES])

    async def _send_single(self, step: Step) -> None:
        pending = S.Pending(step.request_id, False, step.body, [step.item()])
        self._write_pending(pending)
        await self._deliver(pending)

    async def _send_batch(self, steps: list[Step]) -> None:
        rid = S.batch_request_id(self.db)
        items = [s.item(str(i)) for i, s in enumerate(steps)]
        body = {"BatchItemRequest": [s.batch_item(str(i)) for i, s in enumerate(steps)]}
        pending = S.Pending(rid, True, body, items, dumps(body))
        self._write_pending(pending)
        await self._deliver(pending)

    async def _replay(self, pendings: list[S.Pending]) -> None:
        if pendings:
            log.info("Replaying %d unanswered requests with their original requestids", len(pendings))
        sem = asyncio.Semaphore(self.max_concurrent)

        async def one(p):
            async with sem:
                await self._deliver(p)

        results = await asyncio.gather(*(one(p) for p in pendings), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _replay_due(self) -> None:
        st = self.run_state
        now = time.time()
        due = [p for when, p in st.retry_later if when <= now]
        st.retry_later = [(w, p) for w, p in st.retry_later if w > now]
        await self._replay(due)

    async def _deliver(self, pending: S.Pending) -> None:
        """Send a pending request (first time or replay) and store its outcome."""
        st = self.run_state
        st.current = pending.items[0]["label"] if len(pending.items) == 1 else f"{len(pending.items)} documents"
        try:
            if pending.is_batch:
                answers = await self._call(self.wire.batch(pending.body["BatchItemRequest"],
                                                           requestid=pending.request_id, encoded=pending.text))
                by_bid = {a.get("bId"): a for a in answers}
                outcomes = []
                for item in pending.items:
                    answer = by_bid.get(item["bid"])
                    if answer is None:
                        outcomes.append((item, None, _missing_fault()))
                    elif "Fault" in answer:
                        outcomes.append((item, None, _fault_of(answer)))
                    else:
                        outcomes.append((item, answer.get(item["entity"]), None))
            else:
                item = pending.items[0]
                entity = await self._call(self._single(item, pending.body, pending.request_id))
                outcomes = [(item, entity, None)]
        except TransientError as exc:
            self._transient(pending, exc)
            return
        except PermanentError as exc:
            outcomes = [(item, None, _fault_of_error(exc)) for item in pending.items]
        st.writes += len(outcomes)
        await self._apply(pending, outcomes)

    def _single(self, item: dict, body: dict, rid: str):
        entity, op = item["entity"], item["op"]
        if op == "create":
            return self.wire.create(entity, body, requestid=rid)
        if op == "update":
            return self.wire.sparse_update(entity, body, requestid=rid)
        return self.wire.delete(entity, body["Id"], body["SyncToken"], requestid=rid)

    def _transient(self, pending: S.Pending, exc: TransientError) -> None:
        st = self.run_state
        worst = 0
        with self.db.atomic():
            for item in pending.items:
                key = (item["doc_type"], item["doc_id"])
                st.transient[key] = st.transient.get(key, 0) + 1
                worst = max(worst, st.transient[key])
                if item["doc_type"] in S.DOC_TYPES:
                    self.db.execute(
                        "UPDATE sync_queue SET attempts = attempts + 1, reason = ?, updated_at = ? "
                        "WHERE doc_type = ? AND doc_id = ?",
                        [f"Waiting to retry: {exc}", S.now(), item["doc_type"], item["doc_id"]])
        log.warning("Request %s failed for now, kept for a retry: %s", pending.request_id, exc)
        if worst < TRANSIENT_ATTEMPTS_PER_RUN:
            wait = min(self.max_backoff, 2.0 ** worst) if self.max_backoff > 0 else 0.0
            st.retry_later.append((time.time() + wait, pending))

    # -- outcomes -------------------------------------------------------------------------------

    async def _apply(self, pending: S.Pending, outcomes: list) -> None:
        """Store every outcome of one request in one transaction; then handle stale tokens."""
        st = self.run_state
        stale = []
        with self.db.atomic():
            S.remove_pending(self.db, pending.request_id)
            for item, entity, fault in outcomes:
                if fault is None:
                    self._store_ok(item, entity, pending)
                else:
                    kind = self._store_fault(item, fault, pending)
                    if kind == "stale":
                        stale.append(item)
        for item in stale:
            await self._refresh_token(item)
        self._emit(st.current or "")

    def _request_of(self, pending: S.Pending, item: dict) -> dict:
        if pending.is_batch:
            for b in pending.body["BatchItemRequest"]:
                if b.get("bId") == item["bid"]:
                    return b
        return pending.body

    def _store_ok(self, item: dict, entity: dict | None, pending: S.Pending) -> None:
        st = self.run_state
        entity = entity or {}
        kind, doc_type, doc_id, version = item["kind"], item["doc_type"], item["doc_id"], item["version"]
        S.add_record(self.db, doc_type=doc_type, doc_id=doc_id, version=version, operation=f"{kind}:{item['op']}",
                     request_id=pending.request_id, outcome="ok", response=S.compact_answer(entity),
                     intuit_tid=entity.get("_intuit_tid"))
        if kind == "customer":
            old = S.get_customer(self.db, doc_id)
            S.put_customer(self.db, S.CustomerLink(doc_id, entity.get("Id"), entity.get("DisplayName", ""),
                                                   old.generation if old else 0))
            return
        link = S.get_link(self.db, doc_type, doc_id)
        if kind == "apply":
            if item["op"] == "delete":
                link = replace(link, apply_id=None, apply_sync_token=None, apply_version=None)
            else:
                link = replace(link, apply_id=entity["Id"], apply_sync_token=entity["SyncToken"], apply_version=version)
        elif item["op"] == "delete":
            link = replace(link, qbo_id=None, sync_token=None, pushed_version=version, pushed_action="delete",
                           qbo_total_minor=None)
        else:
            qbo_total = P.total_minor(entity, self.ctx.currency) if self.ctx else None
            link = replace(link, qbo_type=item["entity"], qbo_id=entity["Id"], sync_token=entity["SyncToken"],
                           pushed_version=version, pushed_action="upsert",
                           ledger_total_minor=item.get("ledger_total_minor"), qbo_total_minor=qbo_total)
            ledger = item.get("ledger_total_minor")
            if ledger is not None and qbo_total is not None and ledger != qbo_total:
                st.differences.append(TotalDifference(doc_type, doc_id, item["label"], ledger, qbo_total,
                                                      self.ctx.currency))
                log.warning("%s: QuickBooks total %s differs from the ledger's %s", item["label"], qbo_total, ledger)
        S.put_link(self.db, link)
        row = _row(self.db, doc_type, doc_id)
        if row is None or row.version != version:
            return  # the ledger queued a newer version meanwhile: it goes out next
        if next_op(row, link) is None:
            _finish(self.db, doc_type, doc_id, version, "done")
            st.pushed += 1
        else:
            self.db.execute("UPDATE sync_queue SET state = 'queued', updated_at = ? WHERE doc_type = ? AND doc_id = ?",
                            [S.now(), doc_type, doc_id])

    def _store_fault(self, item: dict, fault, pending: S.Pending) -> str:
        """Record a refusal and decide: 'stale', 'gone' (recreate), 'done' (already deleted) or 'parked'."""
        st = self.run_state
        kind, doc_type, doc_id, version = item["kind"], item["doc_type"], item["doc_id"], item["version"]
        code = fault.code or ""
        if code == STALE_CODE and (doc_type, doc_id, kind) not in st.stale_retried:
            outcome = "stale"
        elif code in GONE_CODES and item["op"] in ("update", "delete"):
            outcome = "gone"
        else:
            outcome = "parked"
        record_id = S.add_record(
            self.db, doc_type=doc_type, doc_id=doc_id, version=version, operation=f"{kind}:{item['op']}",
            request_id=pending.request_id, outcome=outcome, request=self._request_of(pending, item),
            response={"Fault": {"code": fault.code, "Message": fault.message, "Detail": fault.detail,
                                "element": fault.element}},
            fault_code=fault.code, fault_message=_fault_text(fault), intuit_tid=fault.intuit_tid)
        if kind == "customer":
            old = S.get_customer(self.db, doc_id)
            name = item["label"].removeprefix("Customer ")
            S.put_customer(self.db, S.CustomerLink(doc_id, None, name, (old.generation if old else 0) + 1))
            self.blocked_customers[doc_id] = customer_reason(name, fault)
            return "parked"
        link = S.get_link(self.db, doc_type, doc_id)
        row = _row(self.db, doc_type, doc_id)
        if outcome == "gone":
            if item["op"] == "delete":
                # Already gone from QBO: the deletion is complete.
                if kind == "apply":
                    link = replace(link, apply_id=None, apply_sync_token=None, apply_version=None)
                else:
                    link = replace(link, qbo_id=None, sync_token=None, pushed_version=version, pushed_action="delete")
            else:
                # Deleted in QBO behind our back: a new generation creates it again.
                if kind == "apply":
                    link = replace(link, apply_id=None, apply_sync_token=None, apply_version=None,
                                   generation=link.generation + 1, tries=0)
                else:
                    link = replace(link, qbo_id=None, sync_token=None, pushed_version=None, pushed_action=None,
                                   apply_id=None, apply_sync_token=None, apply_version=None,
                                   generation=link.generation + 1, tries=0)
            S.put_link(self.db, link)
            if row is not None and row.version == version:
                if next_op(row, link) is None:
                    _finish(self.db, doc_type, doc_id, version, "done")
                    st.pushed += 1
                else:
                    self.db.execute("UPDATE sync_queue SET state = 'queued' WHERE doc_type = ? AND doc_id = ?",
                                    [doc_type, doc_id])
            return outcome
        link = replace(link, tries=link.tries + 1)
        S.put_link(self.db, link)
        if outcome == "stale":
            st.stale_retried.add((doc_type, doc_id, kind))
            self.db.execute("UPDATE sync_queue SET state = 'queued' WHERE doc_type = ? AND doc_id = ?",
                            [doc_type, doc_id])
            return outcome
        if row is not None:
            park(self.db, replace(row, version=version), refusal_reason(item["label"], fault), "qbo", self.fp,
                 record_id)
            if row.version != version:
                # A newer version is queued: it is tried as it is, not left parked.
                self.db.execute("UPDATE sync_queue SET state = 'queued' WHERE doc_type = ? AND doc_id = ?",
                                [doc_type, doc_id])
            else:
                st.parked += 1
        return outcome

    async def _refresh_token(self, item: dict) -> None:
        """After a stale SyncToken (5010): read the object again and keep its current token."""
        link = S.get_link(self.db, item["doc_type"], item["doc_id"])
        qbo_id = link.apply_id if item["kind"] == "apply" else link.qbo_id
        if qbo_id is None:
            return
        try:
            current = await self._call(self.wire.read(item["entity"], qbo_id))
        except PermanentError as exc:
            if (getattr(exc, "code", None) or "") in GONE_CODES or getattr(exc, "status", None) == 404:
                current = {"status": "Deleted"}
            else:
                return
        except TransientError:
            return
        with self.db.atomic():
            link = S.get_link(self.db, item["doc_type"], item["doc_id"])
            deleted = current.get("status") == "Deleted"
            if item["kind"] == "apply":
                link = (replace(link, apply_id=None, apply_sync_token=None, apply_version=None) if deleted
                        else replace(link, apply_sync_token=current["SyncToken"]))
            elif deleted:
                link = replace(link, qbo_id=None, sync_token=None, pushed_version=None, pushed_action=None,
                               generation=link.generation + 1, tries=0)
            else:
                link = replace(link, sync_token=current["SyncToken"])
            S.put_link(self.db, link)

    # -- progress -------------------------------------------------------------------------------

    def _emit(self, message: str) -> None:
        if time.monotonic() - self._touched > 30:
            self._touched = time.monotonic()
            S.touch_engine_lock(self.db)
        if self.progress is None:
            return
        st = self.run_state
        elapsed = time.monotonic() - st.started
        stats = self.limiter.stats() if self.limiter is not None and hasattr(self.limiter, "stats") else None
        self.progress(Progress(
            phase=st.phase, counts=queue_counts(self.db), sent=st.pushed + st.parked, total=max(st.total, 1),
            current=st.current, docs_per_minute=st.pushed * 60.0 / elapsed if elapsed > 0 else 0.0,
            requests=st.requests, limiter=stats, message=message))

    def _summary(self, *, stopped: str | None = None, message: str = "") -> SyncSummary:
        st = self.run_state
        counts = queue_counts(self.db)
        if not message:
            message = f"{st.pushed} pushed, {counts.parked} parked, {counts.queued + counts.sending} waiting"
        return SyncSummary(
            pushed=st.pushed, parked=counts.parked, waiting=counts.queued + counts.sending, skipped=st.skipped,
            requests=st.requests, seconds=time.monotonic() - st.started, differences=tuple(st.differences),
            stopped=stopped, message=message, counts=counts, writes=st.writes)


# ---------------------------------------------------------------- faults in plain language


@dataclass(frozen=True)
class _Fault:
    code: str | None
    message: str
    detail: str | None = None
    element: str | None = None
    intuit_tid: str | None = None


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _fault_of(answer: dict) -> _Fault:
    fault = answer.get("Fault") or {}
    errors = fault.get("Error") or [{}]
    err = errors[0]
    return _Fault(str(err.get("code")) if err.get("code") is not None else None,
                  err.get("Message") or "QuickBooks refused the request", err.get("Detail"), err.get("element"))


def _fault_of_error(exc: QBOError) -> _Fault:
    return _Fault(getattr(exc, "code", None), getattr(exc, "fault_message", None) or str(exc),
                  getattr(exc, "detail", None), getattr(exc, "element", None), getattr(exc, "intuit_tid", None))


def _missing_fault() -> _Fault:
    return _Fault(None, "QuickBooks did not answer this item of the batch")


def _fault_text(fault) -> str:
    text = fault.message
    if fault.code:
        text += f" (code {fault.code})"
    if fault.detail and fault.detail != fault.message:
        text += f": {fault.detail}"
    if fault.element:
        text += f" [field {fault.element}]"
    return text


def refusal_reason(label: str, fault) -> str:
    """A sentence for the admin: what QuickBooks refused, and what to do about it."""
    code = fault.code or ""
    what = _fault_text(fault)
    if code == "6210":
        hint = ("the period is closed in QuickBooks: change the closing date in QuickBooks (Account and settings > "
                "Advanced) or the document's date")
    elif code == "6140":
        hint = "the number is already used by another document in QuickBooks: renumber one of them"
    elif code in ("2500", "610"):
        hint = ("a product/service, account, tax code or customer it uses is inactive or gone in QuickBooks: refresh "
                "the reference data (Connect > Refresh) and check the maps in Mapping")
    elif code == STALE_CODE:
        hint = "someone else keeps changing it in QuickBooks: retry it once they are done"
    else:
        hint = "correct the document or the maps (Mapping), then retry it"
    return f"QuickBooks refused {label}: {what}. To fix: {hint}"


def reconnect_message(exc: Exception) -> str:
    """The run's stop message: always leads with "Reconnect to QuickBooks"."""
    text = str(exc)
    if text.startswith("Reconnect to QuickBooks"):
        return text
    why, found, how = text.partition("Reconnect to QuickBooks")
    if found:  # the reason already says how to reconnect: lead with that, not with the words twice
        return f"Reconnect to QuickBooks{how.rstrip('.')} ({why.strip().rstrip('.')})."
    return f"Reconnect to QuickBooks. {text}"


def customer_reason(name: str, fault) -> str:
    if (fault.code or "") == "6240":
        return (f"QuickBooks already has a vendor, employee or inactive customer named {name}: make that customer "
                "active again in QuickBooks (Ledgerlink then links to it) or rename that record there, then retry")
    return f"QuickBooks refused to create the customer {name}: {_fault_text(fault)}"
