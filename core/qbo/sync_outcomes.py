"""How the sync engine stores QBO's answers: links, records, parking and the follow-ups an answer needs.

`Outcomes` is the answering half of core.qbo.sync.SyncEngine (which inherits it): a write QBO accepted is
linked and compared with the ledger (a difference parks with both figures); a refusal is recorded and parks,
is retried with a fresh SyncToken (5010) or recreated under a new generation (the object is gone); an answer
for another document (a restored database) links nothing; a document number QBO already holds from a later
copy of this database is given the next free number.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import sqlite_utils

from core.errors import PermanentError, TransientError
from core.ledger import numbers
from core.qbo import backoff, edits, replay
from core.qbo import payloads as P
from core.qbo import reasons as R
from core.qbo import sync_compare as C
from core.qbo import sync_store as S
from core.qbo.reasons import GONE_CODES, STALE_CODE, Reason
from core.qbo.sync_dispatch import Dispatcher, Wire
from core.qbo.sync_events import TotalDifference
from core.qbo.sync_plan import (
    Sources, dependencies, link_after_gone, link_after_read, link_after_write, next_op,
)
from core.qbo.sync_store import Row, park

log = logging.getLogger("core.qbo.sync")  # the engine's log, as before the split

DUPLICATE_NUMBER = "6140"
NUMBERED = ("invoice", "credit_note")


@dataclass
class RunState:
    """The counters of one run."""

    started: float
    pushed: int = 0
    parked: int = 0
    skipped: int = 0
    differences_parked: int = 0
    stale_retried: set[tuple[str, int, str]] = field(default_factory=set)  # (doc_type, doc_id, kind)
    differences: list[TotalDifference] = field(default_factory=list)
    total: int = 0
    phase: str = "starting"


class Outcomes:
    """The engine's state these methods share (set by SyncEngine.__init__ and run)."""

    db: sqlite_utils.Database
    wire: Wire
    sources: Sources
    dispatch: Dispatcher
    ctx: P.PushContext | None
    fp: str
    run_state: RunState
    blocked_customers: dict[int, Reason]
    _reserved: dict[tuple[str, int], dict[int, int]]
    _taken_records: dict[tuple[str, int], int]

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
                self.wire.query_all(entity, where=f"DocNumber = '{escape(doc.number)}'"))
            if holders and all(replay.is_ghost(self.db, doc_type, h) for h in holders):
                wanted = numbers.candidates(self.db, doc_type, doc.number)
                names = ", ".join(f"'{escape(n)}'" for n in wanted)
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


def escape(value: str) -> str:
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
