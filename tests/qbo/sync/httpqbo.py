"""QBO over HTTP for the sync's integration tests: the QBO area's OAuth + reference fake (tests/qbo/fakeqbo.py,
with token rotation and 401s) extended with the writes the sync makes, kept by MemQBO's rules, and requestid
replay, faults (5xx, 429, drops before and after the commit, access-token expiry) at the HTTP level.

`WireQBO.app()` serves it through httpx.MockTransport (fast, in-process); `served(fake)` serves the same
handler over real HTTP on 127.0.0.1 (for a `ledgerlink sync` subprocess).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter, deque
import re
import socket
import threading
import time

import httpx

from core.errors import PermanentError
from core.qbo.client import dumps, loads
from tests.qbo.fakeqbo import FakeQBO

from .memqbo import MemQBO
from tests.fixtures import sample

THROTTLE_XML = sample("Fault-429-3001-throttle.xml")
WRITABLE = {"invoice": "Invoice", "payment": "Payment", "creditmemo": "CreditMemo", "customer": "Customer",
            "journalentry": "JournalEntry"}


def _fault_body(exc: PermanentError) -> dict:
    return {"Fault": {"Error": [{"Message": exc.message, "Detail": exc.detail or exc.message, "code": exc.code,
                                 "element": exc.element or ""}], "type": "ValidationFault"}, "time": "2026-11-28"}


class WireQBO(FakeQBO):
    def __init__(self, realm: str = "9130357", seed: int = 7):
        super().__init__(realm)
        self.mem = MemQBO()
        self.replies: dict[str, tuple[int, str]] = {}
        self.rng = random.Random(seed)
        self.p500 = self.p429 = self.p_drop_before = self.p_drop_after = 0.0
        self.expire_every = 0
        self.api_call_count = 0
        self.injected: Counter = Counter()
        self.lock = threading.Lock()
        # What a US law firm's QBO company has besides the QBO area's defaults: a bad-debt expense account
        # with a product/service posting to it (for write-offs), an expense-recovery item.
        self.ref["Account"].append({"Id": "90", "Name": "Bad Debts", "AccountType": "Expense",
                                    "AccountSubType": "BadDebts", "Active": True})
        # Client money: two trust bank accounts and the client trust liability.
        self.ref["Account"] += [
            {"Id": "91", "Name": "IOLTA Trust Account", "AccountType": "Bank", "AccountSubType": "TrustAccounts",
             "Active": True},
            {"Id": "92", "Name": "Separate Trust Account", "AccountType": "Bank", "AccountSubType": "TrustAccounts",
             "Active": True},
            {"Id": "93", "Name": "Client Trust Liability", "AccountType": "Other Current Liability",
             "AccountSubType": "TrustAccountsLiabilities", "Active": True}]
        self.ref["Item"].append({"Id": "20", "Name": "Bad debt written off", "Type": "Service",
                                 "IncomeAccountRef": {"value": "90"}, "Active": True})
        self.ref["Item"].append({"Id": "21", "Name": "Court Filing Fees Recovered", "Type": "Service",
                                 "IncomeAccountRef": {"value": "79"}, "Active": True})
        for customer in self.ref["Customer"]:
            self.mem.objects[("Customer", customer["Id"])] = dict(customer, SyncToken="0")

    def faults(self, *, p500=0.0, p429=0.0, drop_before=0.0, drop_after=0.0, expire_every=0) -> None:
        self.p500, self.p429, self.p_drop_before, self.p_drop_after = p500, p429, drop_before, drop_after
        self.expire_every = expire_every

    latency = 0.0
    """Seconds each API request takes over real HTTP (`served`): a QBO round trip. Requests overlap."""

    def limits(self, rpm: int = 500, batches_per_minute: int = 40, window: float = 60.0) -> None:
        """QBO's throttles on the API (429 with the XML throttle fault when exceeded); window = a 'minute'."""
        self.rpm, self.bpm, self.window = rpm, batches_per_minute, window
        self._starts: deque = deque()
        self._batch_starts: deque = deque()

    rpm = 0

    def _throttled(self, is_batch: bool) -> bool:
        if not self.rpm:
            return False
        now = time.monotonic()
        for q in (self._starts, self._batch_starts):
            while q and q[0] <= now - self.window:
                q.popleft()
        if len(self._starts) >= self.rpm or (is_batch and len(self._batch_starts) >= self.bpm):
            self.injected["throttled"] += 1
            return True
        self._starts.append(now)
        if is_batch:
            self._batch_starts.append(now)
        return False

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            return super().handle(request)

    # -- the API, with the sync's writes
    def _api(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token in self.access_tokens and self.expire_every:
            # Every expire_every-th call, not by chance: a run of ~40 requests met no expiry 1 time in ~60.
            self.api_call_count += 1
            if self.api_call_count % self.expire_every == 0:
                self.injected["expire"] += 1
                self.expire_access_tokens()
        if token not in self.access_tokens:
            return super()._api(request)
        tail = request.url.path.split(f"/v3/company/{self.realm}/", 1)[-1]
        head = tail.split("/")[0]
        is_write = request.method == "POST"
        if self.rng.random() < self.p500:
            self.injected["503"] += 1
            return httpx.Response(503, json={"Fault": {"Error": [{"Message": "Service Unavailable", "code": "10000"}],
                                                       "type": "SystemFault"}})
        if self.rng.random() < self.p429:
            self.injected["429"] += 1
            return httpx.Response(429, text=THROTTLE_XML, headers={"Content-Type": "application/xml"})
        if is_write and self.rng.random() < self.p_drop_before:
            self.injected["drop_before"] += 1
            raise httpx.ReadError("connection dropped before the request reached QBO")
        if self._throttled(head == "batch"):
            return httpx.Response(429, text=THROTTLE_XML, headers={"Content-Type": "application/xml"})
        rid = request.url.params.get("requestid")
        if rid and rid in self.replies:
            self.injected["replayed"] += 1
            status, text = self.replies[rid]
            return httpx.Response(status, text=text, headers={"Content-Type": "application/json"})
        if head == "batch" and is_write:
            status, body = 200, {"BatchItemResponse": self.mem_batch(loads(request.content)["BatchItemRequest"])}
        elif head in WRITABLE and is_write:
            status, body = self._write(WRITABLE[head], request)
        elif head in WRITABLE and "/" in tail:
            status, body = self._read(WRITABLE[head], tail.split("/")[1])
        elif head == "query" and re.search(r"FROM (Customer|Invoice|Payment|CreditMemo|JournalEntry)\b", request.url.params["query"]):
            status, body = 200, self._query(request.url.params["query"])
        else:
            return super()._api(request)
        text = dumps(body)
        if rid:
            self.replies[rid] = (status, text)
        if is_write and self.rng.random() < self.p_drop_after:
            self.injected["drop_after"] += 1
            raise httpx.ReadError("connection dropped after QBO committed the write")
        return httpx.Response(status, text=text, headers={"Content-Type": "application/json", "intuit_tid": "tid-1"})

    def _write(self, entity: str, request: httpx.Request) -> tuple[int, dict]:
        body = loads(request.content)
        if request.url.params.get("operation") == "delete":
            op = "delete"
        else:
            op = "update" if body.get("Id") else "create"
        try:
            return 200, {entity: self.mem._do(op, entity, body)}
        except PermanentError as exc:
            return 400, _fault_body(exc)

    def mem_batch(self, items: list[dict]) -> list[dict]:
        out = []
        for item in items:
            entity = next(k for k in item if k not in ("bId", "operation"))
            try:
                out.append({"bId": item["bId"], entity: self.mem._do(item["operation"], entity, item[entity])})
            except PermanentError as exc:
                out.append({"bId": item["bId"], **_fault_body(exc)})
        return out

    def _read(self, entity: str, qbo_id: str) -> tuple[int, dict]:
        obj = self.mem.objects.get((entity, qbo_id))
        if obj is None:
            return 400, _fault_body(PermanentError("Object Not Found", code="610"))
        return 200, {entity: obj}

    def _query(self, statement: str) -> dict:
        entity = re.search(r"FROM (\w+)", statement).group(1)
        rows = self.mem.of(entity)
        names = re.search(r"DisplayName IN \((.*)\)", statement)
        if names:
            wanted = {v.replace("\\'", "'") for v in re.findall(r"'((?:[^'\\]|\\.)*)'", names.group(1))}
            rows = [r for r in rows if r.get("DisplayName") in wanted]
        start = int(re.search(r"STARTPOSITION (\d+)", statement).group(1)) if "STARTPOSITION" in statement else 1
        size = int(re.search(r"MAXRESULTS (\d+)", statement).group(1)) if "MAXRESULTS" in statement else 100
        page = rows[start - 1:start - 1 + size]
        return {"QueryResponse": {entity: page, "startPosition": start, "maxResults": len(page)} if page else {}}

    def count(self, entity: str) -> int:
        return len(self.mem.of(entity))


# ---------------------------------------------------------------- real HTTP on 127.0.0.1


@contextlib.contextmanager
def served(fake: WireQBO):
    """Serve `fake.handle` over HTTP on a free loopback port; yields the base URL."""
    import uvicorn

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        url = f"http://{scope['server'][0]}:{scope['server'][1]}{scope['path']}"
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode()
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"]]
        if fake.latency:
            await asyncio.sleep(fake.latency)
        try:
            response = fake.handle(httpx.Request(scope["method"], url, headers=headers, content=body))
        except httpx.TransportError:
            return  # the connection closes with no answer: a dropped connection
        content = response.content
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": [(k.encode(), v.encode()) for k, v in response.headers.items()
                                if k.lower() not in ("content-length", "transfer-encoding")]
                    + [(b"content-length", str(len(content)).encode())]})
        await send({"type": "http.response.body", "body": content})

    # The socket listens before the server thread starts: early connections wait in its backlog.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    # The sandbox's protocol sets TCP_NODELAY on the pre-bound socket's connections (else ~40 ms a request).
    from core.sandbox.served import _Protocol

    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off", http=_Protocol))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)

