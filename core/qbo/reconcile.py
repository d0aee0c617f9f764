"""Reconcile: compare the ledger with what QBO holds, by reading QBO back (never from our own links alone).

Checks, each listed in the result:
  missing_in_qbo  a live ledger document that should be in QBO (not dated before the sync-from date) but
                  is not (never pushed, parked, or deleted in QBO)
  extra_in_qbo    a QBO Invoice, CreditMemo or Payment written by Ledgerlink (PrivateNote marker) or
                  carrying a ledger number, that no live ledger document accounts for (a duplicate, or a
                  document deleted in the ledger but not in QBO)
  different       a document in both whose total, date or customer differ
  ar              open receivable per customer: the ledger's open invoice balances against QBO's invoice
                  balances (when QBO reports them)
  income          net sales per mapped Product/Service: ledger invoice lines less credit lines against
                  the QBO lines that use the item
  trust           trust bank balances and client trust liability per customer (core.qbo.reconcile_trust)
and the breakdown behind them, as data for the screens: `documents` (per type, the ledger's count and total
against QBO's), `ar_clients` (every customer's receivable, ledger against QBO, differences first) and
`income_items` (every item's net sales, likewise).
Money is integer minor units with the firm's currency.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from dataclasses import dataclass, field
from decimal import Decimal

from core.money import decimal_to_minor
from core.qbo import jobs
from core.qbo import sync_store as S
from core.qbo.mirror import ReadInfo, read_documents
from core.qbo.reconcile_trust import trust_differences

ENTITIES = (("invoice", "Invoice", "invoices"), ("credit_note", "CreditMemo", "credit_notes"),
            ("payment", "Payment", "payments"))
MARKER = "Ledgerlink "
APPLY_MARKER = "Ledgerlink applies "


@dataclass(frozen=True)
class ReconcileResult:
    currency: str
    checked: int
    missing_in_qbo: tuple[dict, ...] = ()
    extra_in_qbo: tuple[dict, ...] = ()
    different: tuple[dict, ...] = ()
    ar: tuple[dict, ...] = ()
    income: tuple[dict, ...] = ()
    trust: tuple[dict, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    read: ReadInfo | None = None
    documents: tuple[dict, ...] = ()
    ar_clients: tuple[dict, ...] = ()
    income_items: tuple[dict, ...] = ()

    @property
    def ok(self) -> bool:
        return not (self.missing_in_qbo or self.extra_in_qbo or self.different or self.ar or self.income or self.trust)

    def as_json(self) -> dict:
        return {"ok": self.ok, "currency": self.currency, "checked": self.checked,
                "missing_in_qbo": list(self.missing_in_qbo), "extra_in_qbo": list(self.extra_in_qbo),
                "different": list(self.different), "ar": list(self.ar), "income": list(self.income), "trust": list(self.trust),
                "notes": list(self.notes),
                "read": None if self.read is None else {"mode": self.read.mode, "why": self.read.why,
                                                        "since": self.read.since, "calls": self.read.calls},
                "breakdown": {"documents": list(self.documents), "ar": list(self.ar_clients),
                              "income": list(self.income_items)}}


def _minor(value, currency: str) -> int:
    return decimal_to_minor(Decimal(str(value if value is not None else 0)), currency)


async def reconcile(firm, client, sources, *, full: bool = False) -> ReconcileResult:
    """`client` is a QBOClient; `sources` a core.qbo.sync.Sources for the ledger. QBO is read through the mirror
    (core.qbo.mirror): only what changed since the last reconcile, everything with `full`."""
    db = firm.db
    ctx = sources.context()
    cur = ctx.currency
    _enabled, from_date = sources.switch()
    qbo, read = await read_documents(db, client, full=full)
    by_id = {entity: {o["Id"]: o for o in objs} for entity, objs in qbo.items()}
    links = {(l.doc_type, l.doc_id): l for l in S.all_links(db)}
    customers = dict(db.execute("SELECT client_id, qbo_id FROM sync_customers WHERE qbo_id IS NOT NULL").fetchall())
    job_state = jobs.JobState(bool(jobs.links(db)), jobs.links(db))  # a matter's documents are on its job
    missing, extra, different = [], [], []
    claimed: dict[str, set] = defaultdict(set)
    # per document type: counts and totals (int) beside the type's names (str), as reconcile --json shows them
    tally: dict[str, dict[str, Any]] = {doc_type: {"doc_type": doc_type, "entity": entity, "ledger_count": 0, "ledger_total_minor": 0,
                        "qbo_count": 0, "qbo_total_minor": 0, "differences": 0} for doc_type, entity, _ in ENTITIES}
    checked = 0
    for doc_type, entity, table in ENTITIES:
        numbered = doc_type != "payment"
        sql = f"SELECT id, {'number' if numbered else 'reference'}, date, client_id, status FROM {table} ORDER BY id"
        for doc_id, number, date, client_id, status in db.execute(sql).fetchall():
            link = links.get((doc_type, doc_id))
            if link and link.apply_id:
                claimed["Payment"].add(link.apply_id)
            if status != "posted":
                continue
            if from_date and date < from_date and not (link and link.qbo_id):
                continue
            checked += 1
            label = f"{doc_type.replace('_', ' ')} {number or doc_id}"
            obj = by_id[entity].get(link.qbo_id) if link and link.qbo_id else None
            doc = sources.document(doc_type, doc_id)
            ledger_total = doc.amount_minor if doc_type == "payment" else doc.total_minor
            t = tally[doc_type]
            t["ledger_count"] += 1
            t["ledger_total_minor"] += ledger_total
            if obj is None:
                t["differences"] += 1
                missing.append({"doc_type": doc_type, "doc_id": doc_id, "label": label,
                                "qbo_id": link.qbo_id if link else None, "ledger_total_minor": ledger_total})
                continue
            claimed[entity].add(obj["Id"])
            qbo_total = _minor(obj.get("TotalAmt"), cur)
            t["qbo_count"] += 1
            t["qbo_total_minor"] += qbo_total
            problems = []
            if qbo_total != ledger_total:
                problems.append("total")
            if obj.get("TxnDate") and obj["TxnDate"] != doc.date:
                problems.append("date")
            expected = job_state.customers_for(db, doc_type, doc_id, doc, customers)
            expected = expected if isinstance(expected, dict) else customers
            if expected.get(doc.client_id) and (obj.get("CustomerRef") or {}).get("value") != expected[doc.client_id]:
                problems.append("customer")
            if problems:
                t["differences"] += 1
                different.append({"doc_type": doc_type, "doc_id": doc_id, "label": label, "qbo_id": obj["Id"],
                                  "fields": problems, "ledger_total_minor": ledger_total,
                                  "qbo_total_minor": qbo_total})
    numbers = {r[0] for r in db.execute("SELECT number FROM invoices UNION SELECT number FROM credit_notes")}
    for _, entity, _ in ENTITIES:
        for obj in qbo[entity]:
            if obj["Id"] in claimed[entity]:
                continue
            ours = str(obj.get("PrivateNote") or "").startswith(MARKER)
            if ours or (entity != "Payment" and obj.get("DocNumber") in numbers):
                t = next(v for v in tally.values() if v["entity"] == entity)
                t["qbo_count"] += 1
                t["qbo_total_minor"] += _minor(obj.get("TotalAmt"), cur)
                t["differences"] += 1
                extra.append({"entity": entity, "qbo_id": obj["Id"], "doc_number": obj.get("DocNumber"),
                              "total_minor": _minor(obj.get("TotalAmt"), cur),
                              "note": str(obj.get("PrivateNote") or "")})
    ar_rows, notes = _ar(firm, qbo, links, customers, cur, from_date)
    income_rows = _income(firm, qbo, claimed, ctx, cur)
    trust, trust_notes = await trust_differences(db, client, ctx)
    ar = [{k: r[k] for k in ("client_id", "qbo_customer_id", "ledger_minor", "qbo_minor")}
          for r in ar_rows if r["difference_minor"]]
    income = [{k: r[k] for k in ("qbo_item_id", "ledger_minor", "qbo_minor")} for r in income_rows
              if r["difference_minor"]]
    return ReconcileResult(cur, checked, tuple(missing), tuple(extra), tuple(different), tuple(ar), tuple(income),
                           tuple(trust), tuple(notes) + tuple(trust_notes), read, tuple(tally.values()),
                           tuple(_differences_first(ar_rows)), tuple(_differences_first(income_rows)))


def _differences_first(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["difference_minor"] == 0, -abs(r["difference_minor"])))


def _ar(firm, qbo, links, customers, cur, from_date) -> tuple[list, list]:
    """Open receivable per customer, ledger against QBO invoice balances."""
    from core.ledger import queries

    invoices = qbo["Invoice"]
    if any("Balance" not in o for o in invoices):
        return [], ["QuickBooks did not report invoice balances: receivables per customer were not compared"]
    qbo_ar: dict[str | None, int] = defaultdict(int)  # None: an invoice with no CustomerRef
    # a client's receivable in QBO includes its matters' jobs
    parent_of: dict[str | None, str | None] = {job: customers.get(client)
                                               for job, client in jobs.parents(firm.db).items()}
    linked_ids = {l.qbo_id for (t, _), l in links.items() if t == "invoice" and l.qbo_id}
    for o in invoices:
        if o["Id"] in linked_ids:
            ref = (o.get("CustomerRef") or {}).get("value")
            qbo_ar[parent_of.get(ref) or ref] += _minor(o.get("Balance"), cur)
    ledger_ar: dict[int, int] = defaultdict(int)
    for inv in queries.list_invoices(firm, status="posted"):
        link = links.get(("invoice", inv.id))
        if link and link.qbo_id:
            ledger_ar[inv.client_id] += inv.open_balance_minor
    names = dict(firm.db.execute("SELECT id, name FROM contacts WHERE kind = 'client'").fetchall())
    out = []
    for client_id, qbo_id in sorted(customers.items()):
        ledger, theirs = ledger_ar.get(client_id, 0), qbo_ar.get(qbo_id, 0)
        if ledger or theirs:
            out.append({"client_id": client_id, "client": names.get(client_id, str(client_id)),
                        "qbo_customer_id": qbo_id, "ledger_minor": ledger, "qbo_minor": theirs,
                        "difference_minor": theirs - ledger})
    return out, []


def _income(firm, qbo, claimed, ctx, cur) -> list:
    """Net sales per mapped item: ledger lines (invoices less credit notes in QBO) against QBO lines."""
    db = firm.db
    item_of = {acc: ref.value for acc, ref in {**ctx.extra_items, **ctx.sales}.items()}
    ledger: dict[str | None, int] = defaultdict(int)
    linked = {(t, i) for t, i, q in db.execute(
        "SELECT doc_type, doc_id, qbo_id FROM sync_links WHERE qbo_id IS NOT NULL").fetchall()}
    for doc_type, sql, sign in (
        ("invoice", "SELECT i.id, l.account_id, l.amount_minor FROM invoices i JOIN invoice_lines l ON "
                    "l.invoice_id = i.id AND l.version = i.version WHERE i.status = 'posted'", 1),
        ("credit_note", "SELECT c.id, l.account_id, l.amount_minor FROM credit_notes c JOIN credit_note_lines l ON "
                        "l.credit_note_id = c.id AND l.version = c.version WHERE c.status = 'posted'", -1),
    ):
        for doc_id, account_id, amount in db.execute(sql).fetchall():
            if (doc_type, doc_id) in linked and account_id in item_of:
                ledger[item_of[account_id]] += sign * amount
    theirs: dict[str | None, int] = defaultdict(int)  # None: a line with no ItemRef
    for entity, sign in (("Invoice", 1), ("CreditMemo", -1)):
        for obj in qbo[entity]:
            if obj["Id"] not in claimed[entity]:
                continue
            for line in obj.get("Line", []):
                detail = line.get("SalesItemLineDetail")
                if detail:
                    theirs[(detail.get("ItemRef") or {}).get("value")] += sign * _minor(line.get("Amount"), cur)
    names = dict(db.execute("SELECT id, name FROM qbo_items").fetchall())
    out = []
    for item in sorted(set(ledger) | set(theirs), key=str):
        mine, qbo_net = ledger.get(item, 0), theirs.get(item, 0)
        out.append({"qbo_item_id": item, "item": names.get(item, str(item)), "ledger_minor": mine,
                    "qbo_minor": qbo_net, "difference_minor": qbo_net - mine})
    return out
