"""The one module that talks HTTP to the QBO Accounting API: `QBOClient`.

One client (one `httpx.AsyncClient`) per company. Every request goes through the company's limiter,
carries `minorversion`, is parsed with `Decimal` for numbers, and ends in a result or a typed error
(core.qbo.faults): 401 refreshes the access token (up to 3 times) then raises AuthError; 429, 5xx and network
errors are retried by the RetryPolicy (writes only when they carry a `requestid`, so a retry cannot
create a second copy), then raise TransientError; other 4xx raise PermanentError.
"""

from __future__ import annotations

import json
import logging
import re
from decimal import Decimal
from typing import Any, Callable, Protocol

import httpx

from core.errors import PermanentError, TransientError
from core.qbo.faults import error_from_response, scrub
from core.qbo.limiter import Limiter
from core.qbo.metering import metered_calls
from core.qbo.retry import RetryPolicy

log = logging.getLogger(__name__)

QUERY_PAGE = 1000
BATCH_MAX = 30
REFRESHES_PER_401 = 3
"""Refreshes one call may make on 401 before QBO's refusal is final (AuthError)."""


class TokenSource(Protocol):
    """What the client needs from the OAuth side (core.qbo.oauth.TokenManager)."""

    async def ensure_fresh(self) -> None: ...

    async def refresh_after_401(self) -> None: ...

    def secrets(self) -> tuple[str, ...]: ...


def escape_query_value(value: str) -> str:
    """A value for a quoted QBO query literal: apostrophes escaped with a backslash."""
    return str(value).replace("'", "\\'")


_DEC = "\x00dec:"
_DEC_RE = re.compile(r'"\\u0000dec:(-?[0-9.Ee+-]+)"')


def _mark_decimals(obj):
    if isinstance(obj, Decimal):
        return _DEC + format(obj, "f")
    if isinstance(obj, float):
        raise TypeError("QBO payloads carry Decimal amounts, never float")
    if isinstance(obj, dict):
        return {k: _mark_decimals(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_mark_decimals(v) for v in obj]
    return obj


def dumps(obj, indent: int | None = None) -> str:
    """JSON text with Decimal values written as exact JSON numbers (floats refused); `indent` for people."""
    separators = (",", ": ") if indent else (",", ":")
    return _DEC_RE.sub(r"\1", json.dumps(_mark_decimals(obj), separators=separators, indent=indent))


def loads(text: str):
    return json.loads(text, parse_float=Decimal)


def entity_path(entity: str) -> str:
    return entity.lower()


class QBOClient:
    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        api_base: str,
        realm_id: str,
        minor_version: int = 75,
        limiter: Limiter | None = None,
        retry: RetryPolicy | None = None,
        auth: TokenSource | None = None,
        meter: Callable[[int], None] | None = None,
    ):
        self.http = http
        self.api_base = api_base.rstrip("/")
        self.realm_id = realm_id
        self.minor_version = minor_version
        self.limiter = limiter or Limiter()
        self.retry = retry or RetryPolicy()
        self.auth = auth
        self.meter = meter
        """Told how many metered (CorePlus) calls each request sent is (core.qbo.metering.Meter)."""

    async def __aenter__(self) -> "QBOClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    def _secrets(self) -> tuple[str, ...]:
        return self.auth.secrets() if self.auth else ()

    def url(self, path: str) -> str:
        return f"{self.api_base}/v3/company/{self.realm_id}/{path.lstrip('/')}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: Any = None,
        content: str | bytes | None = None,
        requestid: str | None = None,
        headers: dict | None = None,
        batch: bool = False,
        idempotent: bool | None = None,
        metered: int | None = None,
    ) -> dict:
        """One API call; returns the parsed JSON body (numbers as Decimal). `metered`: how many metered calls it
        is (default: 1 for a GET or a query, 0 for a write); every attempt sent is counted."""
        method = method.upper()
        if metered is None:
            metered = metered_calls(method, path)
        query = dict(params or {})
        query["minorversion"] = str(self.minor_version)
        if requestid is not None:
            if len(requestid) > (36 if batch else 50):
                raise ValueError("requestid too long for QBO")
            query["requestid"] = requestid
        send_headers = {"Accept": "application/json"}
        if json is not None:
            content = dumps(json)
            send_headers["Content-Type"] = "application/json"
        send_headers.update(headers or {})
        if idempotent is None:
            idempotent = method == "GET" or requestid is not None
        url = self.url(path)

        async def attempt(number: int) -> dict:
            refreshes = 0
            while True:
                if self.auth is not None:
                    await self.auth.ensure_fresh()
                async with self.limiter.request(batch=batch):
                    if self.meter is not None:
                        self.meter(metered)
                    try:
                        response = await self.http.request(
                            method, url, params=query, content=content, headers=send_headers
                        )
                    except httpx.RequestError as exc:
                        error = TransientError(f"Could not reach QuickBooks ({type(exc).__name__}): try again later")
                        error.retryable = idempotent
                        raise error from None
                if response.status_code == 401 and self.auth is not None and refreshes < REFRESHES_PER_401:
                    # The token endpoint is the authority on a revoked authorization (invalid_grant there); a
                    # token that dies again just after a refresh (another process, an expiry) is refreshed again.
                    log.info("QBO answered 401 on %s %s; refreshing the access token", method, path)
                    await self.auth.refresh_after_401()
                    refreshes += 1
                    continue
                return self._result(response, method, path, content, idempotent)

        return await self.retry.run(attempt, on_retry=self._log_retry)

    def _log_retry(self, attempt: int, wait: float, exc: Exception) -> None:
        log.warning("QBO call failed (attempt %d), retrying in %.1fs: %s", attempt, wait, exc)

    def _result(self, response: httpx.Response, method: str, path: str, content, idempotent: bool) -> dict:
        tid = response.headers.get("intuit_tid") or response.headers.get("intuit-tid")
        if response.status_code >= 400:
            error = error_from_response(response.status_code, response.text, dict(response.headers), self._secrets())
            error.request = {"method": method, "path": path, "body": scrub(_text(content), self._secrets())}
            error.response_text = scrub(response.text, self._secrets())
            if isinstance(error, TransientError) and not idempotent and response.status_code != 429:
                error.retryable = False
            log.info("QBO %s %s -> %s (%s)", method, path, response.status_code, error.code)
            raise error
        try:
            body = loads(response.text)
        except ValueError:
            raise PermanentError(
                f"QuickBooks sent an answer that is not JSON (HTTP {response.status_code})",
                status=response.status_code, intuit_tid=tid,
            ) from None
        if isinstance(body, dict) and tid:
            body.setdefault("_intuit_tid", tid)
        return body

    # -- queries ---------------------------------------------------------------------------
    async def query(self, statement: str) -> dict:
        """The QueryResponse of one select statement."""
        body = await self.request("GET", "query", params={"query": statement})
        return body.get("QueryResponse", {})

    async def query_all(self, entity: str, where: str = "", order_by: str = "", *, page_size: int = QUERY_PAGE) -> list[dict]:
        """Every row of `entity` matching `where`, paged (1000 at a time by default) with STARTPOSITION/MAXRESULTS."""
        if not 1 <= page_size <= QUERY_PAGE:
            raise ValueError(f"QBO pages hold 1 to {QUERY_PAGE} rows")
        rows: list[dict] = []
        start = 1
        base = f"SELECT * FROM {entity}"
        if where:
            base += f" WHERE {where}"
        if order_by:
            base += f" ORDERBY {order_by}"
        while True:
            page = await self.query(f"{base} STARTPOSITION {start} MAXRESULTS {page_size}")
            items = page.get(entity, [])
            rows.extend(items)
            if len(items) < page_size:
                return rows
            start += page_size

    async def count(self, entity: str, where: str = "") -> int:
        statement = f"SELECT COUNT(*) FROM {entity}" + (f" WHERE {where}" if where else "")
        return int((await self.query(statement)).get("totalCount", 0))

    # -- entities -------------------------------------------------------------------------
    async def read(self, entity: str, id: str) -> dict:
        body = await self.request("GET", f"{entity_path(entity)}/{id}")
        return body[entity]

    async def create(self, entity: str, body: dict, *, requestid: str | None) -> dict:
        answer = await self.request("POST", entity_path(entity), json=body, requestid=requestid)
        return answer[entity]

    async def sparse_update(self, entity: str, body: dict, *, requestid: str | None) -> dict:
        if "Id" not in body or "SyncToken" not in body:
            raise ValueError("a sparse update needs Id and SyncToken")
        answer = await self.request("POST", entity_path(entity), json={**body, "sparse": True}, requestid=requestid)
        return answer[entity]

    async def delete(self, entity: str, id: str, sync_token: str, *, requestid: str | None) -> dict:
        answer = await self.request(
            "POST", entity_path(entity), params={"operation": "delete"},
            json={"Id": id, "SyncToken": sync_token}, requestid=requestid,
        )
        return answer[entity]

    async def void_invoice(self, id: str, sync_token: str, *, requestid: str | None) -> dict:
        answer = await self.request(
            "POST", "invoice", params={"operation": "void"}, json={"Id": id, "SyncToken": sync_token},
            requestid=requestid,
        )
        return answer["Invoice"]

    async def void(self, entity: str, body: dict, *, requestid: str | None) -> dict:
        """Void an Invoice (`?operation=void`) or a Payment (`?operation=update&include=void`, sparse)."""
        if entity == "Payment":
            answer = await self.request(
                "POST", "payment", params={"operation": "update", "include": "void"},
                json={"Id": body["Id"], "SyncToken": body["SyncToken"], "sparse": True}, requestid=requestid)
            return answer["Payment"]
        return await self.void_invoice(body["Id"], body["SyncToken"], requestid=requestid)

    async def batch(self, items: list[dict], *, requestid: str | None = None, encoded: str | None = None) -> list[dict]:
        """Up to 30 BatchItemRequest items; returns the BatchItemResponse items (faults inside, HTTP 200).

        `encoded`: the body `{"BatchItemRequest": items}` already written as JSON (`dumps`), sent as it is.
        """
        if not items:
            return []
        if len(items) > BATCH_MAX:
            raise ValueError(f"a QBO batch holds at most {BATCH_MAX} items, not {len(items)}")
        body = {"json": {"BatchItemRequest": items}} if encoded is None else {
            "content": encoded, "headers": {"Content-Type": "application/json"}}
        answer = await self.request(
            "POST", "batch", requestid=requestid, batch=True,
            idempotent=requestid is not None or all("Query" in item for item in items),
            metered=metered_calls("POST", "batch", items), **body,
        )
        return answer.get("BatchItemResponse", [])

    async def cdc(self, entities: list[str] | tuple[str, ...], changed_since: str) -> dict:
        """Change data capture (reference §1.6): the body listing what changed since `changed_since`."""
        return await self.request("GET", "cdc", params={"entities": ",".join(entities), "changedSince": changed_since})

    async def company_info(self) -> dict:
        body = await self.request("GET", f"companyinfo/{self.realm_id}")
        return body["CompanyInfo"]

    async def preferences(self) -> dict:
        body = await self.request("GET", "preferences")
        return body["Preferences"]


def _text(content) -> str | None:
    if content is None:
        return None
    return content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
