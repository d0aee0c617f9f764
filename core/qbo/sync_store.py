"""The sync engine's tables, beside the ledger's outbox (`sync_queue`), and every write to them.

Exactly once rests on three rules kept here:

1. A request is written to `sync_pending` (its requestid and its exact body) in the same transaction
   that marks its documents `sending`, BEFORE it goes on the wire. After a crash, a timeout or a
   dropped connection, the same body is sent again with the same requestid, so QBO answers with its
   first response instead of creating a second copy.
2. QBO's answer (Id, SyncToken, the pushed version) is stored in `sync_links` in one transaction with
   the queue state change and the removal of the pending request.
3. A requestid is built from the document, its version, a generation counter (bumped when QBO lost the
   object) and a try counter (bumped after QBO refused a request, so that a fixed document is not
   answered with the old refusal). See `request_id`.

Tables (all STRICT):
  sync_meta      key/value: this database's requestid salt, the batch sequence
  sync_links     ledger document -> QBO object (and a credit note's application payment)
  sync_customers ledger client -> QBO Customer
  sync_pending   requests written before sending, removed with their outcome
  sync_records   one row per request outcome: request/response (secrets removed), fault, intuit_tid
  sync_parked    why a parked document waits, and whether a change of the maps may release it
  sync_events    each park reason's life: parked (why), retried (by whom), resolved (sent at last)

Who acts (the user who ran the sync, or 'automatic') is `ACTOR`, set by whoever starts the work
(core.services.sync.run_sync, retry); it goes into sync_records.actor and sync_events.actor.

and every statement on the ledger's outbox `sync_queue` that the engine makes (see "the queue").
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Literal, NamedTuple

import sqlite_utils

from core.errors import SyncError
from core.logs import redact
from core.qbo.client import dumps, loads
from core.qbo.reasons import Reason

DOC_TYPES = ("invoice", "payment", "credit_note", "trust", "trust_payment")
# The schema's CHECKs on sync_queue and sync_parked.
DocType = Literal["invoice", "payment", "credit_note", "trust", "trust_payment"]
Action = Literal["upsert", "delete"]
State = Literal["queued", "sending", "done", "parked"]
ParkKind = Literal["local", "qbo"]
# One letter per document kind in a requestid (c is a customer, a a credit note's application payment).
KIND_LETTER = {"invoice": "i", "payment": "p", "credit_note": "n", "customer": "c", "apply": "a", "trust": "j", "trust_payment": "k"}
# Operation letters in a requestid.
OP_LETTER = {"create": "C", "update": "U", "delete": "D", "query": "Q", "void": "V"}
MAX_REQUEST_ID = 50
MAX_BATCH_REQUEST_ID = 36
MAX_BID = 10

ACTOR: ContextVar[str | None] = ContextVar("ledgerlink_sync_actor", default=None)
AUTOMATIC = "automatic"


def actor() -> str:
    from core.context import current_user

    return ACTOR.get() or current_user()


def add_event(db: sqlite_utils.Database, doc_type: str, doc_id: int, version: int | None, event: str,
              reason: Reason | None = None) -> None:
    """One step of a park reason's history (inside the caller's transaction)."""
    db.execute(
        "INSERT INTO sync_events (at, doc_type, doc_id, version, event, code, fields, reason, actor) "
        "VALUES (?,?,?,?,?,?,?,?,?)",
        [now(), doc_type, doc_id, version, event, reason.code if reason else None,
         reason.fields_json() if reason else None, reason.render() if reason else None, actor()])


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def salt(db: sqlite_utils.Database) -> str:
    return db.execute("SELECT value FROM sync_meta WHERE key = 'salt'").fetchone()[0]


# ---------------------------------------------------------------- requestids


def request_id(salt_: str, kind: str, doc_id: int, version: int, generation: int, tries: int, op: str,
               body: dict | None = None) -> str:
    """The requestid of one write: `<salt>-<kind><id>v<version>g<generation>t<tries><op><digest>`.

    Same document, version, generation, try, operation and payload -> same id, so a retry is answered from
    QBO's memory; the digest of the payload (core.qbo.replay) keeps a restored database, whose ids and versions
    rolled back, from sending an older, different payload's id. At most 42 characters for any realistic id,
    50 at worst.
    """
    from core.qbo.replay import digest

    tail = digest(body) if body is not None else ""
    rid = f"{salt_}-{KIND_LETTER[kind]}{doc_id}v{version}g{generation}t{tries}{OP_LETTER[op]}{tail}"
    if len(rid) > MAX_REQUEST_ID:
        raise ValueError(f"requestid {rid!r} is longer than {MAX_REQUEST_ID} characters")
    return rid


def batch_request_id(db: sqlite_utils.Database, body_text: str = "") -> str:
    """A fresh requestid for one batch (`<salt>-b<sequence><digest of the body>`), at most 36 characters.

    A batch is not a function of one document, so its id comes from a counter; the batch body is
    stored with it in `sync_pending` before sending, and that exact pair is what is replayed. The counter
    rolls back with a restored database: the body's digest keeps a new batch from reusing an older one's id.
    """
    from core.qbo.replay import digest

    # one statement, no read first: a read-then-write transaction cannot take the write lock once another
    # process has written since (SQLITE_BUSY at once, "database is locked"), while a write waits its turn
    with db.atomic():
        seq = int(db.execute(
            "INSERT INTO sync_meta (key, value) VALUES ('batch_seq', '1') ON CONFLICT(key) DO UPDATE SET "
            "value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) RETURNING value").fetchone()[0])
    rid = f"{salt(db)}-b{seq}{digest(body_text) if body_text else ''}"
    assert len(rid) <= MAX_BATCH_REQUEST_ID
    return rid


# ---------------------------------------------------------------- one engine at a time

LOCK_STALE_SECONDS = 600.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire_engine_lock(db: sqlite_utils.Database, owner: str) -> str | None:
    """Take the firm's sync lock for `owner`; returns None, or a sentence naming the engine holding it.

    The TUI and a headless `ledgerlink sync` may run side by side; only one of them pushes at a time.
    A lock whose process is gone (same machine) or silent for 10 minutes is taken over.
    """
    mine = json.dumps({"owner": owner, "pid": os.getpid(), "host": socket.gethostname(), "at": time.time()})
    db.execute("INSERT OR IGNORE INTO sync_meta (key, value) VALUES ('engine_lock', '')")
    current = db.execute("SELECT value FROM sync_meta WHERE key = 'engine_lock'").fetchone()[0]
    if current:
        holder = json.loads(current)
        same_host = holder.get("host") == socket.gethostname()
        fresh = time.time() - float(holder.get("at", 0)) < LOCK_STALE_SECONDS
        if holder.get("pid") == os.getpid() and same_host:
            pass
        elif fresh and (not same_host or _alive(int(holder.get("pid", 0)))):
            return (f"Another sync is running ({holder.get('owner', 'sync')}, process {holder.get('pid')} on "
                    f"{holder.get('host')}): it pushes the queue; try again when it has finished")
    won = db.execute("UPDATE sync_meta SET value = ? WHERE key = 'engine_lock' AND value = ?", [mine, current]).rowcount
    return None if won == 1 else "Another sync started at the same moment: try again when it has finished"


def touch_engine_lock(db: sqlite_utils.Database) -> None:
    row = db.execute("SELECT value FROM sync_meta WHERE key = 'engine_lock'").fetchone()
    if row and row[0]:
        holder = json.loads(row[0])
        if holder.get("pid") == os.getpid():
            holder["at"] = time.time()
            db.execute("UPDATE sync_meta SET value = ? WHERE key = 'engine_lock'", [json.dumps(holder)])


def release_engine_lock(db: sqlite_utils.Database) -> None:
    row = db.execute("SELECT value FROM sync_meta WHERE key = 'engine_lock'").fetchone()
    if row and row[0] and json.loads(row[0]).get("pid") == os.getpid():
        db.execute("UPDATE sync_meta SET value = '' WHERE key = 'engine_lock'")


# ---------------------------------------------------------------- links


@dataclass(frozen=True)
class Link:
    doc_type: str
    doc_id: int
    generation: int = 0
    tries: int = 0
    qbo_type: str | None = None
    qbo_id: str | None = None
    sync_token: str | None = None
    pushed_version: int | None = None
    pushed_action: str | None = None
    apply_id: str | None = None
    apply_sync_token: str | None = None
    apply_version: int | None = None
    ledger_total_minor: int | None = None
    qbo_total_minor: int | None = None
    ledger_tax_minor: int | None = None
    qbo_tax_minor: int | None = None
    qbo_balance_minor: int | None = None  # an invoice's open Balance in QBO (lowered by payments pushed since)
    tax_override: str | None = None  # JSON TaxLines sent with the document instead of letting QBO compute

    @property
    def in_qbo(self) -> bool:
        return self.qbo_id is not None


_LINK_FIELDS = tuple(Link.__dataclass_fields__)


def get_link(db: sqlite_utils.Database, doc_type: str, doc_id: int) -> Link:
    row = db.execute(
        f"SELECT {', '.join(_LINK_FIELDS)} FROM sync_links WHERE doc_type = ? AND doc_id = ?", [doc_type, doc_id]
    ).fetchone()
    if row is None:
        return Link(doc_type, doc_id)
    return Link(*row)


def all_links(db: sqlite_utils.Database) -> list[Link]:
    return [Link(*r) for r in db.execute(f"SELECT {', '.join(_LINK_FIELDS)} FROM sync_links ORDER BY doc_type, doc_id")]


def put_link(db: sqlite_utils.Database, link: Link) -> None:
    """Insert or replace a link (call inside the caller's transaction)."""
    cols = _LINK_FIELDS + ("updated_at",)
    values = [getattr(link, f) for f in _LINK_FIELDS] + [now()]
    db.execute(
        f"INSERT INTO sync_links ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
        f"ON CONFLICT(doc_type, doc_id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in cols[2:]),
        values,
    )


def forget_links(db: sqlite_utils.Database) -> int:
    """Forget every document and customer link (disconnect --purge); returns how many links were forgotten.

    The queue goes back to 'queued' so a later connection pushes everything again, and the requestid
    salt changes so no requestid used with the old company is ever reused. Safe inside the caller's
    transaction (no DDL, no commit).
    """
    with db.atomic():
        n = db.execute("SELECT count(*) FROM sync_links WHERE qbo_id IS NOT NULL").fetchone()[0]
        n += db.execute("SELECT count(*) FROM sync_customers WHERE qbo_id IS NOT NULL").fetchone()[0]
        db.execute("DELETE FROM sync_links")
        db.execute("DELETE FROM sync_customers")
        db.execute("DELETE FROM sync_pending")
        db.execute("DELETE FROM sync_parked")
        db.execute("UPDATE sync_queue SET state = 'queued', reason = NULL, attempts = 0, next_attempt_at = NULL "
                   "WHERE NOT (action = 'delete' AND state = 'done')")
        db.execute("UPDATE sync_meta SET value = ? WHERE key = 'salt'", [_new_salt()])
    return n


def _new_salt() -> str:
    # 6 random letters/digits: two firm databases pushing to one company never share a requestid (the first salt
    # comes from migration 0005_requestid_salt, with the same alphabet).
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(6))


# ---------------------------------------------------------------- customers


@dataclass(frozen=True)
class CustomerLink:
    client_id: int
    qbo_id: str | None
    display_name: str
    generation: int = 0


def get_customer(db: sqlite_utils.Database, client_id: int) -> CustomerLink | None:
    row = db.execute(
        "SELECT client_id, qbo_id, display_name, generation FROM sync_customers WHERE client_id = ?", [client_id]
    ).fetchone()
    return CustomerLink(*row) if row else None


def put_customer(db: sqlite_utils.Database, link: CustomerLink) -> None:
    db.execute(
        "INSERT INTO sync_customers (client_id, qbo_id, display_name, generation, updated_at) VALUES (?,?,?,?,?) "
        "ON CONFLICT(client_id) DO UPDATE SET qbo_id = excluded.qbo_id, display_name = excluded.display_name, "
        "generation = excluded.generation, updated_at = excluded.updated_at",
        [link.client_id, link.qbo_id, link.display_name, link.generation, now()],
    )


# ---------------------------------------------------------------- pending requests


@dataclass(frozen=True)
class Pending:
    request_id: str
    is_batch: bool
    body: dict
    items: list  # list of dicts: kind, doc_type, doc_id, version, op, entity, bid
    text: str | None = None  # the body as JSON, encoded once: stored, then sent as it is (and replayed so)


def add_pending(db: sqlite_utils.Database, pending: Pending) -> None:
    db.execute(
        "INSERT INTO sync_pending (request_id, is_batch, body, items, created_at) VALUES (?,?,?,?,?)",
        [pending.request_id, int(pending.is_batch), pending.text or dumps(pending.body), json.dumps(pending.items),
         now()],
    )


def remove_pending(db: sqlite_utils.Database, rid: str) -> None:
    db.execute("DELETE FROM sync_pending WHERE request_id = ?", [rid])


def list_pending(db: sqlite_utils.Database) -> list[Pending]:
    out = []
    for rid, is_batch, body, items in db.execute(
        "SELECT request_id, is_batch, body, items FROM sync_pending ORDER BY created_at, request_id"
    ):
        out.append(Pending(rid, bool(is_batch), loads(body), json.loads(items), body))
    return out


def pending_docs(db: sqlite_utils.Database) -> set[tuple[str, int]]:
    """(doc_type or 'customer', id) of every document with a request written but not yet answered."""
    docs = set()
    for (items,) in db.execute("SELECT items FROM sync_pending"):
        for item in json.loads(items):
            docs.add((item["doc_type"], item["doc_id"]))
    return docs


# ---------------------------------------------------------------- records


def add_record(
    db: sqlite_utils.Database,
    *,
    doc_type: str,
    doc_id: int,
    version: int | None,
    operation: str,
    request_id: str | None,
    outcome: str,
    request: dict | None = None,
    response: dict | None = None,
    fault_code: str | None = None,
    fault_message: str | None = None,
    intuit_tid: str | None = None,
) -> int:
    """Keep one request's outcome for support (secrets removed)."""
    cur = db.execute(
        "INSERT INTO sync_records (at, doc_type, doc_id, version, operation, request_id, outcome, request, response, "
        "fault_code, fault_message, intuit_tid, actor) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            now(), doc_type, doc_id, version, operation, request_id, outcome,
            scrub(dumps(request)) if request is not None else None,
            scrub(dumps(response)) if response is not None else None,
            fault_code, scrub(fault_message) if fault_message else None, intuit_tid, actor(),
        ],
    )
    if cur.lastrowid is None:
        raise SyncError("The database did not report the id of the sync record just written")
    return cur.lastrowid


# What a success keeps of QBO's answer: enough to find the object in QBO and check it (the requestid, version
# and operation are columns of the record). Full requests and answers are kept for refusals only.
COMPACT_FIELDS = ("Id", "SyncToken", "DocNumber", "DisplayName", "TotalAmt", "Balance")


def compact_answer(entity: dict) -> dict:
    return {k: entity[k] for k in COMPACT_FIELDS if k in entity}


def records(db: sqlite_utils.Database, doc_type: str, doc_id: int) -> list[dict]:
    cur = db.execute(
        "SELECT id, at, version, operation, request_id, outcome, request, response, fault_code, fault_message, "
        "intuit_tid, actor FROM sync_records WHERE doc_type = ? AND doc_id = ? ORDER BY id",
        [doc_type, doc_id],
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def scrub(text: str) -> str:
    """Remove anything that looks like a token, a secret or an Authorization header."""
    return redact(text)


# ---------------------------------------------------------------- the queue (the ledger's outbox)


@dataclass(frozen=True)
class Row:
    """One sync_queue row."""

    doc_type: DocType
    doc_id: int
    version: int
    action: Action
    state: State
    reason: str | None = None
    attempts: int = 0
    next_attempt_at: str | None = None


@dataclass(frozen=True)
class QueueCounts:
    queued: int = 0
    sending: int = 0
    done: int = 0
    parked: int = 0

    def as_json(self) -> dict:
        return {"queued": self.queued, "sending": self.sending, "done": self.done, "parked": self.parked}


_ROW_COLS = "doc_type, doc_id, version, action, state, reason, attempts, next_attempt_at"


def queue_counts(db: sqlite_utils.Database) -> QueueCounts:
    counts = dict(db.execute("SELECT state, count(*) FROM sync_queue GROUP BY state").fetchall())
    return QueueCounts(**{k: counts.get(k, 0) for k in ("queued", "sending", "done", "parked")})


def get_row(db: sqlite_utils.Database, doc_type: str, doc_id: int) -> Row | None:
    r = db.execute(f"SELECT {_ROW_COLS} FROM sync_queue WHERE doc_type = ? AND doc_id = ?", [doc_type, doc_id]
                   ).fetchone()
    return Row(*r) if r else None


def queued_rows(db: sqlite_utils.Database, kinds: Iterable[tuple[str, str]]) -> list[Row]:
    """Queued rows whose (doc_type, action) is one of `kinds`, in document order."""
    kinds = list(kinds)
    clauses = " OR ".join("(doc_type = ? AND action = ?)" for _ in kinds)
    args = [v for pair in kinds for v in pair]
    return [Row(*r) for r in db.execute(
        f"SELECT {_ROW_COLS} FROM sync_queue WHERE state = 'queued' AND ({clauses}) ORDER BY doc_type, doc_id",
        args).fetchall()]


def open_count(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT count(*) FROM sync_queue WHERE state IN ('queued','sending')").fetchone()[0]


def requeue(db: sqlite_utils.Database, doc_type: str, doc_id: int) -> None:
    """Back to 'queued', whatever version is queued (inside the caller's transaction)."""
    db.execute("UPDATE sync_queue SET state = 'queued', updated_at = ? WHERE doc_type = ? AND doc_id = ?",
               [now(), doc_type, doc_id])


def mark_sending(db: sqlite_utils.Database, docs: Iterable[tuple[str, int]]) -> None:
    at = now()
    db.conn.executemany("UPDATE sync_queue SET state = 'sending', updated_at = ? WHERE doc_type = ? AND doc_id = ?",
                        [(at, doc_type, doc_id) for doc_type, doc_id in docs])


def release_sending(db: sqlite_utils.Database, keep: set[tuple[str, int]] | None = None) -> None:
    """Rows left 'sending' go back to 'queued', except those in `keep` (requests still pending)."""
    with db.atomic():
        for doc_type, doc_id in db.execute("SELECT doc_type, doc_id FROM sync_queue WHERE state = 'sending'"
                                           ).fetchall():
            if keep is None or (doc_type, doc_id) not in keep:
                requeue(db, doc_type, doc_id)


def note_retry(db: sqlite_utils.Database, doc_type: str, doc_id: int, reason: str) -> None:
    db.execute("UPDATE sync_queue SET attempts = attempts + 1, reason = ?, updated_at = ? "
               "WHERE doc_type = ? AND doc_id = ?", [reason, now(), doc_type, doc_id])


def finish(db: sqlite_utils.Database, doc_type: str, doc_id: int, version: int, state: State,
           reason: str | None = None) -> None:
    """Close a version of a document (inside the caller's transaction); 'done' forgets why it was parked."""
    db.execute(
        "UPDATE sync_queue SET state = ?, reason = ?, attempts = 0, next_attempt_at = NULL, updated_at = ? "
        "WHERE doc_type = ? AND doc_id = ? AND version = ?",
        [state, reason, now(), doc_type, doc_id, version])
    if state == "done":
        if db.execute("DELETE FROM sync_parked WHERE doc_type = ? AND doc_id = ?", [doc_type, doc_id]).rowcount:
            add_event(db, doc_type, doc_id, version, "resolved")


def park(db: sqlite_utils.Database, row: Row, reason: Reason, kind: ParkKind, fp: str,
         record_id: int | None = None) -> None:
    """Park a document (inside the caller's transaction) unless the ledger has queued a newer version."""
    text = reason.render()
    before = db.execute("SELECT version, code, fields FROM sync_parked WHERE doc_type = ? AND doc_id = ?",
                        [row.doc_type, row.doc_id]).fetchone()
    if before != (row.version, reason.code, reason.fields_json()):  # a local reason is checked again each run
        add_event(db, row.doc_type, row.doc_id, row.version, "parked", reason)
    db.execute(
        "UPDATE sync_queue SET state = 'parked', reason = ?, updated_at = ? "
        "WHERE doc_type = ? AND doc_id = ? AND version = ?",
        [text, now(), row.doc_type, row.doc_id, row.version])
    db.execute(
        "INSERT INTO sync_parked (doc_type, doc_id, version, kind, reason, code, fields, fingerprint, record_id, "
        "parked_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(doc_type, doc_id) DO UPDATE SET "
        "version = excluded.version, kind = excluded.kind, reason = excluded.reason, code = excluded.code, "
        "fields = excluded.fields, fingerprint = excluded.fingerprint, record_id = excluded.record_id, "
        "parked_at = excluded.parked_at",
        [row.doc_type, row.doc_id, row.version, kind, text, reason.code, reason.fields_json(), fp, record_id, now()])


class ParkedRow(NamedTuple):
    doc_type: DocType
    doc_id: int
    version: int
    kind: ParkKind
    reason: Reason
    parked_at: str


def parked_rows(db: sqlite_utils.Database, code: str | None = None) -> list[ParkedRow]:
    """Parked documents with their reasons (a row parked without a sync_parked row is a 'local' legacy one)."""
    where, args = "q.state = 'parked'", []
    if code is not None:
        where += " AND p.code = ?"
        args.append(code)
    rows = db.execute(
        "SELECT q.doc_type, q.doc_id, q.version, coalesce(p.kind, 'local'), p.code, p.fields, "
        "coalesce(p.reason, q.reason, ''), coalesce(p.parked_at, q.updated_at) FROM sync_queue q "
        "LEFT JOIN sync_parked p ON p.doc_type = q.doc_type AND p.doc_id = q.doc_id "
        f"WHERE {where} ORDER BY q.doc_type, q.doc_id", args).fetchall()
    return [ParkedRow(t, i, v, k, Reason.stored(c, f, text), at) for t, i, v, k, c, f, text, at in rows]


def unpark_changed(db: sqlite_utils.Database, fp: str) -> None:
    """Back in the queue: local reasons (checked again each run), and QBO refusals parked under other maps."""
    with db.atomic():
        rows = db.execute(
            "SELECT q.doc_type, q.doc_id, p.kind, p.fingerprint FROM sync_queue q "
            "LEFT JOIN sync_parked p ON p.doc_type = q.doc_type AND p.doc_id = q.doc_id "
            "WHERE q.state = 'parked'").fetchall()
        for doc_type, doc_id, kind, parked_fp in rows:
            if kind is None or kind == "local" or parked_fp != fp:
                requeue(db, doc_type, doc_id)


def requeue_parked(db: sqlite_utils.Database, doc_type: str | None = None, doc_id: int | None = None) -> int:
    """Put parked documents back in the queue (by hand: one, or all)."""
    where, args = "state = 'parked'", []
    if doc_type is not None:
        where += " AND doc_type = ? AND doc_id = ?"
        args = [doc_type, doc_id]
    with db.atomic():
        docs = db.execute(f"SELECT doc_type, doc_id, version FROM sync_queue WHERE {where}", args).fetchall()
        n = db.execute(f"UPDATE sync_queue SET state = 'queued', next_attempt_at = NULL, attempts = 0, "
                       f"updated_at = ? WHERE {where}", [now(), *args]).rowcount
        for t, i, v in docs:
            add_event(db, t, i, v, "retried")
    return n


def unsent_invoices(db: sqlite_utils.Database) -> set[tuple[str, int]]:
    """Invoices not yet in QBO whose push is still under way (queued or sending)."""
    rows = db.execute(
        "SELECT q.doc_id FROM sync_queue q LEFT JOIN sync_links l ON l.doc_type = q.doc_type AND "
        "l.doc_id = q.doc_id WHERE q.doc_type = 'invoice' AND q.state IN ('queued','sending') "
        "AND q.action = 'upsert' AND l.qbo_id IS NULL").fetchall()
    return {("invoice", r[0]) for r in rows}


def invoice_ids(db: sqlite_utils.Database) -> dict[int, str]:
    """Ledger invoice id -> QBO Invoice Id, for invoices in QBO."""
    return dict(db.execute(
        "SELECT doc_id, qbo_id FROM sync_links WHERE doc_type = 'invoice' AND qbo_id IS NOT NULL").fetchall())


def customer_ids(db: sqlite_utils.Database) -> dict[int, str]:
    """Ledger client id -> QBO Customer Id, for clients in QBO."""
    return dict(db.execute("SELECT client_id, qbo_id FROM sync_customers WHERE qbo_id IS NOT NULL").fetchall())


def invoice_balances(db: sqlite_utils.Database) -> dict[int, int]:
    """Ledger invoice id -> QBO's open Balance of it, where known (from write responses, no read)."""
    return dict(db.execute("SELECT doc_id, qbo_balance_minor FROM sync_links WHERE doc_type = 'invoice' "
                           "AND qbo_id IS NOT NULL AND qbo_balance_minor IS NOT NULL").fetchall())


def parked_reason(db: sqlite_utils.Database, doc_type: str, doc_id: int) -> Reason | None:
    row = db.execute("SELECT code, fields, reason FROM sync_parked WHERE doc_type = ? AND doc_id = ?",
                     [doc_type, doc_id]).fetchone()
    return Reason.stored(*row) if row else None


def invoices_by_qbo_id(db: sqlite_utils.Database, qbo_ids: list[str]) -> dict[str, int]:
    """QBO Invoice Id -> ledger invoice id, for these ids."""
    if not qbo_ids:
        return {}
    marks = ", ".join("?" for _ in qbo_ids)
    return dict(db.execute(f"SELECT qbo_id, doc_id FROM sync_links WHERE doc_type = 'invoice' AND qbo_id IN ({marks})",
                           list(qbo_ids)).fetchall())
