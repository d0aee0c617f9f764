"""The sync engine: the ledger's outbox (`sync_queue`) pushed to QBO exactly once, in dependency order.

One engine per firm and run. A run:
  1. replays requests written to `sync_pending` but never answered (a crash, a timeout): same body,
     same requestid, so QBO answers from memory instead of creating a second copy;
  2. re-queues parked documents whose reason may be gone (a local reason is checked again every run;
     a QBO refusal when the maps changed since it was parked);
  3. works through three phases: deletions of payments and credit notes, then invoices (customers
     first: found by exact DisplayName, else created), then payments and credit notes;
  4. in each phase, sends every ready step through the dispatcher (core.qbo.sync_dispatch) and stores
     each answer in one transaction (core.qbo.sync_store).

The parts: sync_plan (what to send for a queue row: pure), sync_dispatch (batches, concurrency, limiter,
replay), sync_store (every table and statement), reasons (why a document waits), sync_events (what a run
reports). This module decides what an answer means for a document.

Failures: a fault the user must fix parks the document with a sentence naming the fix; a stale
SyncToken (5010) is re-read and retried once; an object QBO lost is created again under a new
generation; transient failures keep their pending request and are retried with backoff; an
authentication failure stops the run ("Reconnect to QuickBooks") and loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import sqlite_utils

from core.errors import Parked, PermanentError, SyncError, TransientError
from core.qbo import payloads as P
from core.ledger import numbers
from core.qbo import backoff, closing, edits, replay
from core.qbo import customers as CU
from core.qbo import jobs as J
from core.qbo import reasons as R
from core.qbo import sync_compare as C
from core.qbo import sync_store as S
from core.qbo.mirror import last_read, read_documents
from core.qbo.reasons import (
    GONE_CODES, STALE_CODE, Reason, customer_reason, reason_of, reconnect_message, refusal_reason,
)
from core.qbo.sync_dispatch import TRANSIENT_ATTEMPTS_PER_RUN, Dispatcher, StopRun, Unreachable, Wire
from core.qbo.sync_events import Progress, SyncSummary, TotalDifference
from core.qbo.sync_plan import (
    ENTITY, LABEL, PHASES, Sources, Step, build_step, customer_step, dependencies, doc_label, fingerprint,
    ledger_total, link_after_gone, link_after_read, link_after_write, must_wait, next_op,
)
from core.qbo.sync_store import QueueCounts, Row, park, queue_counts, requeue_parked

log = logging.getLogger(__name__)

__all__ = [
    "ENTITY", "GONE_CODES", "LABEL", "PHASES", "STALE_CODE", "TRANSIENT_ATTEMPTS_PER_RUN", "Progress",
    "QueueCounts", "Row", "Sources", "Step", "StopRun", "SyncEngine", "SyncSummary", "TotalDifference", "Wire",
    "build_step", "customer_reason", "doc_label", "fingerprint", "ledger_total", "next_op", "park", "queue_counts",
    "reconnect_message", "refusal_reason", "requeue_parked",
]

CUSTOMER_QUERY_NAMES = 40  # DisplayNames per `IN (...)` query
DUPLICATE_NUMBER = "6140"
NUMBERED = ("invoice", "credit_note")


@dataclass
class _RunState:
    started: float
    pushed: int = 0
    parked: int = 0
    skipped: int = 0
    differences_parked: int = 0
    stale_retried: set = field(default_factory=set)
    differences: list = field(default_factory=list)
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
        self.progress = progress
        self.limiter = limiter
        self.owner = owner
        self.dispatch = Dispatcher(db, wire, store_outcomes=self._apply, follow_up=self._follow_up,
                                   max_concurrent=max_concurrent, batch_size=batch_size, batch_min=batch_min,
                                   max_backoff=max_backoff, limiter=limiter)
        self._touched = 0.0
        self.salt = S.salt(db)
        self.ctx: P.PushContext | None = None
        self.fp = ""
        self.from_date: str | None = None
        self.blocked_customers: dict[int, Reason] = {}
        self.jobs = J.JobState()  # matters as QBO sub-customers (core.qbo.jobs)
        self.close_date: str | None = None
        self.close_date_checked = False
        self.mirror_fresh = False
        self.run_state = _RunState(time.monotonic())
        self._waiters: dict[int, set] = {}  # invoice id -> documents waiting for it to reach QBO
        # (doc_type, doc_id) of a payment or credit application planned and not yet answered -> what it applies
        self._reserved: dict[tuple[str, int], dict[int, int]] = {}
        self._taken_records: dict = {}  # (doc_type, doc_id) -> record id of a refusal for a number QBO holds

    # -- public -------------------------------------------------------------------------------

    async def run(self) -> SyncSummary:
        st = self.run_state = _RunState(time.monotonic())
        self.dispatch.reset()
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
        if self.ctx.home_currency and self.ctx.home_currency != self.ctx.currency:
            S.release_engine_lock(self.db)
            reason = Reason("currency_differs", {"firm_currency": self.ctx.currency,
                                                 "home_currency": self.ctx.home_currency,
                                                 "company": self.ctx.company_name or "connected"})
            return self._summary(stopped=reason.render())
        self.close_date = closing.book_close_date(self.db)
        self.close_date_checked = False
        self.mirror_fresh = False
        try:
            # Rows left 'sending' by a crash go back to 'queued' (their pending requests are replayed first).
            S.release_sending(self.db, keep=S.pending_docs(self.db))
            await self.dispatch.replay(S.list_pending(self.db))
            S.unpark_changed(self.db, self.fp)
            st.total = S.open_count(self.db)
            for phase, kinds in PHASES:
                st.phase = phase
                await self._run_phase(kinds)
            st.phase = "done"
            self._emit("Finished")
        except Unreachable as stop:
            S.release_sending(self.db)
            counts = queue_counts(self.db)
            return self._summary(message=f"{self.run_state.pushed} pushed, then stopped: {stop}. Nothing was lost: "
                                         f"{counts.queued + counts.sending} waiting for the next sync.")
        except StopRun as stop:
            S.release_sending(self.db)
            return self._summary(stopped=str(stop))
        finally:
            S.release_engine_lock(self.db)
        return self._summary()

    def _context(self) -> P.PushContext:
        """The firm's push context, read at the start of `run`."""
        if self.ctx is None:
            raise SyncError("The sync engine planned a document before reading the firm's QuickBooks settings")
        return self.ctx

    # -- phases ---------------------------------------------------------------------------------

    def _due_rows(self, kinds) -> list[Row]:
        """Queued rows of this phase with no request in flight."""
        pending = S.pending_docs(self.db)
        return [r for r in S.queued_rows(self.db, kinds) if (r.doc_type, r.doc_id) not in pending]

    async def _run_phase(self, kinds) -> None:
        st = self.run_state
        deferred_before: set = set()
        while True:
            self._waiters = {}
            await self.dispatch.replay_due()
            rows = self._due_rows(kinds)
            docs = {(r.doc_type, r.doc_id): self.sources.document(r.doc_type, r.doc_id) for r in rows}
            if any(d is not None and closing.closed(self.close_date, "", d.date) for d in docs.values()):
                await self._check_close_date()
            if not self.mirror_fresh and any(self._updates(r) for r in rows):
                await self._refresh_mirror()
            await self._read_unknown_copies([r for r in rows if self._updates(r)])
            await self._ensure_customers(rows, docs)
            self.jobs = await J.prepare(self.db, self.salt, rows, docs, S.customer_ids(self.db), self.dispatch.call,
                                        self.wire, S.now())
            steps = self._plan_rows(rows, docs)
            deferred = {k for keys in self._waiters.values() for k in keys}
            retry_in = self.dispatch.next_retry_in()
            if steps:
                await self.dispatch.send(steps, kinds)
            elif retry_in is not None:
                await asyncio.sleep(retry_in)
            elif not deferred or deferred == deferred_before:
                return  # nothing sent, nothing to wait for: the rest waits for the next run
            deferred_before = deferred
            st.total = max(st.total, st.pushed + st.parked + S.open_count(self.db))

    def _follow_up(self, sent: list[Step], kinds) -> list[Step]:
        """The next steps that became ready now that `sent` has an outcome (only within this phase)."""
        keys = {(s.doc_type, s.doc_id) for s in sent if s.doc_type in S.DOC_TYPES}
        for s in sent:
            if s.doc_type == "invoice":
                keys |= self._waiters.pop(s.doc_id, set())
        if not keys:
            return []
        allowed = set(kinds)
        pending = S.pending_docs(self.db)
        rows = [r for r in (S.get_row(self.db, t, i) for t, i in sorted(keys))
                if r is not None and r.state == "queued" and (r.doc_type, r.action) in allowed
                and (r.doc_type, r.doc_id) not in pending]
        if not rows:
            return []
        docs = {(r.doc_type, r.doc_id): self.sources.document(r.doc_type, r.doc_id) for r in rows}
        return self._plan_rows(rows, docs)

    def _plan_rows(self, rows: list[Row], docs: dict) -> list[Step]:
        """Steps for the rows that can go now; the others wait for their invoice (see _waiters)."""
        invoices = S.invoice_ids(self.db)
        customers = S.customer_ids(self.db)
        balances = self._open_balances()
        waiting_on = S.unsent_invoices(self.db) | {d for d in S.pending_docs(self.db) if d[0] == "customer"}
        steps = []
        for row in rows:
            doc = docs[(row.doc_type, row.doc_id)]
            if must_wait(row, doc, waiting_on):
                for dep in dependencies(row, doc):
                    self._waiters.setdefault(dep, set()).add((row.doc_type, row.doc_id))
                continue
            step = self._plan(row, doc, customers, invoices, balances)
            if step is not None:
                steps.append(step)
                if step.kind in ("payment", "apply"):
                    applied = self._applied(step.body, {v: k for k, v in invoices.items()})
                    self._reserved[(step.doc_type, step.doc_id)] = applied
                    for inv, minor in applied.items():
                        if inv in balances:
                            balances[inv] -= minor
        return steps

    def _open_balances(self) -> dict[int, int]:
        """QBO's open balance of each invoice, less what payments planned and not yet answered apply."""
        balances = S.invoice_balances(self.db)
        for applied in self._reserved.values():
            for inv, minor in applied.items():
                if inv in balances:
                    balances[inv] -= minor
        return balances

    def _applied(self, body: dict, by_qbo_id: dict) -> dict[int, int]:
        """Ledger invoice id -> amount a Payment body applies to it."""
        out: dict[int, int] = {}
        cur = self.ctx.currency if self.ctx else None
        for line in body.get("Line") or []:
            for linked in line.get("LinkedTxn") or []:
                inv = by_qbo_id.get(linked.get("TxnId"))
                if linked.get("TxnType") == "Invoice" and inv is not None and cur:
                    out[inv] = out.get(inv, 0) + C.minor(line.get("Amount"), cur)
        return out

    def _plan(self, row: Row, doc, customers: dict, invoices: dict, balances: dict | None = None) -> Step | None:
        st = self.run_state
        link = S.get_link(self.db, row.doc_type, row.doc_id)
        if doc is None:
            self._park_local(row, Reason("document_missing", {"doc_type": row.doc_type, "doc_id": row.doc_id,
                                                              "label": LABEL[row.doc_type]}))
            return None
        if not link.in_qbo and link.apply_id is None and self.from_date and doc.date < self.from_date:
            with self.db.atomic():
                S.finish(self.db, row.doc_type, row.doc_id, row.version, "done", R.before_sync_from(self.from_date))
            st.skipped += 1
            return None
        if row.action == "upsert" and (row.doc_type == "invoice" or not link.in_qbo):
            blocked = self.blocked_customers.get(doc.client_id)
            if blocked:
                self._park_local(row, blocked)
                return None
        shut = closing.closed(self.close_date, doc_label(row.doc_type, doc), doc.date)
        if shut is not None and next_op(row, link) is not None:
            self._park_local(row, R.books_closed(row.doc_type, row.doc_id, self.close_date, shut.text()))
            return None
        if row.action == "upsert":
            mapped = self.jobs.customers_for(self.db, row.doc_type, row.doc_id, doc, customers)
            if isinstance(mapped, Reason):
                self._park_local(row, mapped)
                return None
            customers = mapped
        last = edits.last_known(self.db, ENTITY[row.doc_type], link.qbo_id) if link.qbo_id else None
        try:
            step = build_step(self.salt, row, link, doc, self._context(), customers, invoices, balances, last)
        except P.WaitsForInvoice as exc:
            self._park_local(row, self._why_invoice_missing(exc))
            return None
        except Parked as exc:
            self._park_local(row, reason_of(exc))
            return None
        if step is None and C.standing(link):
            with self.db.atomic():
                park(self.db, row, S.parked_reason(self.db, row.doc_type, row.doc_id) or C.from_link(link, doc, row),
                     "qbo", self.fp)
            st.parked += 1
            return None
        if step is None:
            with self.db.atomic():
                S.finish(self.db, row.doc_type, row.doc_id, row.version, "done")
            st.pushed += 1
        return step

    def _why_invoice_missing(self, exc: P.WaitsForInvoice) -> Reason:
        inv = S.get_row(self.db, "invoice", exc.invoice_id)
        if inv is not None and inv.state == "parked" and inv.reason:
            return Reason("invoice_parked", {**exc.reason.fields, "invoice_reason": inv.reason})
        if inv is not None and inv.state == "done" and self.from_date:
            return Reason("invoice_before_sync_from", {**exc.reason.fields, "from_date": self.from_date})
        return exc.reason

    def _park_local(self, row: Row, reason: Reason) -> None:
        with self.db.atomic():
            park(self.db, row, reason, "local", self.fp)
        self.run_state.parked += 1
        log.info("Parked %s %s: %s", row.doc_type, row.doc_id, reason.render())

    # -- customers ------------------------------------------------------------------------------

    async def _ensure_customers(self, rows: list[Row], docs: dict) -> None:
        """The QBO customer of every client these documents need: linked, created, or waiting for the admin
        (a QBO customer of the same name is never linked by itself; core.qbo.customers)."""
        known = S.customer_ids(self.db)
        needed = {docs[(r.doc_type, r.doc_id)].client_id for r in rows
                  if r.action == "upsert" and docs[(r.doc_type, r.doc_id)] is not None}
        needed -= set(known) | set(self.blocked_customers)
        for cid in sorted(needed):  # a refused customer is asked for again only when its wait is over
            wait = backoff.waiting(self.db, f"customer:{cid}")
            if wait is not None:
                self.blocked_customers[cid] = R.customer_undecided(cid, wait["reason"])
                needed.discard(cid)
        if not needed:
            return

        async def query(where: str) -> list[dict]:
            try:
                return await self.dispatch.call(self.wire.query_all("Customer", where=where))
            except TransientError as exc:  # every document of the phase needs the answer: wait for the next run
                raise Unreachable(str(exc)) from None

        plan = await CU.ensure(self.db, self._context().currency, sorted(needed), query)
        for cid, reason in plan.waiting.items():
            self.blocked_customers[cid] = R.customer_undecided(cid, reason.text())
        steps = []
        for cid, name in plan.create.items():
            old = S.get_customer(self.db, cid)
            steps.append(customer_step(self.salt, cid, old.generation if old else 0, name, self.sources.client(cid)))
        if steps:
            await self.dispatch.send(steps)

    def _updates(self, row: Row) -> bool:
        link = S.get_link(self.db, row.doc_type, row.doc_id)
        return row.action == "upsert" and link.in_qbo and link.pushed_version != row.version

    async def _refresh_mirror(self) -> None:
        """Once a run, before full updates: what changed in QBO since the last read (one CDC call), so that a
        bookkeeper's memo set in QuickBooks is merged, not overwritten (core.qbo.edits)."""
        self.mirror_fresh = True
        if last_read(self.db) is None:
            return  # no full read inside a sync: write answers and stale-token reads keep the copies
        try:
            await self.dispatch.call(read_documents(self.db, self.wire))
        except (TransientError, PermanentError) as exc:
            log.info("Could not read QuickBooks' changes before updating: %s", exc)

    async def _read_unknown_copies(self, rows: list[Row]) -> None:
        """Documents about to be updated whose QBO copy is not known (linked before this database kept copies)
        are read first, by Id, 100 to a query: read-merge-write keeps what a bookkeeper set in QuickBooks."""
        wanted: dict[str, list[str]] = {}
        for row in rows:
            link = S.get_link(self.db, row.doc_type, row.doc_id)
            entity = ENTITY[row.doc_type]
            if link.qbo_id and edits.last_known(self.db, entity, link.qbo_id) is None:
                wanted.setdefault(entity, []).append(str(link.qbo_id))
        for entity, ids in wanted.items():
            for start in range(0, len(ids), 100):
                chunk = ", ".join(f"'{_escape(i)}'" for i in ids[start:start + 100])
                try:
                    found = await self.dispatch.call(self.wire.query_all(entity, where=f"Id IN ({chunk})"))
                except (TransientError, PermanentError) as exc:
                    log.info("Could not read %s copies before updating: %s", entity, exc)
                    return
                with self.db.atomic():
                    for obj in found:
                        edits.remember(self.db, entity, obj)

    async def _check_close_date(self) -> None:
        """Once a run, when a document would park for QBO's closing date: read Preferences again (the books may
        have been reopened since the reference data was pulled)."""
        if self.close_date_checked or self.close_date is None or backoff.waiting(self.db, "close_date"):
            return
        self.close_date_checked = True
        try:
            self.close_date = await self.dispatch.call(closing.refresh_close_date(self.db, self.wire))
        except (TransientError, PermanentError) as exc:
            log.info("Could not read QuickBooks' preferences again: %s", exc)
        with self.db.atomic():
            backoff.note(self.db, "close_date")  # read again after 30 s, 1 min, 2 min, ... at most an hour

    # -- outcomes -------------------------------------------------------------------------------

    async def _apply(self, pending: S.Pending, outcomes: list) -> None:
        """Store every outcome of one request in one transaction; then handle stale tokens."""
        stale, taken = [], []
        with self.db.atomic():
            S.remove_pending(self.db, pending.request_id)
            for item, entity, fault in outcomes:
                if fault is None and item["kind"] in ("payment", "apply"):
                    self._track_balances(item, entity or {}, pending)
                self._reserved.pop((item["doc_type"], item["doc_id"]), None)
                if fault is None:
                    self._store_ok(item, entity, pending)
                    continue
                outcome = self._store_fault(item, fault, pending)
                if outcome == "stale":
                    stale.append(item)
                elif outcome == "number_taken":
                    taken.append((item, fault))
        for item in stale:
            await self._refresh_token(item)
        for item, fault in taken:
            await self._number_taken(item, fault, self._taken_records.pop((item["doc_type"], item["doc_id"])))
        self._emit(self.dispatch.traffic.current or "")

    def _store_ok(self, item: dict, entity: dict | None, pending: S.Pending) -> None:
        entity = entity or {}
        kind, doc_type, doc_id, version = item["kind"], item["doc_type"], item["doc_id"], item["version"]
        if item["op"] != "void":
            sent = _request_of(pending, item)
            wrong = replay.check_answer(item["entity"], item["op"], sent.get(item["entity"], sent) if pending.is_batch
                                        else sent, entity, item["label"], pending.request_id)
            if wrong is not None:
                self._store_mismatch(item, entity, pending, wrong)
                return
        S.add_record(self.db, doc_type=doc_type, doc_id=doc_id, version=version, operation=f"{kind}:{item['op']}",
                     request_id=pending.request_id, outcome="ok", response=S.compact_answer(entity),
                     intuit_tid=entity.get("_intuit_tid"))
        if kind not in ("customer", "apply"):
            edits.remember(self.db, item["entity"], entity)
        if kind == "customer":
            old = S.get_customer(self.db, doc_id)
            S.put_customer(self.db, S.CustomerLink(doc_id, entity.get("Id"), entity.get("DisplayName", ""),
                                                   old.generation if old else 0))
            return
        cur = self.ctx.currency if self.ctx else None
        ledger = item.get("ledger_total_minor")
        qbo_total = qbo_tax = balance = differs = None
        if kind != "apply" and item["op"] != "delete" and cur:
            qbo_total = P.total_minor(entity, cur)
            taxes = C.qbo_tax(entity, cur) if item.get("ledger_tax_minor") is not None else None
            qbo_tax = taxes[0] if taxes else None
            balance = P.balance_minor(entity, cur) if doc_type == "invoice" else None
            if ledger is not None and qbo_total is not None and ledger != qbo_total:
                self.run_state.differences.append(TotalDifference(doc_type, doc_id, item["label"], ledger, qbo_total,
                                                                  cur))
                log.warning("%s: QuickBooks total %s differs from the ledger's %s", item["label"], qbo_total, ledger)
            differs = C.compare(item, entity, cur, taxes)
        link = link_after_write(S.get_link(self.db, doc_type, doc_id), kind, item["op"], version, entity,
                                item["entity"], ledger, qbo_total, item.get("ledger_tax_minor"), qbo_tax, balance)
        S.put_link(self.db, link)
        if differs is not None:
            self._park_difference(doc_type, doc_id, version, differs)
            return
        self._advance(doc_type, doc_id, version, link)

    def _park_difference(self, doc_type: str, doc_id: int, version: int, reason: Reason) -> None:
        """QBO stored other figures than the ledger's: the document parks with both, never done."""
        row = S.get_row(self.db, doc_type, doc_id)
        if row is None or row.version != version:
            return  # a newer version is queued: it is sent and compared in its turn
        park(self.db, row, reason, "qbo", self.fp)
        self.run_state.parked += 1
        self.run_state.differences_parked += 1
        log.warning("Parked %s %s: %s", doc_type, doc_id, reason.render())

    def _track_balances(self, item: dict, entity: dict, pending: S.Pending) -> None:
        """Lower the QBO open balance kept for each invoice a payment or credit application just paid.

        Only a first write is known exactly; after an update or a deletion the balance is unknown until the
        invoice's next write (its payments are then capped at the ledger's allocation alone)."""
        if item["op"] == "delete":  # QBO gives the money back to the invoices: their balance is unknown now
            doc = self.sources.document(item["doc_type"], item["doc_id"])
            for invoice_id in (dependencies(S.get_row(self.db, item["doc_type"], item["doc_id"]) or _row_of(item), doc)
                               if doc is not None else []):
                link = S.get_link(self.db, "invoice", invoice_id)
                if link.in_qbo:
                    S.put_link(self.db, replace(link, qbo_balance_minor=None))
            return
        applied = self._reserved.get((item["doc_type"], item["doc_id"]))
        if applied is None:  # a request replayed from an earlier run
            body = _request_of(pending, item)
            body = body.get(item["entity"], body) if pending.is_batch else body
            applied = self._applied(body, S.invoices_by_qbo_id(self.db, _linked_invoices(body)))
        for invoice_id, minor in applied.items():
            link = S.get_link(self.db, "invoice", invoice_id)
            known = link.qbo_balance_minor if item["op"] == "create" else None
            S.put_link(self.db, replace(link, qbo_balance_minor=known - minor if known is not None else None))

    def _store_mismatch(self, item: dict, entity: dict, pending: S.Pending, wrong: replay.AnswerMismatch) -> None:
        """QBO answered with another document (a restored or copied database): link nothing, park for support,
        and take a new try so that a retry cannot meet the same answer."""
        kind, doc_type, doc_id, version = item["kind"], item["doc_type"], item["doc_id"], item["version"]
        record_id = S.add_record(
            self.db, doc_type=doc_type, doc_id=doc_id, version=version, operation=f"{kind}:{item['op']}",
            request_id=pending.request_id, outcome="parked", request=_request_of(pending, item),
            response=S.compact_answer(entity), fault_code=wrong.code, fault_message=wrong.text(),
            intuit_tid=entity.get("_intuit_tid"))
        replay.record_sign(self.db, replay.RestoreSign("unknown_answer", doc_type, doc_id, entity.get("Id"),
                                                       wrong.text()))
        log.warning("%s", wrong.text())
        if kind == "customer":
            old = S.get_customer(self.db, doc_id)
            S.put_customer(self.db, S.CustomerLink(doc_id, None, item["label"].removeprefix("Customer "),
                                                   (old.generation if old else 0) + 1))
            self.blocked_customers[doc_id] = R.answer_mismatch(doc_type, doc_id, entity.get("Id"), wrong.code,
                                                               wrong.text())
            return
        link = S.get_link(self.db, doc_type, doc_id)
        S.put_link(self.db, replace(link, tries=link.tries + 1))
        row = S.get_row(self.db, doc_type, doc_id)
        if row is not None:
            park(self.db, replace(row, version=version),
                 R.answer_mismatch(doc_type, doc_id, entity.get("Id"), wrong.code, wrong.text()), "qbo", self.fp,
                 record_id)
            if row.version == version:
                self.run_state.parked += 1
            else:
                S.requeue(self.db, doc_type, doc_id)

    def _advance(self, doc_type: str, doc_id: int, version: int, link: S.Link) -> None:
        """After an answer: done when QBO holds this version, else queued for its next step."""
        row = S.get_row(self.db, doc_type, doc_id)
        if row is None or row.version != version:
            return  # the ledger queued a newer version meanwhile: it goes out next
        if next_op(row, link) is None:
            S.finish(self.db, doc_type, doc_id, version, "done")
            self.run_state.pushed += 1
        else:
            S.requeue(self.db, doc_type, doc_id)

    def _store_fault(self, item: dict, fault: R.Fault, pending: S.Pending) -> str:
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
            request_id=pending.request_id, outcome=outcome, request=_request_of(pending, item),
            response=fault.as_json(), fault_code=fault.code, fault_message=R.fault_text(fault),
            intuit_tid=fault.intuit_tid)
        if kind == "customer":
            old = S.get_customer(self.db, doc_id)
            name = item["label"].removeprefix("Customer ")
            S.put_customer(self.db, S.CustomerLink(doc_id, None, name, (old.generation if old else 0) + 1))
            self.blocked_customers[doc_id] = R.customer_refusal(name, fault)
            backoff.note(self.db, f"customer:{doc_id}", self.blocked_customers[doc_id].render())
            return "parked"
        link = S.get_link(self.db, doc_type, doc_id)
        if outcome == "gone":
            link = link_after_gone(link, kind, item["op"], version)
            S.put_link(self.db, link)
            self._advance(doc_type, doc_id, version, link)
            return outcome
        S.put_link(self.db, replace(link, tries=link.tries + 1))
        if outcome == "stale":
            st.stale_retried.add((doc_type, doc_id, kind))
            S.requeue(self.db, doc_type, doc_id)
            return outcome
        if code == DUPLICATE_NUMBER and item["op"] == "create" and kind in NUMBERED:
            self._taken_records[(doc_type, doc_id)] = record_id  # decided after this transaction (_number_taken)
            return "number_taken"
        row = S.get_row(self.db, doc_type, doc_id)
        if row is not None:
            park(self.db, replace(row, version=version), R.refusal(item["label"], fault), "qbo", self.fp, record_id)
            if row.version != version:
                # A newer version is queued: it is tried as it is, not left parked.
                S.requeue(self.db, doc_type, doc_id)
            else:
                st.parked += 1
        return outcome

    async def _number_taken(self, item: dict, fault: R.Fault, record_id: int) -> None:
        """QBO holds the document number of a new document. When the holder is one Ledgerlink wrote from a later
        state of this database (a restore handed the number out again), the new document gets the next number
        free in the ledger and QBO and goes again; otherwise it parks with QBO's refusal."""
        doc_type, doc_id, version, entity = item["doc_type"], item["doc_id"], item["version"], item["entity"]
        doc = self.sources.document(doc_type, doc_id)
        new, taken = None, set()
        try:
            holders = await self.dispatch.call(
                self.wire.query_all(entity, where=f"DocNumber = '{_escape(doc.number)}'"))
            if holders and all(replay.is_ghost(self.db, doc_type, h) for h in holders):
                wanted = numbers.candidates(self.db, doc_type, doc.number)
                names = ", ".join(f"'{_escape(n)}'" for n in wanted)
                taken = {o.get("DocNumber") for o in await self.dispatch.call(
                    self.wire.query_all(entity, where=f"DocNumber IN ({names})"))} if wanted else set()
                new = next((n for n in wanted if n not in taken), None)
        except (TransientError, PermanentError) as exc:
            log.info("Could not look up who holds %s in QuickBooks: %s", doc.number, exc)
        with self.db.atomic():
            row = S.get_row(self.db, doc_type, doc_id)
            if row is None:
                return
            if new is not None:  # another answer may have taken it meanwhile: the first still free in the ledger
                new = next(n for n in numbers.candidates(self.db, doc_type, doc.number) if n not in taken)
                why = (f"QuickBooks already holds {doc.number}, written by Ledgerlink from a later copy of this "
                       "firm database (it was restored from a backup or copied)")
                numbers.renumber(self.db, doc_type, doc_id, new, why)
                replay.record_sign(self.db, replay.RestoreSign("number_reissued", doc_type, doc_id, None,
                                                               f"{doc.number} -> {new}: {why}"))
                log.warning("%s renumbered %s: %s", doc.number, new, why)
                S.requeue(self.db, doc_type, doc_id)
                return
            park(self.db, replace(row, version=version), R.refusal(item["label"], fault), "qbo", self.fp,
                 record_id)
            if row.version != version:
                S.requeue(self.db, doc_type, doc_id)
            else:
                self.run_state.parked += 1

    async def _refresh_token(self, item: dict) -> None:
        """After a stale SyncToken (5010): read the object again and keep its current token."""
        link = S.get_link(self.db, item["doc_type"], item["doc_id"])
        qbo_id = link.apply_id if item["kind"] == "apply" else link.qbo_id
        if qbo_id is None:
            return
        try:
            current = await self.dispatch.call(self.wire.read(item["entity"], qbo_id))
        except PermanentError as exc:
            if (exc.code or "") in GONE_CODES or exc.status == 404:
                current = {"status": "Deleted"}
            else:
                return
        except TransientError:
            return
        with self.db.atomic():
            link = S.get_link(self.db, item["doc_type"], item["doc_id"])
            S.put_link(self.db, link_after_read(link, item["kind"], current))
            if item["kind"] != "apply" and current.get("Id"):
                edits.remember(self.db, item["entity"], current)  # the retry merges what was edited in QBO

    # -- progress -------------------------------------------------------------------------------

    def _emit(self, message: str) -> None:
        if time.monotonic() - self._touched > 30:
            self._touched = time.monotonic()
            S.touch_engine_lock(self.db)
        if self.progress is None:
            return
        st = self.run_state
        tr = self.dispatch.traffic
        elapsed = time.monotonic() - st.started
        stats = self.limiter.stats() if self.limiter is not None and hasattr(self.limiter, "stats") else None
        self.progress(Progress(
            phase=st.phase, counts=queue_counts(self.db), sent=st.pushed + st.parked, total=max(st.total, 1),
            current=tr.current, docs_per_minute=st.pushed * 60.0 / elapsed if elapsed > 0 else 0.0,
            requests=tr.requests, limiter=stats, message=message))

    def _summary(self, *, stopped: str | None = None, message: str = "") -> SyncSummary:
        st = self.run_state
        tr = self.dispatch.traffic
        counts = queue_counts(self.db)
        if not message:
            message = f"{st.pushed} pushed, {counts.parked} parked, {counts.queued + counts.sending} waiting"
            if st.differences_parked:
                message += (f"; {st.differences_parked} differ from QuickBooks (parked with both figures: "
                            "`ledgerlink sync parked`)")
        return SyncSummary(
            pushed=st.pushed, parked=counts.parked, waiting=counts.queued + counts.sending, skipped=st.skipped,
            requests=tr.requests, seconds=time.monotonic() - st.started, differences=tuple(st.differences),
            stopped=stopped, message=message, counts=counts, writes=tr.writes,
            differences_parked=st.differences_parked)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _row_of(item: dict) -> Row:
    return Row(item["doc_type"], item["doc_id"], item["version"], "delete", "sending")


def _linked_invoices(body: dict) -> list[str]:
    return [linked["TxnId"] for line in body.get("Line") or [] for linked in line.get("LinkedTxn") or []
            if linked.get("TxnType") == "Invoice"]


def _request_of(pending: S.Pending, item: dict) -> dict:
    if pending.is_batch:
        for b in pending.body["BatchItemRequest"]:
            if b.get("bId") == item["bid"]:
                return b
    return pending.body
