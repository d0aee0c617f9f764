"""Why a document waits, as a value: a code, its fields and where it is fixed; the sentence is rendered from them.

`Reason(code, fields)` is what the engine stores (sync_parked.code and .fields, JSON) and what the TUI and
the CLI read: `reason.fix` says where the admin fixes it (a screen and tab, a CLI command, a key), and
`reason.render()` gives the sentence. Nothing parses a sentence back. Reasons parked before codes existed
keep their text under the code 'legacy'.
"""

from __future__ import annotations

from dataclasses import dataclass

import json
from dataclasses import field
from typing import Callable

from core.errors import Parked, QBOError
from core.where import Where


@dataclass(frozen=True)
class Reason:
    code: str
    fields: dict = field(default_factory=dict)
    text: str | None = None  # the stored sentence of a 'legacy' reason

    @property
    def fix(self) -> Where | None:
        where = _FIX.get(self.code)
        return where(self.fields) if callable(where) else where

    def render(self) -> str:
        if self.code == LEGACY or self.code not in _RENDER:
            return self.text or ""
        return _RENDER[self.code](self.fields)

    def fields_json(self) -> str:
        return json.dumps(self.fields, sort_keys=True, separators=(",", ":"))

    def as_json(self) -> dict:
        fix = self.fix
        return {"code": self.code, "fields": self.fields, "fix": fix.as_json() if fix else None,
                "text": self.render()}

    @classmethod
    def stored(cls, code: str | None, fields: str | None, text: str | None) -> Reason:
        """A reason as sync_parked keeps it."""
        if not code or code == LEGACY:
            return cls(LEGACY, {}, text)
        try:
            values = json.loads(fields or "{}")
        except ValueError:
            values = {}
        return cls(code, values, text)


class ParkedFor(Parked):
    """A document that cannot be built: its reason as a value."""

    def __init__(self, reason: Reason):
        super().__init__(reason.render())
        self.reason = reason


def reason_of(exc: Parked) -> Reason:
    return exc.reason if isinstance(exc, ParkedFor) else Reason(LEGACY, {}, str(exc))


LEGACY = "legacy"


# Codes meaning the object is gone from QBO (deleted there, or never existed under that Id).
GONE_CODES = {"610", "2030"}
STALE_CODE = "5010"


@dataclass(frozen=True)
class Fault:
    """One refusal of QBO (a whole request's, or one batch item's)."""

    code: str | None
    message: str
    detail: str | None = None
    element: str | None = None
    intuit_tid: str | None = None

    def as_json(self) -> dict:
        return {"Fault": {"code": self.code, "Message": self.message, "Detail": self.detail,
                          "element": self.element}}


def fault_of(answer: dict) -> Fault:
    """The fault of one batch item's answer."""
    fault = answer.get("Fault") or {}
    errors = fault.get("Error") or [{}]
    err = errors[0]
    return Fault(str(err.get("code")) if err.get("code") is not None else None,
                 err.get("Message") or "QuickBooks refused the request", err.get("Detail"), err.get("element"))


def fault_of_error(exc: QBOError) -> Fault:
    return Fault(exc.code, exc.fault_message or str(exc), exc.detail, exc.element, exc.intuit_tid)


def missing_fault() -> Fault:
    return Fault(None, "QuickBooks did not answer this item of the batch")


def fault_text(fault: Fault) -> str:
    text = fault.message
    if fault.code:
        text += f" (code {fault.code})"
    if fault.detail and fault.detail != fault.message:
        text += f": {fault.detail}"
    if fault.element:
        text += f" [field {fault.element}]"
    return text


def refusal_reason(label: str, fault: Fault) -> str:
    """A sentence for the admin: what QuickBooks refused, and what to do about it."""
    code = fault.code or ""
    what = fault_text(fault)
    if code == "6210":
        hint = ("the period is closed in QuickBooks: change the closing date in QuickBooks (Account and settings > "
                "Advanced) or the document's date")
    elif code == "6140":
        hint = "the number is already used by another document in QuickBooks: renumber one of them"
    elif code in ("2500", "610"):
        hint = ("a product/service, account, tax code or customer it uses is inactive or gone in QuickBooks: refresh "
                "the reference data (Connect > Refresh) and check the maps in Mapping")
    elif code == STALE_CODE:
        hint = "someone else keeps changing it in QuickBooks: retry it once they are done"
    else:
        hint = "correct the document or the maps (Mapping), then retry it"
    return f"QuickBooks refused {label}: {what}. To fix: {hint}"


def customer_reason(name: str, fault: Fault) -> str:
    if (fault.code or "") == "6240":
        return (f"QuickBooks already has a vendor, employee or inactive customer named {name}: make that customer "
                "active again in QuickBooks (then link the client to it: ledgerlink customers list) or rename that "
                "record there, then retry")
    return f"QuickBooks refused to create the customer {name}: {fault_text(fault)}"


def reconnect_message(exc: Exception) -> str:
    """The run's stop message: always leads with "Reconnect to QuickBooks"."""
    text = str(exc)
    if text.startswith("Reconnect to QuickBooks"):
        return text
    why, found, how = text.partition("Reconnect to QuickBooks")
    if found:  # the reason already says how to reconnect: lead with that, not with the words twice
        return f"Reconnect to QuickBooks{how.rstrip('.')} ({why.strip().rstrip('.')})."
    return f"Reconnect to QuickBooks. {text}"


def retry_note(exc: Exception) -> str:
    return f"Waiting to retry: {exc}"


def before_sync_from(from_date: str) -> str:
    return f"Dated before the sync-from date {from_date}: not sent"


# ---------------------------------------------------------------- reasons the engine and the payloads give

SALES_MAP_WHERE = "open Mapping > Sales invoice account map"
GL_MAP_WHERE = "open Mapping > GL account map"
TAX_MAP_WHERE = "open Mapping > Sales tax map"
# The guided fix for a write-off whose bad-debt account has no QBO product/service (core.services.writeoff).
WRITEOFF_FIX = "run `ledgerlink map writeoff --create` or press c in the sync monitor"
WRITEOFF_NO_ITEM = "has no QuickBooks product/service for write-offs"


def refusal(label: str, fault: Fault) -> Reason:
    return Reason("qbo_refused", {"label": label, **_fault_fields(fault)})


def customer_refusal(name: str, fault: Fault) -> Reason:
    code = "customer_name_taken" if (fault.code or "") == "6240" else "customer_refused"
    return Reason(code, {"name": name, **_fault_fields(fault)})


def _fault_fields(fault: Fault) -> dict:
    return {"fault_code": fault.code, "fault_message": fault.message, "fault_detail": fault.detail,
            "fault_element": fault.element}


def _fault_from(f: dict) -> Fault:
    return Fault(f.get("fault_code"), f.get("fault_message") or "", f.get("fault_detail"), f.get("fault_element"))


def _waits(f: dict) -> str:
    return f"{f['what']} waits for invoice {f['invoice']}"


_RENDER: dict[str, Callable[[dict], str]] = {
    "books_closed": lambda f: f["text"],
    "customer_undecided": lambda f: f["text"],
    "customer_job_refused": lambda f: (f"QuickBooks did not make the sub-customer {f['name'] or '(unnamed)'} for matter "
                                       f"{f['matter_id']}: {f['fault_message']}; the next sync tries again (under "
                                       "another name when the name was taken)"),
    "payment_spans_matters": lambda f: (f"{f['label']} pays invoices of more than one matter; with matters as "
                                        "QuickBooks sub-customers a payment may only pay invoices of one matter: "
                                        "record one payment per matter"),
    "answer_mismatch": lambda f: f["text"],
    "map_unusable": lambda f: f["message"],
    "sales_unmapped": lambda f: f"Account {f['account']} is not mapped to a Product/Service: {SALES_MAP_WHERE}",
    "tax_unmapped": lambda f: f"Tax rate {f['tax_rate']} is not mapped to a QuickBooks tax code: {TAX_MAP_WHERE}",
    "bank_unmapped": lambda f: f"Bank account {f['bank']} is not mapped to a QuickBooks account: {GL_MAP_WHERE}",
    "zero_rate_unmapped": lambda f: f"No 0% tax rate is mapped to a QuickBooks zero-rate tax code: {TAX_MAP_WHERE}",
    "writeoff_no_gl": lambda f: (f"Account {f['account']} {WRITEOFF_NO_ITEM}: map it to a QuickBooks account in "
                                 f"Mapping > GL account map, then {WRITEOFF_FIX}"),
    "writeoff_no_item": lambda f: (f"Account {f['account']} {WRITEOFF_NO_ITEM} posting to {f['qbo_account']} "
                                   f"(its account in the GL account map): {WRITEOFF_FIX}"),
    "number_too_long": lambda f: (f"{f['kind']} number {f['number']} is longer than the {f['max']} characters "
                                  "QuickBooks allows: shorten the number prefix in Settings > Ledger"),
    "customer_missing": lambda f: f"Client {f['client']} has no customer in QuickBooks yet",
    "trust_unmapped": lambda f: (f"Trust account {f['account']} is not mapped to a QuickBooks account: "
                                 f"{GL_MAP_WHERE}"),
    "trust_mixed": lambda f: (f"Trust transaction {f['number']} posts to {f['accounts'] or 'no account'}, which is not "
                              "a trust bank account or the client trust liability: trust money never reaches an "
                              "operating account in QuickBooks; reverse it in the ledger and record it again"),
    "us_several_rates": lambda f: (f"{f['kind']} {f['number']} charges more than one sales-tax rate ({f['rates']}); "
                                   f"a US QuickBooks {f['kind'].lower()} carries one tax rate: split it into one "
                                   "document per rate"),
    "waits_for_invoice": lambda f: f"{_waits(f)}, which is not in QuickBooks yet",
    "invoice_parked": lambda f: f"{_waits(f)}, which is parked: {f['invoice_reason']}",
    "invoice_before_sync_from": lambda f: (f"{_waits(f)}, which is dated before the sync-from date {f['from_date']} "
                                           "and so is not in QuickBooks: record this in QuickBooks by hand, or move "
                                           "the sync-from date (Mapping > Synchronisation)"),
    "document_missing": lambda f: f"{f['label']} #{f['doc_id']} no longer exists in the ledger",
    "qbo_refused": lambda f: refusal_reason(f["label"], _fault_from(f)),
    "customer_name_taken": lambda f: customer_reason(f["name"], _fault_from(f)),
    "customer_refused": lambda f: customer_reason(f["name"], _fault_from(f)),
}


CAUSES = {
    "rounding": ("the same rates rounded by another method (QuickBooks rounds per line and rate outside the US, "
                 "per rate on the taxable subtotal in the US)"),
    "rate_differs": "a rate differs: the ledger charges {ledger}, QuickBooks charged {qbo}",
    "override_ignored": ("QuickBooks ignored the tax Ledgerlink sent and computed its own (this company does not "
                         "take tax overrides)"),
}
FIXES = {
    "resend_with_tax": "re-send it with the ledger's tax (`ledgerlink sync fix {doc} --resend-with-tax`)",
    "accept_qbo": "record QuickBooks' tax in the ledger as a dated adjustment (`ledgerlink sync fix {doc} --accept-qbo`)",
}


def _money(minor, currency: str) -> str:
    from core.money import format_minor

    return "?" if minor is None else format_minor(minor, currency)


def _differs(f: dict) -> str:
    cur = f["currency"]
    cause = CAUSES[f["cause"]].format(
        ledger=", ".join(r["name"] if f"{r['percent']}%" in r["name"] else f"{r['name']} {r['percent']}%"
                         for r in f["ledger_rates"]) or "no tax",
        qbo=" + ".join(f"{t['percent']}%" for t in f["qbo_rates"] if t["percent"] is not None) or "no tax")
    doc = f"{f['doc_type']} {f['doc_id']}"
    fixes = " or ".join(FIXES[x].format(doc=doc) for x in f["fixes"]) or (
        "make the rate the same in QuickBooks and the ledger, then retry it")
    return (f"{f['label']}: QuickBooks holds {_money(f['qbo_total_minor'], cur)} {cur} (tax "
            f"{_money(f['qbo_tax_minor'], cur)}), the ledger {_money(f['ledger_total_minor'], cur)} (tax "
            f"{_money(f['ledger_tax_minor'], cur)}). Cause: {cause}. To fix: {fixes}")


_RENDER["qbo_differs"] = _differs
_RENDER["currency_differs"] = lambda f: (
    f"The firm keeps its books in {f['firm_currency']} but the QuickBooks company {f['company']} has the home "
    f"currency {f['home_currency']}: nothing is pushed (amounts would be booked in the wrong currency). Connect "
    f"the firm to a QuickBooks company whose home currency is {f['firm_currency']}")


def _refused_fix(f: dict) -> Where | None:
    code = f.get("fault_code") or ""
    if code == "6210":
        return Where("quickbooks", "Account and settings > Advanced")
    if code == "6140":
        return Where("billing")
    if code in ("2500", "610"):
        return Where("connect", command="ledgerlink pull")
    return None


_WRITEOFF_CREATE = Where("monitor", command="ledgerlink map writeoff --create", key="c")
_FIX: dict[str, Where | Callable[[dict], Where | None]] = {
    "map_unusable": lambda f: Where("mapping", f["kind"]),
    "sales_unmapped": Where("mapping", "sales", "ledgerlink map set sales"),
    "tax_unmapped": Where("mapping", "tax", "ledgerlink map set tax"),
    "zero_rate_unmapped": Where("mapping", "tax", "ledgerlink map set tax"),
    "bank_unmapped": Where("mapping", "gl", "ledgerlink map set gl"),
    "trust_unmapped": Where("mapping", "gl", "ledgerlink map set gl"),
    "trust_mixed": Where("monitor", command="ledgerlink trust reverse"),
    "writeoff_no_gl": Where("mapping", "gl", "ledgerlink map set gl"),
    "writeoff_no_item": _WRITEOFF_CREATE,
    "number_too_long": Where("settings", "ledger"),
    "us_several_rates": Where("billing"),
    "invoice_before_sync_from": Where("mapping", "sync"),
    "qbo_refused": _refused_fix,
    "customer_name_taken": Where("quickbooks", "Customers"),
    "currency_differs": Where("connect", command="ledgerlink connect"),
    "qbo_differs": lambda f: Where("monitor", command=f"ledgerlink sync fix {f['doc_type']} {f['doc_id']}", key="x"),
    "books_closed": Where("quickbooks", "Account and settings", "ledgerlink lock show"),
    "customer_undecided": Where("billing", "clients", "ledgerlink customers list"),
    "customer_job_refused": Where("monitor", command="ledgerlink customers list"),
    "payment_spans_matters": Where("billing", "payments"),
    "answer_mismatch": Where("monitor", command="ledgerlink status"),
}


def books_closed(doc_type: str, doc_id: int, close_date: str | None, text: str) -> Reason:
    return Reason("books_closed", {"doc_type": doc_type, "doc_id": doc_id, "close_date": close_date, "text": text})


def customer_undecided(client_id: int, text: str) -> Reason:
    return Reason("customer_undecided", {"client_id": client_id, "text": text})


def answer_mismatch(doc_type: str, doc_id: int, qbo_id: str | None, code: str, text: str) -> Reason:
    return Reason("answer_mismatch", {"doc_type": doc_type, "doc_id": doc_id, "qbo_id": qbo_id, "mismatch": code,
                                      "text": text})
