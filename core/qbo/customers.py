"""Customer identity: which QBO customer a ledger client is, decided by the admin, never by a name alone.

A client is linked to a QBO customer only by a link the admin made (`link`) or accepted, or to a customer the
sync created for it. A QBO customer with the client's display name and no link is a *proposal* (name, e-mail,
open balance and why it matches); until the admin links the client to it or asks for a new customer (`new`),
that client's documents wait with a `CustomerUnconfirmed` reason. One QBO customer serves one client at most.

QBO display names may not hold ':' (the sub-customer separator), tabs or newlines, and are unique across
customers, vendors and employees. Two clients whose names become one after those rules ("X: Estate" and
"X- Estate") are told apart by a numbered suffix ("X- Estate (2)"); the client whose name needed no change keeps
the plain name. The names are shown to the admin (`ledgerlink customers list`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import sqlite_utils

from core.money import decimal_to_minor
from core.qbo.payloads import MAX_DISPLAY_NAME, display_name

State = Literal["linked", "proposed", "new", "will_create"]
Why = Literal["same_display_name", "same_after_qbo_rules", "same_email", "different_email", "inactive_in_qbo"]

WHY_TEXT = {
    "same_display_name": "the same display name",
    "same_after_qbo_rules": "the same name once ':' tabs and newlines are replaced as QuickBooks requires",
    "same_email": "the same e-mail address",
    "different_email": "a different e-mail address",
    "inactive_in_qbo": "the QuickBooks customer is inactive",
}


@dataclass(frozen=True)
class QBOCustomer:
    id: str
    display_name: str
    email: str | None
    balance_minor: int
    active: bool
    job: bool = False


@dataclass(frozen=True)
class Proposal:
    """An unlinked QBO customer that may be this client: the admin links to it or asks for a new one."""

    client_id: int
    client_name: str
    client_email: str | None
    customer: QBOCustomer
    currency: str
    why: tuple[Why, ...]

    def as_json(self) -> dict:
        return {"client_id": self.client_id, "client_name": self.client_name, "client_email": self.client_email,
                "qbo_id": self.customer.id, "qbo_name": self.customer.display_name, "qbo_email": self.customer.email,
                "qbo_balance_minor": self.customer.balance_minor, "qbo_active": self.customer.active,
                "currency": self.currency, "why": list(self.why)}


@dataclass(frozen=True)
class CustomerUnconfirmed:
    """Why a client's documents wait: a QBO customer of the same name exists and the admin has not decided."""

    client_id: int
    client_name: str
    qbo_id: str
    qbo_name: str
    qbo_active: bool = True
    code: str = "customer_unconfirmed"
    where: str = "ledgerlink customers list"

    def text(self) -> str:
        inactive = ("; it is inactive there: make that customer active again in QuickBooks and run `ledgerlink pull` "
                    "before linking" if not self.qbo_active else "")
        return (f"QuickBooks already has a customer named {self.qbo_name} (id {self.qbo_id}) that is not linked to "
                f"the client {self.client_name}: link them if they are the same (ledgerlink customers link "
                f"{self.client_id} {self.qbo_id}) or give the client a new customer (ledgerlink customers new "
                f"{self.client_id}){inactive}")

    def as_json(self) -> dict:
        return {"code": self.code, "client_id": self.client_id, "client_name": self.client_name,
                "qbo_id": self.qbo_id, "qbo_name": self.qbo_name, "qbo_active": self.qbo_active, "where": self.where}


@dataclass(frozen=True)
class Identity:
    """One ledger client as QBO will know it."""

    client_id: int
    client_name: str
    display_name: str  # the DisplayName it has or will get in QBO
    state: State
    qbo_id: str | None = None
    decided_by: str | None = None
    proposal: Proposal | None = None
    renamed: tuple[str, ...] = field(default=())  # why display_name differs from the client's name

    def as_json(self) -> dict:
        return {"client_id": self.client_id, "client_name": self.client_name, "display_name": self.display_name,
                "state": self.state, "qbo_id": self.qbo_id, "decided_by": self.decided_by, "renamed": list(self.renamed),
                "proposal": self.proposal.as_json() if self.proposal else None}


def fold(name: str) -> str:
    return name.casefold()


def customer_from_json(obj: dict, currency: str) -> QBOCustomer:
    balance = obj.get("Balance")
    minor = decimal_to_minor(Decimal(str(balance)), currency) if balance not in (None, "") else 0
    return QBOCustomer(id=str(obj["Id"]), display_name=obj.get("DisplayName", ""),
                       email=(obj.get("PrimaryEmailAddr") or {}).get("Address"), balance_minor=minor,
                       active=bool(obj.get("Active", True)), job=bool(obj.get("Job", False)))


def cached_customers(db: sqlite_utils.Database, currency: str) -> list[QBOCustomer]:
    """The QBO customers of the reference cache (pulled with the reference data, or seen by the sync)."""
    return [customer_from_json(json.loads(r[0], parse_float=Decimal), currency)
            for r in db.execute("SELECT json FROM qbo_customers WHERE present = 1 ORDER BY id")]


def remember_customer(db: sqlite_utils.Database, obj: dict) -> None:
    """Put a QBO customer the sync has just seen into the reference cache, so proposals can show it."""
    from core.qbo.store import now_iso

    db.execute(
        "INSERT INTO qbo_customers (id, name, active, present, sync_token, json, pulled_at) VALUES (?,?,?,1,?,?,?) "
        "ON CONFLICT(id) DO UPDATE SET name = excluded.name, active = excluded.active, present = 1, "
        "sync_token = excluded.sync_token, json = excluded.json, pulled_at = excluded.pulled_at",
        [str(obj["Id"]), obj.get("DisplayName", ""), int(bool(obj.get("Active", True))), obj.get("SyncToken"),
         json.dumps(obj, default=str), now_iso()])


def suffixed(base: str, n: int) -> str:
    tail = f" ({n})"
    return base[: MAX_DISPLAY_NAME - len(tail)] + tail


def _renamed(name: str, shown: str) -> tuple[str, ...]:
    why = []
    if ":" in name:
        why.append("':' is not allowed in QuickBooks names; it became '-'")
    if " ".join(name.split()) != name.strip() or name != name.strip():
        why.append("tabs, newlines and repeated spaces are not allowed; they became one space")
    if shown != display_name(name):
        why.append(f"another client already goes to QuickBooks as {display_name(name)}: numbered to tell them apart")
    return tuple(why)


def identities(db: sqlite_utils.Database, currency: str) -> list[Identity]:
    """Every client with its QBO display name and state: linked, proposed (waits for the admin), new (the admin
    asked for a new customer) or will_create (no QBO customer has its name: the sync creates one)."""
    clients = db.execute("SELECT id, name, email FROM contacts WHERE kind = 'client' ORDER BY id").fetchall()
    links = {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT client_id, qbo_id, display_name FROM sync_customers WHERE qbo_id IS NOT NULL")}
    decisions = {r[0]: (r[1], r[2], r[3], r[4]) for r in db.execute(
        "SELECT client_id, decision, qbo_id, display_name, decided_by FROM customer_decisions")}
    qbo = cached_customers(db, currency)
    by_id = {c.id: c for c in qbo}
    linked_ids = {qid for qid, _ in links.values()} | {d[1] for d in decisions.values() if d[1]}
    linked_names = {fold(by_id[q].display_name) for q in linked_ids if q in by_id}

    # Names already fixed (a link or a decided new name) are kept; the others are given in order, exact names first.
    used: set[str] = {fold(r[0]) for r in db.execute("SELECT display_name FROM sync_jobs")}  # matters' sub-customers
    names: dict[int, str] = {}
    for cid, _name, _email in clients:
        fixed = links[cid][1] if cid in links else (decisions[cid][2] if cid in decisions else None)
        if fixed:
            names[cid] = fixed
            used.add(fold(fixed))
    rest = [(cid, name) for cid, name, _ in clients if cid not in names]
    rest.sort(key=lambda c: (display_name(c[1]) != c[1], c[0]))
    for cid, name in rest:
        base = display_name(name)
        candidate, n = base, 2
        while fold(candidate) in used or fold(candidate) in linked_names:
            candidate, n = suffixed(base, n), n + 1
        names[cid] = candidate
        used.add(fold(candidate))

    by_name: dict[str, QBOCustomer] = {}
    for c in qbo:
        if c.id not in linked_ids and not c.job:
            by_name.setdefault(fold(c.display_name), c)
    out = []
    for cid, name, email in clients:
        shown = names[cid]
        renamed = _renamed(name, shown)
        if cid in links:
            decided = decisions.get(cid)
            out.append(Identity(cid, name, shown, "linked", links[cid][0], decided[3] if decided else None,
                                renamed=renamed))
        elif cid in decisions and decisions[cid][0] == "new":
            out.append(Identity(cid, name, shown, "new", None, decisions[cid][3], renamed=renamed))
        elif fold(shown) in by_name:
            match = by_name[fold(shown)]
            out.append(Identity(cid, name, shown, "proposed", None, None,
                                proposal=_proposal(cid, name, email, match, currency), renamed=renamed))
        else:
            out.append(Identity(cid, name, shown, "will_create", renamed=renamed))
    return out


def _proposal(cid: int, name: str, email: str | None, match: QBOCustomer, currency: str) -> Proposal:
    why: list[Why] = ["same_display_name" if match.display_name == name else "same_after_qbo_rules"]
    if email and match.email:
        why.append("same_email" if fold(email.strip()) == fold(match.email.strip()) else "different_email")
    if not match.active:
        why.append("inactive_in_qbo")
    return Proposal(cid, name, email, match, currency, tuple(why))


def why_text(why: tuple[Why, ...]) -> str:
    return "; ".join(WHY_TEXT[w] for w in why)


# -- what the sync asks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerPlan:
    """For the clients a sync needs: who is linked, what to create (with which name), who waits and why."""

    linked: dict  # client id -> QBO customer id
    create: dict  # client id -> display name
    waiting: dict  # client id -> CustomerUnconfirmed


def plan(db: sqlite_utils.Database, currency: str, client_ids, live: dict[str, dict]) -> CustomerPlan:
    """Decide the customers of `client_ids`. `live` holds what QBO answered just now for the display names
    (folded name -> customer JSON): a customer seen there and not linked is a proposal, even when the cache
    was stale; it is remembered in the cache so that `customers list` shows it."""
    for obj in live.values():
        remember_customer(db, obj)
    wanted = set(client_ids)
    linked, create, waiting = {}, {}, {}
    for ident in identities(db, currency):
        if ident.client_id not in wanted:
            continue
        if ident.state == "linked":
            linked[ident.client_id] = ident.qbo_id
        elif ident.proposal is not None:  # state "proposed"
            c = ident.proposal.customer
            waiting[ident.client_id] = CustomerUnconfirmed(ident.client_id, ident.client_name, c.id, c.display_name,
                                                           c.active)
        else:
            create[ident.client_id] = ident.display_name
    return CustomerPlan(linked, create, waiting)


def names_to_query(db: sqlite_utils.Database, currency: str, client_ids) -> dict[int, str]:
    """The display names to look up in QBO before creating customers for these clients (linked clients and known
    proposals need none)."""
    wanted = set(client_ids)
    return {i.client_id: i.display_name for i in identities(db, currency)
            if i.client_id in wanted and i.state in ("will_create", "new")}


QUERY_NAMES = 40  # display names per query


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


async def ensure(db: sqlite_utils.Database, currency: str, client_ids, query_customers) -> CustomerPlan:
    """What the sync does before sending the documents of `client_ids`: look up in QBO the display names it
    would create (`query_customers(where)` -> customers; none for linked clients or known proposals), then
    `plan`. A client already waiting for the admin costs no read."""
    names = names_to_query(db, currency, client_ids)
    live: dict[str, dict] = {}
    wanted = sorted(set(names.values()))
    for start in range(0, len(wanted), QUERY_NAMES):
        chunk = wanted[start:start + QUERY_NAMES]
        for obj in await query_customers(f"DisplayName IN ({', '.join(_quoted(n) for n in chunk)})"):
            live.setdefault(fold(obj.get("DisplayName", "")), obj)
    with db.atomic():
        return plan(db, currency, client_ids, live)
