"""The dispatcher: steps on the wire in batches and single requests side by side, inside the company's limiter.

Every request is written to `sync_pending` (with its documents marked `sending`) before it is sent, and
replayed with its requestid after a crash or a transient failure, so QBO answers a repeat from memory.
Transient failures keep their pending request and are retried with backoff within the run; an
authentication failure stops the run (`StopRun`, "Reconnect to QuickBooks") and loses nothing. What an
answer means for a document is the engine's business: the dispatcher hands every outcome to
`store_outcomes` and sends whatever `follow_up` returns next.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Protocol

import sqlite_utils

from core.errors import AuthError, PermanentError, TransientError
from core.qbo import backoff
from core.qbo import reasons as R
from core.qbo import sync_store as S
from core.qbo.client import dumps
from core.qbo.sync_plan import Step

log = logging.getLogger(__name__)

TRANSIENT_ATTEMPTS_PER_RUN = 5

# (the pending item, QBO's entity or None, the fault or None)
Outcome = tuple[dict, "dict | None", "R.Fault | None"]


class Wire(Protocol):
    """The QBO calls the engine makes (core.qbo.client.QBOClient has them)."""

    async def create(self, entity: str, body: dict, *, requestid: str | None) -> dict: ...
    async def sparse_update(self, entity: str, body: dict, *, requestid: str | None) -> dict: ...
    async def delete(self, entity: str, id: str, sync_token: str, *, requestid: str | None) -> dict: ...
    async def void(self, entity: str, body: dict, *, requestid: str | None) -> dict: ...
    async def read(self, entity: str, id: str) -> dict: ...
    async def query_all(self, entity: str, where: str = "", order_by: str = "") -> list[dict]: ...
    async def batch(self, items: list[dict], *, requestid: str | None = None,
                    encoded: str | None = None) -> list[dict]: ...


class StopRun(Exception):
    pass


class Unreachable(StopRun):
    """QuickBooks (or its sign-in service) stayed unreachable through the retries of a call outside any one
    document's send: the run ends early, nothing is parked or lost, the queue waits for the next run."""


@dataclass
class Traffic:
    """What went on the wire in one run."""

    requests: int = 0
    writes: int = 0  # QBO writes answered (batch items count one each)
    current: str | None = None
    transient: dict = field(default_factory=dict)  # (doc_type, doc_id) -> failures this run
    retry_later: list = field(default_factory=list)  # (when, pending) whose send failed transiently


class _Work:
    """The steps of one `send`, taken by the batch and single workers and refilled by follow-ups."""

    def __init__(self, steps: list[Step], use_batches: bool):
        self.queue = deque(steps)
        self.use_batches = use_batches
        self.busy = 0  # requests taken and not yet answered
        self.batches = 0  # batches taken and not yet answered
        self.cond = asyncio.Condition()


class Dispatcher:
    def __init__(
        self,
        db: sqlite_utils.Database,
        wire: Wire,
        *,
        store_outcomes: Callable[[S.Pending, list], Awaitable[None]],
        follow_up: Callable[[list[Step], tuple], list[Step]],
        max_concurrent: int = 10,
        batch_size: int = 30,
        batch_min: int = 4,
        max_backoff: float = 60.0,
        limiter=None,
    ):
        self.db = db
        self.wire = wire
        self.store_outcomes = store_outcomes
        self.follow_up = follow_up
        self.max_concurrent = max(1, max_concurrent)
        self.batch_size = max(1, min(30, batch_size))
        self.batch_min = batch_min
        self.max_backoff = max_backoff
        self.limiter = limiter
        self.traffic = Traffic()
        self.stopped = False

    def reset(self) -> None:
        self.traffic = Traffic()
        self.stopped = False

    async def call(self, coro):
        """Await one QBO call, counted; an authentication failure stops the run."""
        try:
            self.traffic.requests += 1
            return await coro
        except AuthError as exc:
            self.stopped = True
            raise StopRun(R.reconnect_message(exc)) from None

    # -- sending --------------------------------------------------------------------------------

    async def send(self, steps: list[Step], kinds: tuple = ()) -> None:
        """Send steps: batches of up to 30 and single requests side by side, within the limiter.

        Steps that become ready while this runs (a payment whose invoice just reached QBO, a credit memo's
        application, a retry after a stale SyncToken) join the same work queue when `kinds` is given.
        """
        work = _Work(steps, len(steps) >= self.batch_min)
        workers = []
        if work.use_batches:
            workers += [self._batch_worker(work, kinds) for _ in range(self.max_concurrent)]
        workers += [self._single_worker(work, kinds) for _ in range(self.max_concurrent)]
        results = await asyncio.gather(*workers, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _batch_worker(self, work: _Work, kinds: tuple) -> None:
        while not self.stopped:
            async with work.cond:
                await work.cond.wait_for(
                    lambda: self.stopped or len(work.queue) >= self.batch_min or work.busy == 0)
                if self.stopped or len(work.queue) < self.batch_min:
                    return  # nothing in flight can add work: the singles take what is left
                chunk = self._take_batch(work)
            if chunk is None:
                # Leave the work to single requests while the batch budget is spent.
                await self._nap(work)
                continue
            try:
                await self._send_batch(chunk)
            finally:
                work.batches -= 1
                await self._finished(work, self._next(chunk, kinds))

    async def _single_worker(self, work: _Work, kinds: tuple) -> None:
        while not self.stopped:
            async with work.cond:
                await work.cond.wait_for(lambda: self.stopped or work.queue or work.busy == 0)
                if self.stopped or not work.queue:
                    return
                step = None if self._leave_to_batches(work) else self._take_single(work)
            if step is None:
                await self._nap(work)
                continue
            try:
                await self._send_single(step)
            finally:
                await self._finished(work, self._next([step], kinds))

    def _take_batch(self, work: _Work) -> list[Step] | None:
        if not self._batch_slot_free(work.batches):
            return None
        chunk = [work.queue.popleft() for _ in range(min(self.batch_size, len(work.queue)))]
        work.busy += 1
        work.batches += 1
        return chunk

    def _take_single(self, work: _Work) -> Step:
        step = work.queue.pop() if work.use_batches else work.queue.popleft()
        work.busy += 1
        return step

    def _leave_to_batches(self, work: _Work) -> bool:
        # A batch carries up to 30 documents for one request of the budget: while one can go,
        # or one still fits in this minute's budget, single requests leave the work to it.
        return (work.use_batches and len(work.queue) >= self.batch_min
                and (self._batch_slot_free(work.batches) or not self._single_slot_free(work.batches)))

    async def _nap(self, work: _Work) -> None:
        """Wait for a change (an answer, new work) or for the limiter's budget to move on."""
        async with work.cond:
            try:
                await asyncio.wait_for(work.cond.wait(), self._batch_poll())
            except asyncio.TimeoutError:
                pass

    async def _finished(self, work: _Work, new_steps: list[Step]) -> None:
        async with work.cond:
            work.busy -= 1
            work.queue.extend(new_steps)
            work.cond.notify_all()

    def _next(self, sent: list[Step], kinds: tuple) -> list[Step]:
        if not kinds or self.stopped:
            return []
        return self.follow_up(sent, kinds)

    # -- the limiter ----------------------------------------------------------------------------

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

    # -- pending requests -----------------------------------------------------------------------

    def _write_pending(self, pending: S.Pending) -> None:
        with self.db.atomic():
            S.add_pending(self.db, pending)
            S.mark_sending(self.db, [(item["doc_type"], item["doc_id"]) for item in pending.items
                                     if item["doc_type"] in S.DOC_TYPES])

    async def _send_single(self, step: Step) -> None:
        pending = S.Pending(step.request_id, False, step.body, [step.item()])
        self._write_pending(pending)
        await self._deliver(pending)

    async def _send_batch(self, steps: list[Step]) -> None:
        items = [s.item(str(i)) for i, s in enumerate(steps)]
        body = {"BatchItemRequest": [s.batch_item(str(i)) for i, s in enumerate(steps)]}
        text = dumps(body)
        rid = S.batch_request_id(self.db, text)
        pending = S.Pending(rid, True, body, items, text)
        self._write_pending(pending)
        await self._deliver(pending)

    async def replay(self, pendings: list[S.Pending]) -> None:
        """Send written requests again, with their original requestids and bodies."""
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

    async def replay_due(self) -> None:
        """Replay the requests whose backoff after a transient failure is over."""
        tr = self.traffic
        now = time.time()
        due = [p for when, p in tr.retry_later if when <= now]
        tr.retry_later = [(w, p) for w, p in tr.retry_later if w > now]
        await self.replay(due)

    def next_retry_in(self) -> float | None:
        """Seconds until the next retry after a transient failure, or None when none waits."""
        if not self.traffic.retry_later:
            return None
        return max(0.0, min(w for w, _ in self.traffic.retry_later) - time.time())

    async def _deliver(self, pending: S.Pending) -> None:
        """Send a pending request (first time or replay) and store its outcome."""
        tr = self.traffic
        tr.current = pending.items[0]["label"] if len(pending.items) == 1 else f"{len(pending.items)} documents"
        try:
            if pending.is_batch:
                answers = await self.call(self.wire.batch(pending.body["BatchItemRequest"],
                                                          requestid=pending.request_id, encoded=pending.text))
                outcomes = _batch_outcomes(pending, answers)
            else:
                item = pending.items[0]
                entity = await self.call(self._single(item, pending.body, pending.request_id))
                outcomes = [(item, entity, None)]
        except TransientError as exc:
            self._transient(pending, exc)
            return
        except PermanentError as exc:
            outcomes = [(item, None, R.fault_of_error(exc)) for item in pending.items]
        tr.writes += len(outcomes)
        await self.store_outcomes(pending, outcomes)

    def _single(self, item: dict, body: dict, rid: str):
        entity, op = item["entity"], item["op"]
        if op == "create":
            return self.wire.create(entity, body, requestid=rid)
        if op == "update" and body.get("sparse") is False:
            return self.wire.create(entity, body, requestid=rid)  # a full update: POST with Id and SyncToken
        if op == "update":
            return self.wire.sparse_update(entity, body, requestid=rid)
        if op == "void":
            return self.wire.void(entity, body, requestid=rid)
        return self.wire.delete(entity, body["Id"], body["SyncToken"], requestid=rid)

    def _transient(self, pending: S.Pending, exc: TransientError) -> None:
        tr = self.traffic
        worst = 0
        with self.db.atomic():
            for item in pending.items:
                key = (item["doc_type"], item["doc_id"])
                tr.transient[key] = tr.transient.get(key, 0) + 1
                worst = max(worst, tr.transient[key])
                if item["doc_type"] in S.DOC_TYPES:
                    S.note_retry(self.db, item["doc_type"], item["doc_id"], R.retry_note(exc))
        log.warning("Request %s failed for now, kept for a retry: %s", pending.request_id, exc)
        if worst < TRANSIENT_ATTEMPTS_PER_RUN:
            wait = backoff.schedule(worst, first=2.0, cap=self.max_backoff)
            tr.retry_later.append((time.time() + wait, pending))


def _batch_outcomes(pending: S.Pending, answers: list[dict]) -> list[Outcome]:
    by_bid = {a.get("bId"): a for a in answers}
    outcomes: list[Outcome] = []
    for item in pending.items:
        answer = by_bid.get(item["bid"])
        if answer is None:
            outcomes.append((item, None, R.missing_fault()))
        elif "Fault" in answer:
            outcomes.append((item, None, R.fault_of(answer)))
        else:
            outcomes.append((item, answer.get(item["entity"]), None))
    return outcomes
