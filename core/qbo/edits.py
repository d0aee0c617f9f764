"""Edits as full updates: read-merge-write, so that what a bookkeeper set in QBO survives a ledger edit.

A changed document goes to QBO as a FULL update (not sparse: whether QBO replaces the lines of a sparse update
that carries `Line` or refuses it with 2020 is unconfirmed, reference §1.5; a full update works either way).
The body is the payload the ledger builds now, plus every field QBO owns taken from the last answer QBO gave
for the document (a write's answer or a reconcile read, kept in `qbo_mirror`): CustomerMemo, BillEmail, terms,
addresses, custom fields, a bookkeeper's PrivateNote. `TxnTaxDetail` is the ledger's, rebuilt, never echoed
(an echoed one keeps the old tax, §5.14); computed and system fields are never sent.
"""

from __future__ import annotations

import json
from decimal import Decimal

import sqlite_utils

from core.qbo.client import dumps

NEVER_SENT = frozenset({
    "Id", "SyncToken", "sparse", "domain", "MetaData", "status", "time", "_intuit_tid",
    "TxnTaxDetail", "TotalAmt", "Balance", "HomeBalance", "HomeTotalAmt", "RemainingCredit", "UnappliedAmt",
    "LinkedTxn", "InvoiceLink", "EInvoiceStatus", "DeliveryInfo", "RecurDataRef", "TaxExemptionRef",
})
_MARKER_PREFIX = "Ledgerlink "


def full_update(built: dict, last: dict | None, qbo_id: str, sync_token: str) -> dict:
    """The full update body: the ledger's payload over the fields QBO owns in `last`."""
    kept = {k: v for k, v in (last or {}).items() if k not in NEVER_SENT and k not in built}
    body = {**kept, **built, "Id": qbo_id, "SyncToken": sync_token, "sparse": False}
    theirs = (last or {}).get("PrivateNote")
    if theirs and not str(theirs).startswith(_MARKER_PREFIX) and str(theirs) != "Voided":
        body["PrivateNote"] = theirs  # the bookkeeper's note replaced our marker: keep theirs
    elif theirs and str(theirs).startswith(_MARKER_PREFIX) and theirs != built.get("PrivateNote"):
        body["PrivateNote"] = theirs  # our marker with the bookkeeper's words after it
    return body


def last_known(db: sqlite_utils.Database, entity: str, qbo_id: str) -> dict | None:
    row = db.execute("SELECT json FROM qbo_mirror WHERE entity = ? AND id = ?", [entity, str(qbo_id)]).fetchone()
    return json.loads(row[0], parse_float=Decimal) if row else None


def remember(db: sqlite_utils.Database, entity: str, obj: dict) -> None:
    """Keep a write's answer as the last known state of the document (no read after a write)."""
    if not obj or not obj.get("Id") or obj.get("status") == "Deleted":
        if obj and obj.get("Id"):
            db.execute("DELETE FROM qbo_mirror WHERE entity = ? AND id = ?", [entity, str(obj["Id"])])
        return
    clean = {k: v for k, v in obj.items() if k != "_intuit_tid"}
    db.execute("INSERT INTO qbo_mirror (entity, id, json) VALUES (?, ?, ?) "
               "ON CONFLICT(entity, id) DO UPDATE SET json = excluded.json", [entity, str(obj["Id"]), dumps(clean)])
