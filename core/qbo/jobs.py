"""Matters as QBO sub-customers (jobs): a firm setting, off by default (`firm.matters_as_jobs`).

When on, each matter that has a document to send becomes a job of its client's QBO customer (`Job: true`,
`ParentRef` the client's customer, `BillWithParent: true`: the client is billed and pays, the matter is the detail
a firm reports by), and that matter's invoices, credit memos and payments carry the job's CustomerRef. The client's
customer is decided first (core.qbo.customers: linked by the admin or created by us); a job is only ever created
by us, never linked by name: a QBO customer already using the job's name makes ours numbered ("M-1 Sale (2)").
QBO's DisplayName is unique across the company, so a job's name is the matter's reference (unique in the ledger)
and its name, after QBO's character rules. The name and generation are written down before the create is sent:
a crash replays the same requestid, QBO answers from memory, and no second job is made.

A payment goes to the job of the invoices it pays: QBO links only invoices of the payment's own customer (the
sandbox's strict reading), so a payment applied to invoices of two matters parks (`payment_spans_matters`), and
one with no invoice goes to the client's customer. Switching the setting is refused while any document is in
QBO (core.services.customers.set_matters_as_jobs): documents already there stay on the customer they have.
"""

from __future__ import annotations

from typing import Awaitable, Callable

import sqlite_utils

from core.qbo.customers import fold, remember_customer, suffixed
from core.qbo.payloads import display_name
from core.qbo.reasons import Reason


def enabled(db: sqlite_utils.Database) -> bool:
    row = db.execute("SELECT matters_as_jobs FROM firm WHERE id = 1").fetchone()
    return bool(row and row[0])


def job_name(reference: str, name: str) -> str:
    return display_name(f"{reference} {name}")


def links(db: sqlite_utils.Database) -> dict[int, str]:
    """Matter id -> QBO job Id, for matters whose job is in QBO."""
    return dict(db.execute("SELECT matter_id, qbo_id FROM sync_jobs WHERE qbo_id IS NOT NULL").fetchall())


def parents(db: sqlite_utils.Database) -> dict[str, int]:
    """QBO job Id -> ledger client id (reconcile sums a client's jobs into its receivable)."""
    return dict(db.execute("SELECT qbo_id, client_id FROM sync_jobs WHERE qbo_id IS NOT NULL").fetchall())


def jobs_of(db: sqlite_utils.Database) -> list[dict]:
    """Every matter's job: {"matter_id", "client_id", "reference", "name", "display_name", "qbo_id"}."""
    rows = db.execute(
        "SELECT j.matter_id, j.client_id, m.reference, m.name, j.display_name, j.qbo_id FROM sync_jobs j "
        "JOIN matters m ON m.id = j.matter_id ORDER BY j.client_id, m.reference").fetchall()
    return [dict(zip(("matter_id", "client_id", "reference", "name", "display_name", "qbo_id"), r)) for r in rows]


def matters_of(db: sqlite_utils.Database, doc_type: str, doc) -> set[int]:
    """The matters a document belongs to: an invoice its own, a credit note its invoice's, a payment its invoices'
    (empty: the client's customer)."""
    if doc_type == "invoice":
        return {doc.matter_id} if doc.matter_id else set()
    if doc_type == "credit_note":
        row = db.execute("SELECT matter_id FROM invoices WHERE id = ?", [doc.invoice_id]).fetchone()
        return {row[0]} if row and row[0] else set()
    if doc_type == "payment":
        ids = [a.invoice_id for a in doc.allocations]
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        found = {r[0] for r in db.execute(f"SELECT matter_id FROM invoices WHERE id IN ({marks})", ids)}
        return {m for m in found if m} | ({0} if None in found else set())  # 0: an invoice with no matter
    return set()


def spans_matters(doc_type: str, doc_id: int, label: str, matters: set[int]) -> Reason:
    return Reason("payment_spans_matters", {"doc_type": doc_type, "doc_id": doc_id, "label": label,
                                            "matters": sorted(matters)})


def job_refused(matter_id: int, name: str, fault_code: str | None, fault_message: str) -> Reason:
    return Reason("customer_job_refused", {"matter_id": matter_id, "name": name, "fault_code": fault_code,
                                           "fault_message": fault_message})


def body(name: str, parent_id: str) -> dict:
    return {"DisplayName": name, "Job": True, "ParentRef": {"value": parent_id}, "BillWithParent": True}


def request_id(salt: str, matter_id: int, generation: int, payload: dict) -> str:
    from core.qbo.replay import digest

    return f"{salt}-m{matter_id}g{generation}C{digest(payload)}"


def _renamed(db: sqlite_utils.Database, matter_id: int, refused: str) -> str:
    """The next free numbered name for a matter whose job name QBO refused as taken."""
    row = db.execute("SELECT reference, name FROM matters WHERE id = ?", [matter_id]).fetchone()
    others = {r[0] for r in db.execute("SELECT display_name FROM sync_jobs WHERE matter_id != ?", [matter_id])}
    return _choose_names(db, {matter_id: job_name(row[0], row[1])}, {fold(refused)}, others)[matter_id]


def _choose_names(db: sqlite_utils.Database, wanted: dict[int, str], live: set[str],
                  jobs_names: set[str] | None = None) -> dict[int, str]:
    taken = {fold(r[0]) for r in db.execute("SELECT name FROM qbo_customers WHERE present = 1")}
    taken |= {fold(r[0]) for r in db.execute("SELECT display_name FROM sync_customers WHERE display_name IS NOT NULL")}
    if jobs_names is None:
        jobs_names = {r[0] for r in db.execute("SELECT display_name FROM sync_jobs")}
    taken |= {fold(n) for n in jobs_names} | live
    out = {}
    for matter_id, base in sorted(wanted.items()):
        name, n = base, 2
        while fold(name) in taken:
            name, n = suffixed(base, n), n + 1
        taken.add(fold(name))
        out[matter_id] = name
    return out


async def ensure(db: sqlite_utils.Database, salt: str, needed: dict[int, tuple[int, str]],
                 query_customers: Callable[[str], Awaitable[list[dict]]],
                 create: Callable[[dict, str], Awaitable[dict]], now: str) -> dict[int, Reason]:
    """Make sure every matter of `needed` ({matter id: (client id, parent QBO Id)}) has its job in QBO: names
    chosen once (looked up in QBO first: one query per 40 names), then one create per job. Returns the matters
    that could not get one, with why (their documents park; the next run tries again)."""
    from core.errors import PermanentError
    from core.qbo.customers import QUERY_NAMES, _quoted

    have = {r[0] for r in db.execute("SELECT matter_id FROM sync_jobs")}
    new = [m for m in needed if m not in have]
    if new:
        marks = ",".join("?" * len(new))
        bases = {r[0]: job_name(r[1], r[2]) for r in db.execute(
            f"SELECT id, reference, name FROM matters WHERE id IN ({marks})", new)}
        live: set[str] = set()
        names = sorted(set(bases.values()))
        for start in range(0, len(names), QUERY_NAMES):
            chunk = names[start:start + QUERY_NAMES]
            for obj in await query_customers(f"DisplayName IN ({', '.join(_quoted(n) for n in chunk)})"):
                live.add(fold(obj.get("DisplayName", "")))
                remember_customer(db, obj)
        with db.atomic():
            for matter_id, name in _choose_names(db, bases, live).items():
                client_id, parent = needed[matter_id]
                db.execute("INSERT INTO sync_jobs (matter_id, client_id, qbo_id, parent_qbo_id, display_name, "
                           "generation, updated_at) VALUES (?,?,NULL,?,?,0,?)",
                           [matter_id, client_id, parent, name, now])
    failed: dict[int, Reason] = {}
    rows = db.execute("SELECT matter_id, parent_qbo_id, display_name, generation FROM sync_jobs WHERE qbo_id IS NULL")
    for matter_id, parent, name, generation in rows.fetchall():
        if matter_id not in needed:
            continue
        if parent != needed[matter_id][1]:  # the client's customer changed before the job was made
            parent = needed[matter_id][1]
            db.execute("UPDATE sync_jobs SET parent_qbo_id = ? WHERE matter_id = ?", [parent, matter_id])
        payload = body(name, parent)
        try:
            entity = await create(payload, request_id(salt, matter_id, generation, payload))
        except PermanentError as exc:
            # a new requestid next time (QBO would answer the same one with this refusal again); 6240 means the
            # name is someone else's: another name too
            renamed = _renamed(db, matter_id, name) if (exc.code or "") == "6240" else name
            with db.atomic():
                db.execute("UPDATE sync_jobs SET display_name = ?, generation = generation + 1, updated_at = ? "
                           "WHERE matter_id = ?", [renamed, now, matter_id])
            failed[matter_id] = job_refused(matter_id, name, exc.code, str(exc))
            continue
        got_parent = (entity.get("ParentRef") or {}).get("value")
        if entity.get("DisplayName") != name or str(got_parent) != str(parent):
            failed[matter_id] = job_refused(matter_id, name, None, (
                f"QuickBooks answered with {entity.get('DisplayName')} under customer {got_parent}, not the job sent"))
            with db.atomic():  # another document's answer: a new requestid next time, nothing linked
                db.execute("UPDATE sync_jobs SET generation = generation + 1, updated_at = ? WHERE matter_id = ?",
                           [now, matter_id])
            continue
        with db.atomic():
            db.execute("UPDATE sync_jobs SET qbo_id = ?, updated_at = ? WHERE matter_id = ?",
                       [str(entity["Id"]), now, matter_id])
            remember_customer(db, entity)
    return failed


class JobState:
    """What one sync run knows of jobs: whether the setting is on, matter -> job Id, and the matters whose job
    could not be made this run (their documents park with the reason)."""

    def __init__(self, on: bool = False, jobs: dict[int, str] | None = None,
                 blocked: dict[int, Reason] | None = None, placeholders: bool = False) -> None:
        self.on = on
        self.jobs = jobs or {}
        self.blocked = blocked or {}
        self.placeholders = placeholders  # the dry run: a job not made yet shows as 'QBO-Job-<matter id>'

    def customers_for(self, db: sqlite_utils.Database, doc_type: str, doc_id: int, doc, customers: dict):
        """`customers` (client id -> QBO Id) with this document's client pointing at its matter's job, or the
        Reason it parks for (a payment over two matters, a job QBO refused)."""
        if not self.on or doc_type not in ("invoice", "credit_note", "payment"):
            return customers
        matters = matters_of(db, doc_type, doc)
        if len(matters) > 1:
            return spans_matters(doc_type, doc_id, f"{doc_type.replace('_', ' ')} {doc_id}", matters)
        matter = next(iter(matters), 0)
        if not matter:
            return customers
        if matter in self.blocked:
            return self.blocked[matter]
        job = self.jobs.get(matter) or (f"QBO-Job-{matter}" if self.placeholders else None)
        if job is None:
            return customers if doc.client_id not in customers else job_refused(
                matter, "", None, "its job is not in QuickBooks yet; the next sync makes it")
        return {**customers, doc.client_id: job}


async def prepare(db: sqlite_utils.Database, salt: str, rows, docs: dict, customer_ids: dict, call, wire,
                  now: str) -> JobState:
    """Before planning a phase: the jobs its documents need, made in QBO when missing."""
    from core.errors import TransientError
    from core.qbo.sync_dispatch import Unreachable

    if not enabled(db):
        return JobState()
    have = links(db)
    needed: dict[int, tuple[int, str]] = {}
    for r in rows:
        doc = docs.get((r.doc_type, r.doc_id))
        if r.action != "upsert" or doc is None or r.doc_type not in ("invoice", "credit_note", "payment"):
            continue
        parent = customer_ids.get(doc.client_id)
        for matter in matters_of(db, r.doc_type, doc):
            if matter and parent and matter not in have:
                needed[matter] = (doc.client_id, parent)
    blocked: dict[int, Reason] = {}
    if needed:
        async def query(where: str) -> list[dict]:
            return await call(wire.query_all("Customer", where=where))

        async def create(payload: dict, rid: str) -> dict:
            return await call(wire.create("Customer", payload, requestid=rid))

        try:
            blocked = await ensure(db, salt, needed, query, create, now)
        except TransientError as exc:  # the documents need their jobs: the next run replays the same requests
            raise Unreachable(str(exc)) from None
    return JobState(True, links(db), blocked)
