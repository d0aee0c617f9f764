"""Every real fault sample turns into the right typed error, with its fields, and no token echo."""

from pathlib import Path

import pytest

from core.errors import AuthError, PermanentError, TransientError
from core.qbo.faults import error_from_response, item_error, parse_fault, retry_after_seconds

from tests.fixtures import SAMPLES

# sample file -> (HTTP status it came with, error class, code, message start, element)
EXPECTED = {
    "Fault-2010-unsupported-property.json": (400, PermanentError, "2010", "Request has invalid", None),
    "Fault-2030-invalid-id.json": (400, PermanentError, "2030", "Invalid ID", "Id"),
    "Fault-2500-invalid-reference.json": (400, PermanentError, "2500", "Invalid Reference Id", None),
    "Fault-4001-invalid-query.json": (400, PermanentError, "4001", "Invalid query", None),
    "Fault-401-3200-auth.json": (401, AuthError, "3200", "message=AuthenticationFailed", None),
    "Fault-403-3100-authorization.json": (403, PermanentError, "3100", "message=AuthorizationFailed", None),
    "Fault-429-3001-throttle.xml": (429, TransientError, "3001", "message=ThrottleExceeded", None),
    "Fault-500-unsupported-operation.json": (400, PermanentError, "500", "Unsupported Operation", None),
    "Fault-6000-business-validation.json": (400, PermanentError, "6000", "A business validation error", None),
    "Fault-6000-journal-ar-customer.json": (400, PermanentError, "6000", "A business validation error", None),
    "Fault-6000-journal-two-lines.json": (400, PermanentError, "6000", "A business validation error", None),
    "Fault-6140-duplicate-docnumber.json": (400, PermanentError, "6140", "Duplicate Document Number", None),
    "Fault-6240-duplicate-name.json": (400, PermanentError, "6240", "Duplicate Name Exists", None),
    "Fault-6240-taxservice.json": (400, PermanentError, "6240", "Duplicate Name Exists", None),
}


def test_every_fault_sample_is_covered():
    assert sorted(p.name for p in SAMPLES.glob("Fault-*")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fault_sample_becomes_typed_error(name):
    status, cls, code, message, element = EXPECTED[name]
    text = (SAMPLES / name).read_text()
    err = error_from_response(status, text, {"intuit_tid": "1-abc-tid"})
    assert isinstance(err, cls)
    assert err.code == code
    assert err.fault_message.startswith(message)
    assert err.element == element
    assert err.intuit_tid == "1-abc-tid"
    assert err.status == status
    assert "1-abc-tid" in str(err) and code in str(err)
    fault = parse_fault(text, status)
    assert fault is not None and fault.code == code


def test_token_echo_in_401_detail_is_masked():
    text = (SAMPLES / "Fault-401-3200-auth.json").read_text()
    err = error_from_response(401, text, {})
    assert "AB01601390262kxzxOlnHYdhtEVRXISU7piPqQrCmmbDN35Yjd" not in str(err)
    assert "AB01601390262kxzxOlnHYdhtEVRXISU7piPqQrCmmbDN35Yjd" not in (err.detail or "")
    assert "Reconnect to QuickBooks" in str(err)


def test_known_secrets_are_masked_anywhere_in_a_fault():
    body = '{"Fault":{"Error":[{"Message":"bad","Detail":"saw sekret-value-123 here","code":"2010"}],"type":"ValidationFault"}}'
    err = error_from_response(400, body, {}, secrets=("sekret-value-123",))
    assert "sekret-value-123" not in str(err) and "sekret-value-123" not in err.detail


def test_xml_throttle_carries_retry_after_and_5xx_is_transient():
    xml = (SAMPLES / "Fault-429-3001-throttle.xml").read_text()
    err = error_from_response(429, xml, {"Retry-After": "7"})
    assert isinstance(err, TransientError) and err.retry_after == 7.0
    assert isinstance(error_from_response(503, "<html>down</html>", {}), TransientError)
    assert isinstance(error_from_response(502, "", {}), TransientError)


def test_non_fault_error_body_still_gives_a_typed_error():
    err = error_from_response(404, "not here", {})
    assert isinstance(err, PermanentError) and err.status == 404 and "HTTP 404" in str(err)


def test_batch_item_fault():
    item = {"Fault": {"Error": [{"Message": "Stale Object Error", "Detail": "x", "code": "5010", "element": ""}],
                      "type": "ValidationFault"}, "bId": "bid3"}
    err = item_error(item)
    assert isinstance(err, PermanentError) and err.code == "5010"
    assert item_error({"bId": "b1", "Invoice": {"Id": "1"}}) is None


def test_retry_after_header_forms():
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("garbage") is None
    from datetime import datetime, timezone
    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("Thu, 01 Jan 2026 00:00:30 GMT", now) == 30.0
