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
replay), sync_outcomes (what an answer means for a document: links, records, parking, retries), sync_store
(every table and statement), reasons (why a document waits), sync_events (what a run reports). This module
runs the phases: it reads what planning needs, plans each document and hands the steps to the dispatcher.

Failures: a fault the user must fix parks the document with a sentence naming the fix; a stale
SyncToken (5010) is re-read and retried once; an object QBO lost is created again under a new
generation; transient failures keep their pending request and are retried with backoff; an
authentication failure stops the run ("Reconnect to QuickBooks") and loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

import sqlite_utils

from core.errors import Parked, PermanentError, SyncError, TransientError
from core.qbo import backoff, closing, edits
from core.qbo import payloads as P
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
    ledger_total, must_wait, next_op,
)
from core.qbo.sync_outcomes import Outcomes, RunState, escape
from core.qbo.sync_store import QueueCounts, Row, park, queue_counts, requeue_parked

log = logging.getLogger(__name__)

__all__ = [
    "ENTITY", "GONE_CODES", "LABEL", "PHASES", "STALE_CODE", "TRANSIENT_ATTEMPTS_PER_RUN", "Progress",
    "QueueCounts", "Row", "Sources", "Step", "StopRun", "SyncEngine", "SyncSummary", "TotalDifference", "Wire",
    "build_step", "customer_reason", "doc_label", "fingerprint", "ledger_total", "next_op", "park", "queue_counts",
    "reconnect_message", "refusal_reason", "requeue_parked",
]

CUSTOMER_QUERY_NAMES = 40  # DisplayNames per `IN (...)` query


class SyncEngine(Outcomes):
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
        self.run_state = RunState(time.monotonic())
        self._waiters: dict[int, set] = {}  # invoice id -> documents waiting for it to reach QBO
        # (doc_type, doc_id) of a payment or credit application planned and not yet answered -> what it applies
        self._reserved: dict[tuple[str, int], dict[int, int]] = {}
        self._taken_records: dict = {}  # (doc_type, doc_id) -> record id of a refusal for a number QBO holds

    # -- public -------------------------------------------------------------------------------

    async def run(self) -> SyncSummary:
        st = self.run_state = RunState(time.monotonic())
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
                chunk = ", ".join(f"'{escape(i)}'" for i in ids[start:start + 100])
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
