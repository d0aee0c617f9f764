"""Turning a QBO response into a typed error (core.errors), for JSON and XML fault bodies alike.

QBO answers faults in three shapes (reference/qbo-api.md section 4.1):
  {"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type": ...}}       validation, business
  {"fault": {"error": [{"message", "detail", "code", "element"}], "type": ...}, ...}  401 / 403 (lower case)
  <IntuitResponse><Fault type=...><Error code=...><Message/><Detail/></Error></Fault>  e.g. the 429 throttle
and a fault may also sit one level down (e.g. `AttachableResponse[0].Fault`, or a batch item).

Every error built here carries the fault's fields as attributes: status, code, fault_message, detail,
element, fault_type, intuit_tid (AuthError and TransientError get them too).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone

from core.errors import AuthError, PermanentError, QBOError, TransientError

# Detail texts that can echo a token back ("Token expired: AB0160..."): the value is masked.
_TOKEN_ECHO = re.compile(r"(?i)((?:token expired|malformed bearer token|bearer|token)\s*[:=]\s*)\S+")


@dataclass(frozen=True)
class Fault:
    status: int | None
    code: str | None
    message: str
    detail: str | None
    element: str | None
    type: str | None
    intuit_tid: str | None


def scrub(text: str | None, secrets: tuple[str, ...] = ()) -> str | None:
    """Mask known secret values and token echoes in a text meant for an admin or a log."""
    if text is None:
        return None
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "***")
    return _TOKEN_ECHO.sub(r"\1***", text)


def _first(d: dict, *keys):
    for key in keys:
        if key in d:
            return d[key]
    return None


def _from_error_dict(err: dict, fault_type, status, tid) -> Fault:
    code = _first(err, "code", "Code")
    element = _first(err, "element", "Element")
    return Fault(
        status=status,
        code=str(code) if code not in (None, "") else None,
        message=str(_first(err, "Message", "message") or "QuickBooks reported an error"),
        detail=_first(err, "Detail", "detail"),
        element=element or None,
        type=fault_type,
        intuit_tid=tid,
    )


def _find_fault_json(body) -> dict | None:
    """The first Fault object in a parsed JSON body, searched one level into lists and objects."""
    if isinstance(body, dict):
        for key in ("Fault", "fault"):
            if isinstance(body.get(key), dict):
                return body[key]
        for value in body.values():
            if isinstance(value, (dict, list)):
                inner = value if isinstance(value, list) else [value]
                for item in inner:
                    if isinstance(item, dict):
                        for key in ("Fault", "fault"):
                            if isinstance(item.get(key), dict):
                                return item[key]
    return None


def fault_from_json(body, status: int | None = None, intuit_tid: str | None = None) -> Fault | None:
    fault = _find_fault_json(body)
    if fault is None:
        return None
    errors = _first(fault, "Error", "error") or [{}]
    return _from_error_dict(errors[0], _first(fault, "type", "Type"), status, intuit_tid)


def fault_from_xml(text: str, status: int | None = None, intuit_tid: str | None = None) -> Fault | None:
    try:
        root = ET.fromstring(text.strip().encode("utf-8"))
    except ET.ParseError:
        return None
    fault = next((el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Fault"), None)
    if fault is None:
        return None
    error = next((el for el in fault.iter() if el.tag.rsplit("}", 1)[-1] == "Error"), None)
    if error is None:
        return Fault(status, None, "QuickBooks reported an error", None, None, fault.get("type"), intuit_tid)
    texts = {child.tag.rsplit("}", 1)[-1]: (child.text or "").strip() for child in error}
    return Fault(
        status=status,
        code=error.get("code"),
        message=texts.get("Message") or "QuickBooks reported an error",
        detail=texts.get("Detail"),
        element=error.get("element") or None,
        type=fault.get("type"),
        intuit_tid=intuit_tid,
    )


def parse_fault(text: str, status: int | None = None, intuit_tid: str | None = None) -> Fault | None:
    """A Fault from a response body (JSON or XML), or None when the body carries none."""
    stripped = (text or "").lstrip()
    if stripped.startswith("<"):
        return fault_from_xml(stripped, status, intuit_tid)
    try:
        body = json.loads(stripped, parse_float=Decimal)
    except ValueError:
        return None
    return fault_from_json(body, status, intuit_tid)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _attach(exc: QBOError, fault: Fault) -> QBOError:
    exc.status = fault.status
    exc.code = fault.code
    exc.fault_message = fault.message
    exc.detail = fault.detail
    exc.element = fault.element
    exc.fault_type = fault.type
    exc.intuit_tid = fault.intuit_tid
    return exc


def describe(fault: Fault) -> str:
    """One line for the admin: message, code, detail, field and trace id."""
    parts = [fault.message]
    if fault.code:
        parts[0] += f" (code {fault.code})"
    if fault.detail and fault.detail != fault.message:
        parts.append(fault.detail)
    if fault.element:
        parts.append(f"field {fault.element}")
    text = ": ".join(parts)
    if fault.intuit_tid:
        text += f" [intuit_tid {fault.intuit_tid}]"
    return text


def error_from_fault(fault: Fault, retry_after: float | None = None) -> QBOError:
    """The typed error for a fault, by HTTP status first, then by code."""
    status = fault.status or 0
    code = int(fault.code) if fault.code and fault.code.isdigit() else None
    text = describe(fault)
    if status == 401 or code in (100, 120, 130, 3200):
        exc: QBOError = AuthError(f"QuickBooks refused the credentials: {text}. Reconnect to QuickBooks if this persists.")
    elif status == 429 or code == 3001:
        exc = TransientError(f"QuickBooks throttled the request: {text}", retry_after=retry_after, status=status or 429)
    elif status >= 500:
        exc = TransientError(f"QuickBooks had a server error: {text}", retry_after=retry_after, status=status)
    elif status == 403 or code == 3100:
        exc = PermanentError(
            f"QuickBooks denied access: {text}. The connected QuickBooks user must be an admin with access to this company.",
            status=status, code=fault.code, detail=fault.detail, element=fault.element, intuit_tid=fault.intuit_tid,
        )
    else:
        exc = PermanentError(
            f"QuickBooks refused the request: {text}",
            status=status, code=fault.code, detail=fault.detail, element=fault.element, intuit_tid=fault.intuit_tid,
        )
    return _attach(exc, fault)


def error_from_response(
    status: int, text: str, headers: dict | None = None, secrets: tuple[str, ...] = ()
) -> QBOError:
    """The typed error for a failed HTTP response (status >= 400), secrets masked."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    tid = headers.get("intuit_tid") or headers.get("intuit-tid")
    fault = parse_fault(text, status, tid)
    if fault is None:
        snippet = (text or "").strip().replace("\n", " ")[:200]
        fault = Fault(status, None, f"HTTP {status}", snippet or None, None, None, tid)
    fault = Fault(
        fault.status, fault.code, scrub(fault.message, secrets) or "", scrub(fault.detail, secrets),
        fault.element, fault.type, fault.intuit_tid,
    )
    return error_from_fault(fault, retry_after_seconds(headers.get("retry-after")))


def item_error(item: dict, intuit_tid: str | None = None) -> QBOError | None:
    """The typed error of one batch item that carries a Fault (batch answers are HTTP 200), else None."""
    fault = fault_from_json(item, None, intuit_tid)
    if fault is None:
        return None
    return error_from_fault(fault)
