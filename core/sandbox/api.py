"""The Accounting API under /v3/company/{realmId}/: auth, throttles, injected faults, requestid replay,
then read, query, create, update, delete, void, batch, cdc, reports, companyinfo and preferences (an update
of AccountingInfoPrefs.BookCloseDate closes the books: transactions dated on or before it are refused, 6210).

Metered reads (reference 5.15): every CorePlus call (a GET read, a query, CDC, a report, CompanyInfo,
Preferences, and each query item of a batch) is counted per company per calendar month
(`SandboxState.metered(realm)`); beyond the company's `metered_cap` setting such calls get QBO's 429
throttle fault (in a batch, the item's Fault is 3001). Writes are not metered.
A body that arrived short of its Content-Length, or that is not JSON, is never acted on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from core.sandbox import entities, faults, jsonfmt, ledger, query
from core.sandbox.company import Company
from core.sandbox.oauth import bearer
from core.sandbox.connection import Dropped, drop
from core.sandbox.store import SandboxState

log = logging.getLogger(__name__)

JSON_TYPE = "application/json;charset=utf-8"
def _json(body: dict, status: int = 200, content_type: str = JSON_TYPE) -> Response:
    return Response(jsonfmt.dumps(body), status_code=status, media_type=None, headers={"Content-Type": content_type})


def _fault(fault: faults.Fault) -> Response:
    return _json(fault.body(), fault.status, "application/json")


def auth_failure(status: int, code: str, detail: str | None) -> Response:
    kind = "AUTHENTICATION" if status == 401 else "SERVICE"
    headers = {"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'} if status == 401 else {}
    return Response(jsonfmt.dumps(faults.auth_body(code, status, detail, kind)), status_code=status,
                    headers={"Content-Type": "application/json", **headers})


def throttled(state: SandboxState) -> Response:
    headers = {"Content-Type": "application/xml"}
    if state.limits.retry_after is not None:
        headers["Retry-After"] = str(state.limits.retry_after)
    return Response(faults.throttle_xml(), status_code=429, headers=headers)


def _is_write(request: Request) -> bool:
    return request.method == "POST" and request.path_params["rest"].lower().split("/")[0] not in ("query",)


async def handle(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    realm = request.path_params["realm"]
    header = request.headers.get("authorization", "")
    grant = bearer(state, request)
    if grant is None:
        if not header.lower().startswith("bearer ") or len(header) < 20:
            return auth_failure(401, "3200", "Malformed bearer token: too short or too long")
        raw = state.grant(header[7:].strip())
        handle_id = raw["handle"] if raw else "AB0" + "0" * 12
        return auth_failure(401, "3200", f"Token expired: {handle_id}")
    company = state.company(realm)
    if company is None or grant["realm"] != realm:
        return auth_failure(403, "3100", None)
    if "com.intuit.quickbooks.accounting" not in grant["scope"].split():
        return auth_failure(403, "3100", "The access token does not have sufficient scope")

    try:
        body_bytes = await request.body()
    except ClientDisconnect:  # the body was cut short: nothing to act on, and no one to answer
        raise Dropped() from None
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) != len(body_bytes):
        return _fault(faults.bad_request_body(f"Content-Length {declared} but {len(body_bytes)} bytes arrived"))
    rest = request.path_params["rest"].strip("/")
    is_batch = rest.lower() == "batch"
    batch_items = None
    payload: Any = None
    if request.method == "POST" and rest.lower() != "query":
        try:
            payload = jsonfmt.loads(body_bytes or b"{}")
        except jsonfmt.BadJSON as exc:
            return _fault(faults.bad_request_body(f"Malformed JSON: {exc}"))
        if is_batch and isinstance(payload, dict):
            batch_items = len(payload.get("BatchItemRequest") or [])

    with state.lock:
        admitted = company.throttle.admit(state.limits, state.now(), batch_items=batch_items)
        if admitted:
            company.throttle.inflight += 1
    if not admitted:
        return throttled(state)
    try:
        return await _after_admission(state, company, request, rest, payload, grant)
    finally:
        with state.lock:
            company.throttle.inflight -= 1


async def _after_admission(state: SandboxState, company: Company, request: Request, rest: str, payload: Any,
                           grant: dict) -> Response:
    is_write = _is_write(request)
    drop_after = False
    with state.lock:
        entity = rest.split("/")[0]
        fired = [rule for rule in state.faults if rule.fires(is_write, state.rng, entity)]
    for rule in fired:
        if rule.kind == "latency":
            await asyncio.sleep(rule.value)
    for rule in fired:
        if rule.kind in ("500", "503"):
            return _fault(faults.system_error(int(rule.kind)))
        if rule.kind == "429":
            return throttled(state)
        if rule.kind == "expire-token":
            state.expire_token(grant["token"])
            return auth_failure(401, "3200", f"Token expired: {grant['handle']}")
        if rule.kind == "drop-before":
            await drop()
        if rule.kind == "drop-after":
            drop_after = True

    requestid = request.query_params.get("requestid")
    if not is_write:
        with state.lock:
            allowed = company.meter()
        if not allowed:
            return throttled(state)
    if is_write:
        with state.atomic():
            seen = state.remembered(company.realm, requestid) if requestid else None
            if seen:
                status, content_type, body = seen
                return Response(body, status_code=status, headers={"Content-Type": content_type})
            response = _dispatch(state, company, request, rest, payload, write=True)
            if requestid and response.status_code < 500:  # a system failure saved nothing: a retry runs afresh
                state.remember(company.realm, requestid, response.status_code,
                               response.headers.get("content-type", JSON_TYPE), bytes(response.body).decode())
    else:
        try:
            text = (await request.body()).decode() if request.method == "POST" else None
        except UnicodeDecodeError:
            return _fault(faults.query_parse("the query is not UTF-8 text"))
        with state.lock:
            response = _dispatch(state, company, request, rest, text)
    if drop_after:
        await drop()
    return response


def _dispatch(state: SandboxState, company: Company, request: Request, rest: str, payload: Any, *,
              write: bool = False) -> Response:
    try:
        if write:
            with company.savepoint():
                return _route(state, company, request, rest, payload)
        return _route(state, company, request, rest, payload)
    except faults.Fault as fault:
        return _fault(fault)
    except Exception:  # a sandbox bug: answered as QBO answers its own (the write left no trace)
        log.exception("%s %s failed inside the sandbox", request.method, rest)
        return _fault(faults.system_error())


def _route(state: SandboxState, company: Company, request: Request, rest: str, payload: Any) -> Response:
    parts = [p for p in rest.split("/") if p]
    head = parts[0].lower() if parts else ""
    params = request.query_params
    path = f"/v3/company/{company.realm}/{rest}"
    if request.method == "GET":
        if head == "query" and len(parts) == 1:
            return _json({"QueryResponse": run_query(company, params.get("query") or ""), "time": jsonfmt.time_field()})
        if head == "cdc" and len(parts) == 1:
            return _json(cdc(company, params.get("entities") or "", params.get("changedSince") or ""))
        if head == "preferences" and len(parts) == 1:
            return _json({"Preferences": entities.read(company, "Preferences", "1"), "time": jsonfmt.time_field()})
        if head == "reports" and len(parts) == 2:
            return _json(report(company, parts[1], params))
        if len(parts) == 2 and head in entities.BY_LOWER:
            etype = entities.BY_LOWER[head]
            return _json({etype: entities.read(company, etype, parts[1]), "time": jsonfmt.time_field()})
        raise faults.unsupported_operation(path)
    if head == "query" and len(parts) == 1:
        return _json({"QueryResponse": run_query(company, payload or ""), "time": jsonfmt.time_field()})
    if head == "batch" and len(parts) == 1:
        return _json(batch(company, payload))
    if [p.lower() for p in parts] == ["taxservice", "taxcode"]:
        return _json({**entities.create_tax_code(company, payload), "time": jsonfmt.time_field()})
    if len(parts) == 1 and head in entities.BY_LOWER:
        etype = entities.BY_LOWER[head]
        operation = (params.get("operation") or "create").lower()
        include = {i.strip().lower() for i in (params.get("include") or "").split(",") if i.strip()}
        result = entities.write(company, etype, operation, payload, include)
        return _json({etype: result, "time": jsonfmt.time_field()})
    raise faults.unsupported_operation(path)


def run_query(company: Company, text: str) -> dict:
    parsed = query.parse(text)
    etype = entities.BY_LOWER.get(parsed.entity.lower())
    if etype is None:
        raise faults.query_invalid(f"invalid context declaration: {parsed.entity}")
    parsed.entity = etype
    known = entities.known_properties().get(etype)
    if known is not None:
        lower = {name.lower() for name in known}
        for name in [n for n, _, _ in parsed.where] + [n for n, _ in parsed.order]:
            if name.split(".")[0].lower() not in lower:
                raise faults.query_invalid(f"property '{name}' is not queryable")
    records = [entities.render(company, etype, r) for r in company.all(etype)]
    return query.run(parsed, records, name_list=etype in entities.NAME_LISTS)


def batch(company: Company, payload: Any) -> dict:
    items = (payload or {}).get("BatchItemRequest") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise faults.missing("BatchItemRequest")
    out = []
    for item in items:
        bid = item.get("bId") if isinstance(item, dict) else None
        try:
            if not isinstance(item, dict):
                raise faults.bad_request_body("BatchItemRequest")
            if "Query" in item:
                if not company.meter():
                    raise faults.Fault("3001", "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                                       "The request limit was reached.  Try again later", None)
                out.append({"QueryResponse": run_query(company, item["Query"]), "bId": bid})
                continue
            operation = (item.get("operation") or "").lower()
            names = [k for k in item if k in entities.ENTITY_TYPES]
            if not names or operation not in ("create", "update", "delete", "void"):
                raise faults.missing("BatchItemRequest.operation")
            etype = names[0]
            include = {"void"} if operation == "void" else set()
            op = "void" if operation == "void" else operation
            # Items are independent (reference 7): each commits or fails alone in the batch's transaction.
            with company.savepoint():
                out.append({etype: entities.write(company, etype, op, item[etype], include), "bId": bid})
        except faults.Fault as fault:
            out.append({"Fault": fault.envelope(), "bId": bid})
        except Exception:
            log.exception("Batch item %s failed inside the sandbox", bid)
            out.append({"Fault": faults.system_error().envelope(), "bId": bid})
    return {"BatchItemResponse": out, "time": jsonfmt.time_field()}


CDC_DAYS = 30
CDC_MAX = 1000


def cdc(company: Company, names: str, changed_since: str) -> dict:
    """Changes since a moment no more than 30 days back, at most 1000 objects in all, deletions as stubs
    (reference 1.6). An older changedSince is refused (4001; QBO's own code for it is not in the reference)."""
    since = jsonfmt.parse_when(changed_since) if changed_since else None
    if since is None:
        raise faults.missing("changedSince")
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    if not wanted:
        raise faults.missing("entities")
    cutoff = since.timestamp()
    if cutoff < company.state.now() - CDC_DAYS * 86400:
        raise faults.query_invalid(f"changedSince must be within the last {CDC_DAYS} days")
    budget = CDC_MAX
    responses = []
    for name in wanted:
        etype = entities.BY_LOWER.get(name.lower())
        if etype not in entities.CDC_TYPES:
            raise faults.query_invalid(f"CDC is not supported for entity {name}")
        found: list[tuple[float, dict]] = []
        for record in company.all(etype):
            when = company.updated.get((etype, record["Id"]), 0)
            if when >= cutoff:
                found.append((when, entities.render(company, etype, record)))
        for eid, when in company.deleted[etype].items():
            if when >= cutoff:
                stamp = jsonfmt.stamp(jsonfmt.datetime.fromtimestamp(when).astimezone())
                found.append((when, {"domain": "QBO", "status": "Deleted", "Id": eid,
                                     "MetaData": {"LastUpdatedTime": stamp}}))
        found.sort(key=lambda pair: pair[0])
        changed = [record for _, record in found[:budget]]
        budget -= len(changed)
        responses.append({etype: changed, "startPosition": 1, "maxResults": len(changed)} if changed else {})
    return {"CDCResponse": [{"QueryResponse": responses}], "time": jsonfmt.time_field()}


def report(company: Company, name: str, params: Any) -> dict:
    """The sandbox's one report, `AccountBalanceByCustomer?account=<id>` (not a QBO report; QBO's own reports
    are not emulated): an account's balance per customer, debits minus credits, as rows of
    {"CustomerRef": {"value", "name"} or null, "Balance"} and the account's total."""
    if name != "AccountBalanceByCustomer":
        raise faults.unsupported_operation(f"/reports/{name}")
    account = entities.resolve(company, "Account", {"value": params.get("account")}, "account", required=True,
                               allow_inactive=True)
    rows = []
    for who, amount in sorted(ledger.by_customer(company, account["Id"]).items(), key=lambda kv: str(kv[0])):
        customer = company.get("Customer", who) if who else None
        ref = {"value": who, "name": customer["DisplayName"]} if customer else None
        rows.append({"CustomerRef": ref, "Balance": amount})
    return {"Report": {"Header": {"ReportName": name, "Currency": company.home_currency},
                       "Account": {"value": account["Id"], "name": account["FullyQualifiedName"]},
                       "Rows": rows, "Balance": ledger.balance(company, account)},
            "time": jsonfmt.time_field()}
