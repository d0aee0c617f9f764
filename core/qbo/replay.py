"""Safe replays: a requestid is never answered with another document's result.

QBO answers a requestid it has seen with its first answer. Document ids, versions and batch counters roll back
when a firm database is restored from a backup (or copied), so a requestid made of them alone can repeat one
that an older, different payload used. Every requestid therefore carries a digest of its payload: the same
payload (a true replay) gives the same id, a different one never does. And every answer is checked against its
request before the link is stored (`answer_mismatch`): a document number, customer or amount that differ mean
the answer is another document's, so nothing is linked and the document parks with a reason for support.

A restored or copied database shows in what QBO holds (`restore_signs`): a QBO document carrying Ledgerlink's
marker for a ledger document that this database has not linked to it, or a requestid answered with another
document. A link whose SyncToken is behind QBO's is listed too, as a weak sign (an edit in QBO does the same).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal

import sqlite_utils

DIGEST_CHARS = 6
_MARKER = re.compile(r"^Ledgerlink (invoice|credit|writeoff|payment) (\d+)$")
_MARKER_DOC = {"invoice": "invoice", "credit": "credit_note", "writeoff": "credit_note", "payment": "payment"}


def digest(body) -> str:
    """A short, lower-case digest of a payload (canonical JSON: sorted keys, no spaces)."""
    text = body if isinstance(body, str) else json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    raw = hashlib.sha256(text.encode()).digest()
    return base64.b32encode(raw).decode().lower()[:DIGEST_CHARS]


def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    return Decimal(str(value))


@dataclass(frozen=True)
class AnswerMismatch:
    """QBO answered a request with a document that is not the one sent: nothing was linked."""

    label: str
    request_id: str
    fields: tuple[str, ...]  # 'DocNumber', 'CustomerRef', 'TotalAmt', 'LineAmounts', 'DisplayName', 'Id'
    sent: dict
    got: dict
    code: str = "answer_mismatch"
    where: str = "ledgerlink sync parked"

    def text(self) -> str:
        diffs = ", ".join(f"{f} {self.got.get(f)!s} instead of {self.sent.get(f)!s}" for f in self.fields)
        return (f"QuickBooks answered the request for {self.label} with another document ({diffs}); it was not "
                f"linked. This happens when the firm database was restored from a backup or copied: contact "
                f"support with the request id {self.request_id}, and check `ledgerlink status`")

    def as_json(self) -> dict:
        return {"code": self.code, "label": self.label, "request_id": self.request_id, "fields": list(self.fields),
                "sent": self.sent, "got": self.got, "where": self.where}


def _ref(obj: dict, key: str):
    return (obj.get(key) or {}).get("value")


def _line_sum(obj: dict) -> str:
    """The sum of the item lines' amounts: QBO keeps the amounts sent (tax and subtotals are computed apart)."""
    total = sum((_amount(line.get("Amount")) or Decimal(0) for line in obj.get("Line") or []
                 if "SalesItemLineDetail" in line), Decimal(0))
    return str(total.quantize(Decimal("0.01")))


def answer_fields(entity: str, request: dict, answer: dict) -> tuple[dict, dict]:
    """What identifies the document sent and the one answered: (sent, got), keyed by QBO field name."""
    sent, got = {}, {}
    if entity == "Customer":
        if request.get("DisplayName"):
            sent["DisplayName"], got["DisplayName"] = request["DisplayName"], answer.get("DisplayName")
        return sent, got
    if request.get("DocNumber"):
        sent["DocNumber"], got["DocNumber"] = request["DocNumber"], answer.get("DocNumber")
    if _ref(request, "CustomerRef"):
        sent["CustomerRef"], got["CustomerRef"] = _ref(request, "CustomerRef"), _ref(answer, "CustomerRef")
    if _amount(request.get("TotalAmt")) is not None:
        sent["TotalAmt"], got["TotalAmt"] = str(_amount(request["TotalAmt"])), str(_amount(answer.get("TotalAmt")))
    if request.get("Line") and entity in ("Invoice", "CreditMemo"):
        sent["LineAmounts"], got["LineAmounts"] = _line_sum(request), _line_sum(answer)
    if request.get("PrivateNote") and _MARKER.match(str(request["PrivateNote"])):
        sent["PrivateNote"], got["PrivateNote"] = request["PrivateNote"], answer.get("PrivateNote")
    return sent, got


def check_answer(entity: str, op: str, request: dict, answer: dict, label: str, request_id: str
                 ) -> AnswerMismatch | None:
    """None when the answer is the document the request wrote; a deletion's answer only needs the same Id."""
    if op == "delete":
        same = str(answer.get("Id")) == str(request.get("Id")) if answer.get("Id") else True
        return None if same else AnswerMismatch(label, request_id, ("Id",), {"Id": request.get("Id")},
                                                {"Id": answer.get("Id")})
    if op == "update" and request.get("Id") and str(answer.get("Id")) != str(request["Id"]):
        return AnswerMismatch(label, request_id, ("Id",), {"Id": request["Id"]}, {"Id": answer.get("Id")})
    sent, got = answer_fields(entity, request, answer)
    if "PrivateNote" in got and got["PrivateNote"] != sent["PrivateNote"] and op == "update":
        sent.pop("PrivateNote"), got.pop("PrivateNote")  # a bookkeeper may edit the note of a document in QBO
    wrong = tuple(k for k in sent if str(sent[k]) != str(got[k]))
    return AnswerMismatch(label, request_id, wrong, sent, got) if wrong else None


# -- a restored or copied database -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreSign:
    kind: str  # 'unknown_answer' (a requestid answered with another document), 'number_reissued' (QBO holds a
    # new document's number, from a later copy of this database), 'unlinked_marker', 'token_behind'
    doc_type: str
    doc_id: int
    qbo_id: str | None
    detail: str

    def as_json(self) -> dict:
        return {"kind": self.kind, "doc_type": self.doc_type, "doc_id": self.doc_id, "qbo_id": self.qbo_id,
                "detail": self.detail}


def record_sign(db: sqlite_utils.Database, sign: RestoreSign) -> None:
    """Remember a sign the sync met (an answer that was another document's)."""
    row = db.execute("SELECT value FROM sync_meta WHERE key = 'restore_signs'").fetchone()
    signs = json.loads(row[0]) if row else []
    signs = (signs + [sign.as_json()])[-20:]
    db.execute("INSERT INTO sync_meta (key, value) VALUES ('restore_signs', ?) "
               "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [json.dumps(signs)])


def restore_signs(db: sqlite_utils.Database) -> list[RestoreSign]:
    """Signs that this database's record of QBO is behind what QBO holds (from the sync's answers and from what
    the last reconcile read); none on a database that was never restored or copied."""
    row = db.execute("SELECT value FROM sync_meta WHERE key = 'restore_signs'").fetchone()
    out = [RestoreSign(**s) for s in (json.loads(row[0]) if row else [])]
    links = {(r[0], r[1]): (r[2], r[3]) for r in db.execute(
        "SELECT doc_type, doc_id, qbo_id, sync_token FROM sync_links WHERE qbo_id IS NOT NULL")}
    linked_ids = {(t, q) for (t, _), (q, _) in links.items()}
    entity_doc = {"Invoice": "invoice", "CreditMemo": "credit_note", "Payment": "payment"}
    for entity, text in db.execute("SELECT entity, json FROM qbo_mirror"):
        obj = json.loads(text)
        m = _MARKER.match(str(obj.get("PrivateNote") or ""))
        if not m or entity not in entity_doc:
            continue
        doc_type, doc_id = _MARKER_DOC[m.group(1)], int(m.group(2))
        if doc_type != entity_doc[entity]:
            continue
        link = links.get((doc_type, doc_id))
        qid = str(obj.get("Id"))
        if link is None or link[0] != qid:
            if (doc_type, qid) in linked_ids:
                continue
            out.append(RestoreSign("unlinked_marker", doc_type, doc_id, qid,
                                   f"QuickBooks {entity} {qid} was written by Ledgerlink for {doc_type} {doc_id}, "
                                   "which this database has not linked to it"))
        elif str(obj.get("SyncToken")).isdigit() and str(link[1]).isdigit() and int(obj["SyncToken"]) > int(link[1]):
            out.append(RestoreSign("token_behind", doc_type, doc_id, qid,
                                   f"QuickBooks {entity} {qid} is at SyncToken {obj['SyncToken']}; this database "
                                   f"recorded {link[1]} (an edit in QuickBooks does this too)"))
    return out


def restore_summary(db: sqlite_utils.Database) -> dict | None:
    """For `status`: None, or {"suspected": True, "signs": n, "examples": [...], "message": ...}."""
    signs = restore_signs(db)
    strong = [s for s in signs if s.kind in ("unknown_answer", "unlinked_marker", "number_reissued")]
    if not strong:
        return None
    return {"suspected": True, "signs": len(signs), "examples": [s.as_json() for s in signs[:5]],
            "message": ("This firm database looks restored from a backup or copied: QuickBooks holds documents "
                        "Ledgerlink wrote that it does not know about. New documents still go to QuickBooks as "
                        "themselves; run `ledgerlink reconcile` and contact support before deleting anything.")}


def is_ghost(db: sqlite_utils.Database, doc_type: str, obj: dict) -> bool:
    """A QBO document that Ledgerlink wrote (its marker names a ledger document of this kind) and that this
    database has not linked: written from a later state of the database than this one (a restore)."""
    m = _MARKER.match(str(obj.get("PrivateNote") or ""))
    if not m or _MARKER_DOC[m.group(1)] != doc_type:
        return False
    return db.execute("SELECT 1 FROM sync_links WHERE doc_type = ? AND qbo_id = ?",
                      [doc_type, str(obj.get("Id"))]).fetchone() is None
