"""The sync engine's service API for the TUI and the CLI: plain values in, frozen dataclasses out.

    queue_counts(firm) -> QueueCounts
    await run_sync(firm, *, once=True, progress=callback) -> SyncSummary   (progress: Progress events)
    parked(firm) -> list[ParkedDoc]
    parked_detail(firm, doc_type, doc_id) -> ParkedDetail
    retry(firm, doc_type, doc_id) -> bool,  retry_all(firm) -> int
    await dry_run(firm, limit=None) -> list[PayloadPreview]
    await reconcile(firm) -> ReconcileResult
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field, replace
from typing import Callable

from core.errors import AuthError, NotFound, Parked, ValidationError
from core.ledger.base import require_role
from core.qbo import payloads as P
from core.qbo import sync_store as S
from core.qbo.client import dumps
from core.qbo.reasons import ParkedFor, Where, reason_of
from core.qbo.sync import (
    ENTITY, Progress, QueueCounts, Row, SyncEngine, SyncSummary, TotalDifference, build_step, doc_label, next_op,
    reconnect_message,
)
from core.qbo.sync import queue_counts as _queue_counts
from core.qbo.sync import requeue_parked
from core.services import wiring  # noqa: F401  (QBO's client learns how to start the built-in sandbox)

log = logging.getLogger(__name__)

__all__ = [
    "dumps",
    "ParkedDetail", "ParkedDoc", "PayloadPreview", "Progress", "QueueCounts", "SyncSummary", "TotalDifference", "Where",
    "FixOption", "accept_qbo", "dry_run", "fixes", "history", "parked", "parked_detail", "queue_counts", "reconcile",
    "resend_with_tax", "retry", "retry_all", "run_sync",
]


# ---------------------------------------------------------------- the ledger and maps as the engine sees them


class FirmSources:
    """core.qbo.sync.Sources over a firm database: ledger reads, maps, switch and company facts."""

    def __init__(self, firm):
        self.firm = firm

    def switch(self) -> tuple[bool, str | None]:
        from core.qbo import store

        return store.sync_settings_row(self.firm.db)

    def context(self) -> P.PushContext:
        from core.ledger import queries
        from core.qbo import maps
        from core.qbo.sync_currency import home_currency

        db = self.firm.db
        info = queries.get_firm_info(self.firm)
        company = db.execute("SELECT country FROM qbo_company WHERE id = 1").fetchone()
        country = (company[0] if company and company[0] else info.country) or "US"
        mapped: dict[str, dict] = {"sales": {}, "gl": {}, "tax": {}}
        messages: dict = {}
        for kind in mapped:
            for row in maps.list_map(db, kind):
                if row.status == "mapped" and row.qbo_id is not None:
                    mapped[kind][row.ledger_id] = P.Ref(value=row.qbo_id, name=row.qbo_name)
                elif row.status in ("inactive", "gone", "mismatch"):
                    messages[(kind, row.ledger_id)] = row.message
        accounts = {a.id: a for a in queries.list_accounts(self.firm, active_only=False)}
        extra = _writeoff_items(db, accounts, mapped["gl"])
        return P.PushContext(
            us=country.upper() in ("US", "USA"),
            currency=info.currency,
            sales=mapped["sales"], gl=mapped["gl"], tax=mapped["tax"],
            accounts=accounts,
            tax_rates={r.id: r for r in queries.list_tax_rates(self.firm)},
            bank_accounts={b.id: b for b in queries.list_bank_accounts(self.firm)},
            client_names={c.id: c.name for c in queries.list_clients(self.firm)},
            invoice_numbers=dict(db.execute("SELECT id, number FROM invoices").fetchall()),
            extra_items=extra,
            map_messages=messages,
            home_currency=home_currency(db),
            company_name=(db.execute("SELECT company_name FROM qbo_company WHERE id = 1").fetchone() or [None])[0],
        )

    def document(self, doc_type: str, doc_id: int):
        from core.ledger import queries
        from core.qbo import trust_push

        if doc_type == "trust":
            return trust_push.load(self.firm.db, doc_id)
        if doc_type == "trust_payment":
            return trust_push.load_payment(self.firm.db, doc_id)

        get = {"invoice": queries.get_invoice, "payment": queries.get_payment,
               "credit_note": queries.get_credit_note}[doc_type]
        try:
            return get(self.firm, doc_id)
        except NotFound:
            return None

    def client(self, client_id: int):
        from core.ledger import queries

        try:
            return queries.get_client(self.firm, client_id)
        except NotFound:
            return None


def _writeoff_items(db, accounts: dict, gl: dict) -> dict:
    """For each bad-debt account mapped in the GL map, an active QBO Item whose sales post to that QBO account."""
    out: dict[int, P.Ref] = {}
    targets = {acc_id: ref.value for acc_id, ref in gl.items()
               if acc_id in accounts and accounts[acc_id].subtype == "bad_debt"}
    if not targets:
        return out
    items = db.execute("SELECT id, name, json FROM qbo_items WHERE active = 1 AND present = 1 ORDER BY id").fetchall()
    for acc_id, qbo_account in targets.items():
        for item_id, name, raw in items:
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if (obj.get("IncomeAccountRef") or {}).get("value") == qbo_account:
                out[acc_id] = P.Ref(value=item_id, name=name)
                break
    return out


# ---------------------------------------------------------------- queue and parking


@dataclass(frozen=True)
class ParkedDoc:
    doc_type: str
    doc_id: int
    label: str
    version: int
    reason: str  # the sentence, rendered from `code` and `fields`
    kind: str  # 'local' (a map, a customer, a dependency) or 'qbo' (QuickBooks refused it)
    parked_at: str
    code: str = "legacy"  # core.qbo.reasons: what is wrong ('legacy': parked before codes, text only)
    fields: dict = field(default_factory=dict)  # the document, account, tax rate, amounts... it names
    fix: Where | None = None  # where it is fixed: screen and tab, CLI command, monitor key

    def as_json(self) -> dict:
        return {"doc_type": self.doc_type, "doc_id": self.doc_id, "label": self.label, "version": self.version,
                "reason": self.reason, "kind": self.kind, "parked_at": self.parked_at, "code": self.code,
                "fields": self.fields, "fix": self.fix.as_json() if self.fix else None,
                "fixes": [f.as_json() for f in fixes(self)]}


@dataclass(frozen=True)
class ParkedDetail:
    doc: ParkedDoc
    fault_code: str | None
    fault_message: str | None
    intuit_tid: str | None
    request: str | None
    response: str | None
    records: tuple[dict, ...]


def queue_counts(firm) -> QueueCounts:
    return _queue_counts(firm.db)


def _label(firm, doc_type: str, doc_id: int) -> str:
    return doc_label(doc_type, FirmSources(firm).document(doc_type, doc_id))


def parked(firm) -> list[ParkedDoc]:
    return [ParkedDoc(r.doc_type, r.doc_id, _label(firm, r.doc_type, r.doc_id), r.version, r.reason.render(), r.kind,
                      r.parked_at, r.reason.code, r.reason.fields, r.reason.fix) for r in S.parked_rows(firm.db)]


def parked_detail(firm, doc_type: str, doc_id: int) -> ParkedDetail:
    doc = next((p for p in parked(firm) if p.doc_type == doc_type and p.doc_id == doc_id), None)
    if doc is None:
        raise NotFound(f"{doc_type.replace('_', ' ')} {doc_id} is not parked")
    records = tuple(S.records(firm.db, doc_type, doc_id))
    last_fault = next((r for r in reversed(records) if r["fault_code"] or r["fault_message"]), None)
    return ParkedDetail(
        doc=doc,
        fault_code=last_fault["fault_code"] if last_fault else None,
        fault_message=last_fault["fault_message"] if last_fault else None,
        intuit_tid=last_fault["intuit_tid"] if last_fault else None,
        request=last_fault["request"] if last_fault else None,
        response=last_fault["response"] if last_fault else None,
        records=records,
    )


def history(firm, doc_type: str, doc_id: int) -> list[dict]:
    """Every request outcome kept for a document (secrets removed), oldest first."""
    return S.records(firm.db, doc_type, doc_id)


def retry(firm, doc_type: str, doc_id: int) -> bool:
    """Put one parked document back in the queue (the next sync sends it, asking QBO again at once)."""
    require_role(firm, "bookkeeper", "retry parked documents")
    _end_waits(firm)
    token = S.ACTOR.set(firm.user)
    try:
        return requeue_parked(firm.db, doc_type, doc_id) > 0
    finally:
        S.ACTOR.reset(token)


def retry_all(firm) -> int:
    require_role(firm, "bookkeeper", "retry parked documents")
    _end_waits(firm)
    token = S.ACTOR.set(firm.user)
    try:
        return requeue_parked(firm.db)
    finally:
        S.ACTOR.reset(token)


def _end_waits(firm) -> None:
    """A retry by hand asks QBO again now instead of after the waits' backoff (core.qbo.backoff)."""
    with firm.db.atomic():
        firm.db.execute("DELETE FROM sync_meta WHERE key LIKE 'wait:%'")


# ---------------------------------------------------------------- fixing a difference QBO holds


@dataclass(frozen=True)
class FixOption:
    """One fix a parked difference offers: its name, the CLI command and the monitor key."""

    name: str  # 'resend_with_tax' | 'accept_qbo'
    command: str
    key: str
    text: str

    def as_json(self) -> dict:
        return {"name": self.name, "command": self.command, "key": self.key, "text": self.text}


FIX_KEYS = {"resend_with_tax": ("t", "--resend-with-tax", "Re-send with the ledger's tax"),
            "accept_qbo": ("a", "--accept-qbo", "Record QuickBooks' tax in the ledger")}


def fixes(doc: ParkedDoc) -> list[FixOption]:
    """The fixes a parked document offers (a difference between QBO and the ledger), as data for keys and commands."""
    out = []
    for name in doc.fields.get("fixes", []) if doc.code == "qbo_differs" else []:
        key, flag, text = FIX_KEYS[name]
        out.append(FixOption(name, f"ledgerlink sync fix {doc.doc_type} {doc.doc_id} {flag}", key, text))
    return out


def _difference(firm, doc_type: str, doc_id: int, fix: str) -> ParkedDoc:
    from core.errors import ValidationError

    doc = next((p for p in parked(firm) if p.doc_type == doc_type and p.doc_id == doc_id), None)
    if doc is None or doc.code != "qbo_differs":
        raise NotFound(f"{doc_type.replace('_', ' ').capitalize()} {doc_id} is not parked for a difference with "
                       "QuickBooks: `ledgerlink sync parked` lists the parked documents and their fixes")
    if fix not in doc.fields.get("fixes", []):
        offered = ", ".join(FIX_KEYS[f][1] for f in doc.fields.get("fixes", [])) or "none"
        raise ValidationError(f"{doc.label}: {FIX_KEYS[fix][1]} does not apply here "
                              f"({doc.fields.get('cause')}); the fixes that apply: {offered}")
    return doc


def resend_with_tax(firm, doc_type: str, doc_id: int) -> str:
    """Send the document again with the ledger's tax as explicit TaxLines (QBO's rates, the ledger's amounts).
    The next sync sends it and compares again: where QBO ignores overrides it parks once more, saying so."""
    from core.qbo.sync_compare import dumps_lines, override_lines

    doc = _difference(firm, doc_type, doc_id, "resend_with_tax")
    lines = override_lines(doc.fields, doc.fields["currency"])
    with firm.db.atomic():
        link = S.get_link(firm.db, doc_type, doc_id)
        S.put_link(firm.db, replace(link, tax_override=dumps_lines(lines), pushed_version=None))
        S.requeue(firm.db, doc_type, doc_id)
        token = S.ACTOR.set(firm.user)
        try:
            S.add_event(firm.db, doc_type, doc_id, doc.version, "retried")  # re-sent with the ledger's tax
        finally:
            S.ACTOR.reset(token)
    return f"{doc.label} goes again with the ledger's tax at the next sync."


def accept_qbo(firm, doc_type: str, doc_id: int, *, date: str | None = None) -> str:
    """Record QBO's tax in the ledger: a dated tax adjustment through the journal (core.ledger's
    record_tax_adjustment), after which the ledger's invoice total is QBO's and the document is done."""
    from datetime import date as _date

    try:
        from core.ledger.adjustments import record_tax_adjustment  # wt-money's seam
    except ImportError:
        raise ValidationError("This build's ledger cannot record a tax adjustment yet (record_tax_adjustment): "
                              "re-send with the ledger's tax instead, or correct the rate so both agree") from None
    doc = _difference(firm, doc_type, doc_id, "accept_qbo")
    f = doc.fields
    delta = f["qbo_tax_minor"] - f["ledger_tax_minor"]
    rate_id = _adjusted_rate(f)
    when = date or _date.today().isoformat()
    reason = (f"QuickBooks computed tax {f['qbo_tax_minor']} against the ledger's {f['ledger_tax_minor']} "
              f"({f['cause']}) on {doc.label}")
    record_tax_adjustment(firm, doc_id, rate_id, delta, reason, when)
    invoice = FirmSources(firm).document("invoice", doc_id)
    with firm.db.atomic():
        link = S.get_link(firm.db, doc_type, doc_id)
        S.put_link(firm.db, replace(link, ledger_total_minor=invoice.total_minor, ledger_tax_minor=invoice.tax_minor))
        row = S.get_row(firm.db, doc_type, doc_id)
        if row is not None and row.state == "parked":
            S.finish(firm.db, doc_type, doc_id, row.version, "done")
        else:
            firm.db.execute("DELETE FROM sync_parked WHERE doc_type = ? AND doc_id = ?", [doc_type, doc_id])
    return f"{doc.label}: QuickBooks' tax recorded in the ledger (an adjustment of {delta} minor units dated {when})."


def _adjusted_rate(fields: dict) -> int | None:
    """The ledger rate the adjustment goes to: the one with the most tax on the document."""
    rates = fields.get("ledger_rates") or []
    return max(rates, key=lambda r: r["tax_minor"])["rate_id"] if rates else None


# ---------------------------------------------------------------- running


async def run_sync(firm, *, once: bool = True, progress: Callable[[Progress], None] | None = None,
                   client=None, poll_seconds: float = 30.0, owner: str = "ledgerlink sync",
                   automatic: bool = False) -> SyncSummary:
    """Push what is queued. once=False keeps running until cancelled, waking after poll_seconds, or later
    while documents wait and none could go (next_run_in).

    Only one engine pushes a firm at a time (the TUI passes owner="Ledgerlink TUI"); another one
    returns at once with a message naming the running one. The sync history names the firm's user as the one
    who pushed, or 'automatic' for a run the TUI started by itself (`automatic=True`).
    A rejected refresh token ends the run with `stopped` = "Reconnect to QuickBooks: ..." and loses nothing.
    """
    require_role(firm, "bookkeeper", "push documents to QuickBooks")
    S.ACTOR.set(S.AUTOMATIC if automatic else firm.user)  # this task's own context: the history's "by whom"
    own = client is None
    if own:
        from core.qbo.connect import open_client

        try:
            client = await open_client(firm)
        except AuthError as exc:
            counts = _queue_counts(firm.db)
            return SyncSummary(0, counts.parked, counts.queued + counts.sending, 0, 0, 0.0,
                               stopped=reconnect_message(exc), counts=counts)
    sync = firm.settings.sync
    try:
        while True:
            engine = SyncEngine(firm.db, client, FirmSources(firm), max_concurrent=sync.max_concurrent,
                                batch_size=sync.batch_size, max_backoff=sync.max_backoff * sync.time_scale,
                                progress=progress, limiter=getattr(client, "limiter", None), owner=owner)
            summary = await engine.run()
            if once or summary.stopped:
                return summary
            await asyncio.sleep(next_run_in(firm, summary, poll_seconds))
    finally:
        if own:
            await client.aclose()


def next_run_in(firm, summary: SyncSummary, first: float) -> float:
    """Seconds until a keep-running sync goes again by itself: `first`, growing (capped exponential with jitter,
    at most an hour: core.qbo.backoff) while documents wait and no run could send any."""
    from core.qbo import backoff

    return backoff.after_run(firm.db, summary.pushed, summary.parked + summary.waiting, first=first)


def waits(firm) -> list[dict]:
    """The sync's waits not over yet, soonest first ({"name", "reason", "attempt", "wait_seconds",
    "next_try_at"}; core.qbo.backoff): what `status --json` and the monitor show as the next try."""
    from core.qbo import backoff

    return backoff.waits(firm.db)


@dataclass(frozen=True)
class PayloadPreview:
    doc_type: str
    doc_id: int
    label: str
    operation: str  # e.g. 'create Invoice', 'update Payment', 'delete CreditMemo'
    body: dict | None
    problem: str | None  # why it would be parked instead
    code: str | None = None  # the problem's code (core.qbo.reasons)
    fix: Where | None = None  # where the problem is fixed

    def as_json(self) -> dict:
        """A dict for core.qbo.client.dumps (amounts stay Decimal, written as exact JSON numbers)."""
        return {"doc_type": self.doc_type, "doc_id": self.doc_id, "label": self.label, "operation": self.operation,
                "body": self.body, "problem": self.problem, "code": self.code,
                "fix": self.fix.as_json() if self.fix else None}

    def body_text(self) -> str:
        """The body as indented JSON for people, amounts as exact numbers."""
        from core.qbo.client import dumps

        return dumps(self.body, indent=2)


async def dry_run(firm, limit: int | None = None) -> list[PayloadPreview]:
    """The exact payloads the next sync would send first for each queued or parked document (nothing is sent).

    Customers not yet linked show as 'QBO-Customer-<client id>' references.
    """
    from core.qbo import jobs
    from core.qbo.edits import last_known

    sources = FirmSources(firm)
    matters = jobs.JobState(jobs.enabled(firm.db), jobs.links(firm.db), placeholders=True)
    ctx = sources.context()
    salt = S.salt(firm.db)
    customers = dict(firm.db.execute("SELECT client_id, qbo_id FROM sync_customers WHERE qbo_id IS NOT NULL"))
    invoices = dict(firm.db.execute(
        "SELECT doc_id, qbo_id FROM sync_links WHERE doc_type = 'invoice' AND qbo_id IS NOT NULL"))
    rows = [Row(*r) for r in firm.db.execute(
        "SELECT doc_type, doc_id, version, action, state, reason, attempts, next_attempt_at FROM sync_queue "
        "WHERE state IN ('queued','sending','parked') ORDER BY CASE doc_type WHEN 'invoice' THEN 0 ELSE 1 END, "
        "doc_id").fetchall()]
    balances = S.invoice_balances(firm.db)  # payments capped as the sync would (before this run's own payments)
    out = []
    for row in rows[:limit] if limit else rows:
        doc = sources.document(row.doc_type, row.doc_id)
        label = doc_label(row.doc_type, doc)
        link = S.get_link(firm.db, row.doc_type, row.doc_id)
        nxt = next_op(row, link)
        if doc is None or nxt is None:
            continue
        placeholder_c = {**{doc.client_id: f"QBO-Customer-{doc.client_id}"}, **customers}
        placeholder_i = {**{k: f"QBO-Invoice-{k}" for k in ctx.invoice_numbers}, **invoices}
        last = last_known(firm.db, ENTITY[row.doc_type], link.qbo_id) if link.qbo_id else None
        try:
            if row.action == "upsert":  # a matter's document goes to its QBO sub-customer (core.qbo.jobs)
                placeholder_c = matters.customers_for(firm.db, row.doc_type, row.doc_id, doc, placeholder_c)
                if not isinstance(placeholder_c, dict):
                    raise ParkedFor(placeholder_c)
            step = build_step(salt, row, link, doc, ctx, placeholder_c, placeholder_i, balances, last)
        except Parked as exc:
            reason = reason_of(exc)
            out.append(PayloadPreview(row.doc_type, row.doc_id, label, f"{nxt[1]} {ENTITY[nxt[0]]}", None,
                                      reason.render(), reason.code, reason.fix))
            continue
        if step is None:  # voided before QBO ever held it: nothing to send
            continue
        out.append(PayloadPreview(row.doc_type, row.doc_id, label, f"{step.op} {step.entity}", step.body, None))
    return out


async def reconcile(firm, client=None, *, full: bool = False):
    """Compare the ledger with what QBO holds, by reading QBO back (core.qbo.reconcile): what changed since the
    last reconcile, or everything with `full`."""
    from core.qbo.reconcile import reconcile as _reconcile

    own = client is None
    if own:
        from core.qbo.connect import open_client

        client = await open_client(firm)
    try:
        return await _reconcile(firm, client, FirmSources(firm), full=full)
    finally:
        if own:
            await client.aclose()


def doc_states(firm, doc_type: str) -> dict[int, str]:
    """Each queued document's sync state ('queued', 'sending', 'done', 'parked') by id, for the TUI's lists.

    (Added for the TUI's billing lists.)
    """
    return dict(firm.db.execute("SELECT doc_id, state FROM sync_queue WHERE doc_type = ?", [doc_type]).fetchall())
