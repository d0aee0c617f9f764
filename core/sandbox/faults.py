"""QBO fault envelopes, exactly as the real service writes them (reference sections 3 and 4).

`Fault` is raised by the entity rules and the query engine and turned into a response by the app.
Inside a batch the same fault becomes one item's `Fault` (HTTP 200 for the batch).
"""

from __future__ import annotations

from core.sandbox import jsonfmt

INACTIVE_DETAIL = (
    "Something you're trying to use has been made inactive. "
    "Check the fields with accounts, customers, items, vendors or employees."
)


class Fault(Exception):
    """A ValidationFault (or SystemFault) with one error."""

    def __init__(self, code: str, message: str, detail: str, element: str | None = "", *,
                 status: int = 400, kind: str = "ValidationFault"):
        super().__init__(f"{code} {message}: {detail}")
        self.code = code
        self.message = message
        self.detail = detail
        self.element = element
        self.status = status
        self.kind = kind

    def error(self) -> dict:
        err = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element is not None:
            err["element"] = self.element
        return err

    def envelope(self) -> dict:
        return {"Error": [self.error()], "type": self.kind}

    def body(self) -> dict:
        return {"Fault": self.envelope(), "time": jsonfmt.time_field()}


def stale(user: str = "Sandbox Admin") -> Fault:
    return Fault(
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and {user} were working on this at the same time. "
        f"{user} finished before you did, so your work was not saved.",
    )


def period_closed(close_date: str) -> Fault:
    # Code and message from the reference (6210); the detail's wording is the sandbox's own.
    return Fault(
        "6210",
        "Account Period Closed",
        f"Account Period Closed, Cannot update transactions dated on or before the closing date {close_date}.",
        "TxnDate",
    )


def not_found(element: str = "") -> Fault:
    return Fault("610", "Object Not Found", f"Object Not Found : {INACTIVE_DETAIL}", element)


def invalid_reference(element: str) -> Fault:
    return Fault("2500", "Invalid Reference Id", f"Invalid Reference Id : {element}", element)


def missing(element: str) -> Fault:
    return Fault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {element} is missing in the request",
        element,
    )


def business(detail: str, element: str = "") -> Fault:
    return Fault(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element,
    )


def duplicate_name(what: str = "customer, vendor or employee") -> Fault:
    return Fault(
        "6240",
        "Duplicate Name Exists Error",
        f"The name supplied already exists. : Another {what} is already using this name. "
        "Please use a different name.",
        "",
    )


def duplicate_docnumber(doc_number: str, txn_type: str, txn_id: str) -> Fault:
    return Fault(
        "6140",
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. This number has "
        f"already been used. DocNumber={doc_number} is assigned to TxnType={txn_type} with TxnId={txn_id}",
        "",
    )


def invalid_id(value: object) -> Fault:
    return Fault("2030", "Invalid ID", f"Id should be a valid number. Supplied value:{value}", "Id")


def unsupported_property(name: str, entity: str) -> Fault:
    return Fault(
        "2010",
        "Request has invalid or unsupported property",
        f'Property Name:Unrecognized field "{name}" (class com.intuit.schema.finance.v3.{entity}), '
        "not marked as ignorable specified is unsupported or invalid",
        None,
    )


def bad_request_body(detail: str) -> Fault:
    return Fault("2010", "Request has invalid or unsupported property", f"Property Name:{detail} specified is unsupported or invalid", None)


def unsupported_operation(path: str) -> Fault:
    return Fault(
        "500",
        "Unsupported Operation",
        f"Operation Could not find resource for relative : {path} is not supported.",
        None,
    )


def query_parse(detail: str) -> Fault:
    return Fault("4000", "Error parsing query", f"QueryParserError: {detail}", None)


def query_invalid(detail: str) -> Fault:
    return Fault("4001", "Invalid query", f"QueryValidationError: {detail}", None)


def system_error(status: int = 500) -> Fault:
    return Fault(
        "10000",
        "An application error has occurred while processing your request",
        "System Failure Error: An unexpected error occurred while accessing or saving your data.",
        None,
        status=status,
        kind="SystemFault",
    )


def auth_body(code: str, status: int, detail: str | None, kind: str) -> dict:
    """The lower-case envelope of 401/403 answers (epoch-millisecond time)."""
    name = "AuthenticationFailed" if status == 401 else "AuthorizationFailed"
    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [
                {
                    "message": f"message={name}; errorCode={int(code):06d}; statusCode={status}",
                    "detail": detail,
                    "code": code,
                    "element": None,
                }
            ],
            "type": kind,
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": jsonfmt.epoch_ms(),
        "status": None,
        "cdcresponse": [],
    }


def throttle_xml() -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<IntuitResponse time="{jsonfmt.time_field()}" xmlns="http://schema.intuit.com/finance/v3">\n'
        '  <Fault type="SERVICE">\n'
        '    <Error code="3001">\n'
        "      <Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>\n"
        "      <Detail>The request limit was reached.  Try again later</Detail>\n"
        "    </Error>\n"
        "  </Fault>\n"
        "</IntuitResponse>\n"
    )
