"""An in-memory stand-in for QBO's write API, for unit tests of the sync engine's state machine.

It keeps QBO's rules that matter to exactly-once: a requestid seen before is answered with the first
answer (success or fault) without running again; updates and deletes check the SyncToken (5010);
unknown ids are 610; a DocNumber is unique per entity (6140). Faults are injected per call.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

from core.errors import AuthError, PermanentError, TransientError
from core.qbo.client import loads


class SimulatedCrash(BaseException):
    """The process dies right after QBO committed a write (not an Exception: nothing may catch it)."""


class MemQBO:
    def __init__(self):
        self.objects: dict[tuple[str, str], dict] = {}
        self.memory: dict[str, object] = {}
        self.performed = Counter()  # (op, entity) -> writes actually performed
        self.calls = 0
        self.changed: dict[tuple[str, str], tuple] = {}  # (entity, id) -> (when, object) written through the API
        self.next_id = 100
        self.inject = None  # callable(op, entity, body) -> None | 'drop_before' | 'drop_after' | 'auth' | 'crash'

    # -- helpers for tests
    def add_customer(self, name: str) -> str:
        return self._do("create", "Customer", {"DisplayName": name})["Id"]

    def of(self, entity: str) -> list[dict]:
        return [o for (e, _), o in self.objects.items() if e == entity]

    # -- the Wire protocol
    async def create(self, entity, body, *, requestid):
        # a POST that carries an Id is a full update, as in QBO
        return await self._write("update" if body.get("Id") else "create", entity, body, requestid)

    async def void(self, entity, body, *, requestid):
        return await self._write("void", entity, {"Id": body["Id"], "SyncToken": body["SyncToken"]}, requestid)

    async def sparse_update(self, entity, body, *, requestid):
        return await self._write("update", entity, body, requestid)

    async def delete(self, entity, id, sync_token, *, requestid):
        return await self._write("delete", entity, {"Id": id, "SyncToken": sync_token}, requestid)

    async def read(self, entity, id):
        self.calls += 1
        obj = self.objects.get((entity, id))
        if obj is None:
            raise PermanentError("Object Not Found", code="610", status=400)
        return copy.deepcopy(obj)

    async def query_all(self, entity, where="", order_by=""):
        self.calls += 1
        rows = [copy.deepcopy(o) for o in self.of(entity)]
        ids = re.fullmatch(r"Id IN \((.*)\)", where or "")
        if ids:
            wanted = set(re.findall(r"'([^']*)'", ids.group(1)))
            return [o for o in rows if o["Id"] in wanted]
        m = re.fullmatch(r"DisplayName IN \((.*)\)", where or "")
        if m:
            names = {v.replace("\\'", "'").replace("\\\\", "\\")
                     for v in re.findall(r"'((?:[^'\\]|\\.)*)'", m.group(1))}
            rows = [o for o in rows if o["DisplayName"] in names]
        return rows

    async def cdc(self, entities, changed_since):
        """What changed through this API since `changed_since`, as the API left it (edits made in `objects`
        directly are not seen)."""
        self.calls += 1
        since = datetime.fromisoformat(changed_since)
        out = []
        for entity in entities:
            rows = [copy.deepcopy(obj if (e, i) in self.objects else {"Id": i, "status": "Deleted"})
                    for (e, i), (when, obj) in self.changed.items() if e == entity and when >= since]
            out.append({entity: rows} if rows else {})
        return {"CDCResponse": [{"QueryResponse": out}]}

    async def batch(self, items, *, requestid=None, encoded=None):
        self.calls += 1
        if encoded is not None:  # the engine's one encoding of the body is what goes on the wire
            assert loads(encoded) == {"BatchItemRequest": items}
        if requestid and requestid in self.memory:
            return copy.deepcopy(self.memory[requestid])
        action = self.inject("batch", "batch", items) if self.inject else None
        self._before(action)
        out = []
        for item in items:
            bid = item["bId"]
            entity = next(k for k in item if k not in ("bId", "operation"))
            try:
                result = self._do(item["operation"], entity, item[entity])
                out.append({"bId": bid, entity: result})
            except PermanentError as exc:
                out.append({"bId": bid, "Fault": {"type": "ValidationFault", "Error": [
                    {"Message": exc.message, "Detail": exc.detail or exc.message, "code": exc.code}]}})
        if requestid:
            self.memory[requestid] = copy.deepcopy(out)
        self._after(action)
        return out

    # -- internals
    def _before(self, action):
        if action == "drop_before":
            raise TransientError("connection dropped before QBO received the request")
        if action == "auth":
            raise AuthError("Reconnect to QuickBooks: the refresh token was rejected")

    def _after(self, action):
        if action == "drop_after":
            raise TransientError("connection dropped after QBO committed")
        if action == "crash":
            raise SimulatedCrash("simulated crash after QBO committed")

    async def _write(self, op, entity, body, rid):
        self.calls += 1
        assert rid and len(rid) <= 50
        if rid in self.memory:
            answer = self.memory[rid]
            if isinstance(answer, Exception):
                raise answer
            return copy.deepcopy(answer)
        action = self.inject(op, entity, body) if self.inject else None
        self._before(action)
        try:
            result = self._do(op, entity, body)
        except PermanentError as exc:
            self.memory[rid] = exc
            raise
        self.memory[rid] = copy.deepcopy(result)
        self._after(action)
        return copy.deepcopy(result)

    def _do(self, op, entity, body):
        result = self._do_once(op, entity, body)
        self.changed[(entity, str(result["Id"]))] = (datetime.now(timezone.utc), copy.deepcopy(result))
        return result

    def _do_once(self, op, entity, body):
        if op == "create":
            if entity != "Customer":
                self._check_refs(entity, body)
            if entity == "Customer" and any(o["DisplayName"] == body["DisplayName"] for o in self.of("Customer")):
                raise PermanentError("Duplicate Name Exists Error", code="6240", status=400)
            if "DocNumber" in body and any(o.get("DocNumber") == body["DocNumber"] for o in self.of(entity)):
                raise PermanentError("Duplicate Document Number Error", code="6140", status=400)
            self.next_id += 1
            obj = {**copy.deepcopy(body), "Id": str(self.next_id), "SyncToken": "0"}
            self._totals(entity, obj)
            self.objects[(entity, obj["Id"])] = obj
            self.performed[(op, entity)] += 1
            return copy.deepcopy(obj)
        key = (entity, body["Id"])
        obj = self.objects.get(key)
        if obj is None:
            raise PermanentError("Object Not Found", code="610", status=400)
        if obj["SyncToken"] != body["SyncToken"]:
            raise PermanentError("Stale Object Error", code="5010", status=400)
        self.performed[(op, entity)] += 1
        if op == "delete":
            del self.objects[key]
            return {"Id": body["Id"], "status": "Deleted"}
        if op == "void":
            for line in obj.get("Line", []):
                line["Amount"] = Decimal("0.00")
            obj.update(TotalAmt=Decimal("0.00"), PrivateNote="Voided", SyncToken=str(int(obj["SyncToken"]) + 1))
            return copy.deepcopy(obj)
        self._check_refs(entity, body)
        if body.get("sparse") is False:  # a full update: what the body leaves out is gone, as in QBO
            for k in [k for k in obj if k not in ("Id", "SyncToken")]:
                del obj[k]
        obj.update({k: copy.deepcopy(v) for k, v in body.items() if k not in ("Id", "SyncToken", "sparse")})
        obj["SyncToken"] = str(int(obj["SyncToken"]) + 1)
        self._totals(entity, obj)
        return copy.deepcopy(obj)

    def _check_refs(self, entity, body):
        cust = (body.get("CustomerRef") or {}).get("value")
        if cust is not None and ("Customer", cust) not in self.objects:
            raise PermanentError("Invalid Reference Id", code="2500", element="CustomerRef", status=400)
        for line in body.get("Line", []):
            for linked in line.get("LinkedTxn", []):
                if (linked["TxnType"], linked["TxnId"]) not in self.objects:
                    raise PermanentError("Invalid Reference Id", code="2500", element="LinkedTxn", status=400)

    @staticmethod
    def _totals(entity, obj):
        if entity in ("Invoice", "CreditMemo"):
            lines = sum((Decimal(str(l["Amount"])) for l in obj.get("Line", [])), Decimal(0))
            tax = Decimal(str((obj.get("TxnTaxDetail") or {}).get("TotalTax", 0)))
            obj["TotalAmt"] = lines + tax
