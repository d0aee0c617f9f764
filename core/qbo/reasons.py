"""Why a document waits: QBO's refusals and the engine's own reasons, in plain language for the admin."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import QBOError

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
    return Fault(getattr(exc, "code", None), getattr(exc, "fault_message", None) or str(exc),
                 getattr(exc, "detail", None), getattr(exc, "element", None), getattr(exc, "intuit_tid", None))


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


def missing_document(label: str, doc_id: int) -> str:
    return f"{label} #{doc_id} no longer exists in the ledger"


def before_sync_from(from_date: str) -> str:
    return f"Dated before the sync-from date {from_date}: not sent"


def invoice_parked(waits: str, invoice_reason: str) -> str:
    return f"{waits.removesuffix(', which is not in QuickBooks yet')}, which is parked: {invoice_reason}"


def invoice_before_sync_from(waits: str, from_date: str) -> str:
    return (f"{waits.removesuffix(', which is not in QuickBooks yet')}, which is dated before the "
            f"sync-from date {from_date} and so is not in QuickBooks: record this in QuickBooks by "
            "hand, or move the sync-from date (Mapping > Synchronisation)")
