"""Customer identity for the TUI and the CLI: every client as QBO knows it, the proposals waiting for the admin,
and the admin's decisions (link to an existing QBO customer, or a new one). See core.qbo.customers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import Conflict, NotFound, ValidationError
from core.ledger.base import audit, currency, now, require_role, writes
from core.qbo import customers as C
from core.qbo.customers import CustomerUnconfirmed, Identity, Proposal, QBOCustomer, why_text

if TYPE_CHECKING:
    from core.services.context import Firm

__all__ = ["CustomerUnconfirmed", "Identity", "Proposal", "QBOCustomer", "why_text", "list_customers",
           "proposals", "link_customer", "new_customer", "new_name", "find_client", "find_qbo_customer",
           "client_of_document", "client_email", "choices", "Choice", "currency_of", "matters_as_jobs",
           "set_matters_as_jobs", "jobs"]


def list_customers(firm: "Firm") -> list[Identity]:
    return C.identities(firm.db, currency(firm))


def proposals(firm: "Firm") -> list[Proposal]:
    """The QBO customers that share a client's display name and wait for the admin's decision."""
    return [i.proposal for i in list_customers(firm) if i.proposal]


def find_client(firm: "Firm", ref: str | int) -> tuple[int, str]:
    """A client by id or exact name."""
    text = str(ref).strip()
    row = firm.db.execute("SELECT id, name FROM contacts WHERE kind = 'client' AND name = ?", [text]).fetchone()
    if row is None and text.isdigit():
        row = firm.db.execute("SELECT id, name FROM contacts WHERE kind = 'client' AND id = ?", [int(text)]).fetchone()
    if row is None:
        raise NotFound(f"There is no client {text!r} (give its id or exact name; `ledgerlink customers list` "
                       "shows them)")
    return row[0], row[1]


def find_qbo_customer(firm: "Firm", ref: str) -> QBOCustomer:
    """A QBO customer of the reference cache by id or exact display name."""
    text = str(ref).strip()
    found = [c for c in C.cached_customers(firm.db, currency(firm)) if c.id == text or c.display_name == text]
    if not found:
        raise NotFound(f"QuickBooks has no customer {text!r} in the reference data: run `ledgerlink pull` to "
                       "refresh it, then `ledgerlink customers list`")
    by_id = [c for c in found if c.id == text]
    return (by_id or found)[0]


def _owner(firm: "Firm", qbo_id: str) -> tuple[int, str] | None:
    row = firm.db.execute(
        "SELECT c.id, c.name FROM contacts c WHERE c.id IN (SELECT client_id FROM sync_customers WHERE qbo_id = ? "
        "UNION SELECT client_id FROM customer_decisions WHERE qbo_id = ?)", [qbo_id, qbo_id]).fetchone()
    return (row[0], row[1]) if row else None


def _linked_to(firm: "Firm", client_id: int) -> str | None:
    row = firm.db.execute("SELECT qbo_id FROM sync_customers WHERE client_id = ? AND qbo_id IS NOT NULL",
                          [client_id]).fetchone()
    return row[0] if row else None


def _requeue_client(firm: "Firm", client_id: int) -> None:
    """The client's documents that waited for this decision go with the next sync."""
    from core.qbo import backoff

    backoff.clear(firm.db, f"customer:{client_id}")
    for table, doc_type in (("invoices", "invoice"), ("payments", "payment"), ("credit_notes", "credit_note")):
        firm.db.execute(
            f"UPDATE sync_queue SET state = 'queued', next_attempt_at = NULL, updated_at = ? WHERE state = 'parked' "
            f"AND doc_type = ? AND doc_id IN (SELECT id FROM {table} WHERE client_id = ?)", [now(), doc_type, client_id])


@writes
def link_customer(firm: "Firm", client_ref: str | int, qbo_ref: str) -> Identity:
    """Link a client to an existing QBO customer (admin only, audit-logged); one client per QBO customer."""
    require_role(firm, "admin", "link clients to QuickBooks customers")
    client_id, client_name = find_client(firm, client_ref)
    customer = find_qbo_customer(firm, qbo_ref)
    owner = _owner(firm, customer.id)
    if owner and owner[0] != client_id:
        raise Conflict(f"The QuickBooks customer {customer.display_name} (id {customer.id}) is already the client "
                       f"{owner[1]}'s; one QuickBooks customer serves one client: choose another customer, or "
                       f"give {client_name} a new one (ledgerlink customers new {client_id})")
    current = _linked_to(firm, client_id)
    if current and current != customer.id:
        raise Conflict(f"{client_name} is already linked to the QuickBooks customer id {current}; its documents "
                       "in QuickBooks are on that customer, so the link is not changed")
    if not customer.active:
        raise Conflict(f"The QuickBooks customer {customer.display_name} is inactive: make it active again in "
                       "QuickBooks, run `ledgerlink pull`, then link")
    if customer.job:
        raise ValidationError(f"{customer.display_name} is a sub-customer (a job) in QuickBooks; link the client "
                              "to a top-level customer")
    with firm.db.atomic():
        firm.db.execute(
            "INSERT INTO customer_decisions (client_id, decision, qbo_id, display_name, decided_by, decided_at) "
            "VALUES (?, 'link', ?, ?, ?, ?) ON CONFLICT(client_id) DO UPDATE SET decision = 'link', "
            "qbo_id = excluded.qbo_id, display_name = excluded.display_name, decided_by = excluded.decided_by, "
            "decided_at = excluded.decided_at",
            [client_id, customer.id, customer.display_name, firm.user, now()])
        firm.db.execute(
            "INSERT INTO sync_customers (client_id, qbo_id, display_name, generation, updated_at) VALUES (?,?,?,0,?) "
            "ON CONFLICT(client_id) DO UPDATE SET qbo_id = excluded.qbo_id, display_name = excluded.display_name, "
            "updated_at = excluded.updated_at", [client_id, customer.id, customer.display_name, now()])
        _requeue_client(firm, client_id)
        audit(firm, "link_customer", "client", client_id, f"{client_name} -> QBO customer {customer.id} "
              f"{customer.display_name}")
    return next(i for i in list_customers(firm) if i.client_id == client_id)


def new_name(firm: "Firm", client_ref: str | int, name: str | None = None) -> str:
    """The display name `new_customer` would give the client now (nothing is written): for a confirmation."""
    client_id, client_name = find_client(firm, client_ref)
    return _new_name(firm, client_id, client_name, name)


def _new_name(firm: "Firm", client_id: int, client_name: str, name: str | None) -> str:
    base = C.display_name(name if name else client_name)
    if not base:
        raise ValidationError("name: a QuickBooks display name cannot be empty")
    taken = {C.fold(c.display_name) for c in C.cached_customers(firm.db, currency(firm))}
    taken |= {C.fold(i.display_name) for i in list_customers(firm) if i.client_id != client_id}
    if name and C.fold(base) in taken:
        raise Conflict(f"The name {base} is taken in QuickBooks or by another client: choose another")
    shown, n = base, 2
    while C.fold(shown) in taken:
        shown, n = C.suffixed(base, n), n + 1
    return shown


@writes
def new_customer(firm: "Firm", client_ref: str | int, name: str | None = None) -> Identity:
    """Give a client a new QBO customer (admin only, audit-logged), under a display name no other client or QBO
    customer uses (numbered when the plain name is taken); `name` chooses it."""
    require_role(firm, "admin", "choose QuickBooks customers for clients")
    client_id, client_name = find_client(firm, client_ref)
    if _linked_to(firm, client_id):
        raise Conflict(f"{client_name} is already linked to a QuickBooks customer; its documents are there")
    shown = _new_name(firm, client_id, client_name, name)
    with firm.db.atomic():
        firm.db.execute(
            "INSERT INTO customer_decisions (client_id, decision, qbo_id, display_name, decided_by, decided_at) "
            "VALUES (?, 'new', NULL, ?, ?, ?) ON CONFLICT(client_id) DO UPDATE SET decision = 'new', qbo_id = NULL, "
            "display_name = excluded.display_name, decided_by = excluded.decided_by, decided_at = excluded.decided_at",
            [client_id, shown, firm.user, now()])
        _requeue_client(firm, client_id)
        audit(firm, "new_customer", "client", client_id, f"{client_name} -> new QBO customer {shown}")
    return next(i for i in list_customers(firm) if i.client_id == client_id)


_DOC_TABLES = {"invoice": "invoices", "payment": "payments", "credit_note": "credit_notes"}


def client_of_document(firm: "Firm", doc_type: str, doc_id: int) -> int | None:
    """The client a queued document belongs to (the monitor opens the customer screen on it), or None."""
    table = _DOC_TABLES.get(doc_type)
    if table is None:
        return None
    row = firm.db.execute(f"SELECT client_id FROM {table} WHERE id = ?", [doc_id]).fetchone()
    return row[0] if row else None


def client_email(firm: "Firm", client_id: int) -> str | None:
    row = firm.db.execute("SELECT email FROM contacts WHERE id = ?", [client_id]).fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class Choice:
    """A QBO customer the admin may link a client to, or why not (`problem`)."""

    customer: QBOCustomer
    problem: str | None


def choices(firm: "Firm", client_id: int) -> list[Choice]:
    """Every QBO customer of the reference cache, for linking `client_id`: the ones it cannot be linked to carry
    the reason (another client's, inactive, a sub-customer), as `link_customer` would refuse them."""
    out = []
    for c in sorted(C.cached_customers(firm.db, currency(firm)), key=lambda c: C.fold(c.display_name)):
        owner = _owner(firm, c.id)
        problem = None
        if owner and owner[0] != client_id:
            problem = f"already the client {owner[1]}'s customer"
        elif not c.active:
            problem = "inactive in QuickBooks"
        elif c.job:
            problem = "a sub-customer (job)"
        out.append(Choice(c, problem))
    return out


def currency_of(firm: "Firm") -> str:
    return currency(firm)


async def refresh_customers_async(firm: "Firm") -> int:
    """Read QBO's customers into the reference cache (paged queries: metered reads), so that the admin picks from
    what QuickBooks holds now; returns how many were read."""
    from core.qbo.connect import open_client

    require_role(firm, "bookkeeper", "read the QuickBooks customers")
    client = await open_client(firm)
    try:
        found = await client.query_all("Customer")
    finally:
        await client.aclose()
    with firm.db.atomic():
        for obj in found:
            C.remember_customer(firm.db, obj)
    return len(found)


def refresh_customers(firm: "Firm") -> int:
    import asyncio

    return asyncio.run(refresh_customers_async(firm))


def matters_as_jobs(firm: "Firm") -> bool:
    """The firm setting: each matter's documents go to a QBO sub-customer of the client's customer (core.qbo.jobs)."""
    from core.qbo import jobs

    return jobs.enabled(firm.db)


@writes
def set_matters_as_jobs(firm: "Firm", on: bool) -> bool:
    """Switch matters as QBO sub-customers on or off (admin only, audit-logged). Refused while any invoice,
    payment or credit note is in QuickBooks: those stay on the customer they were sent to, and a firm would get
    a matter's old documents on the client and its new ones on the job (and payments that cannot link both)."""
    require_role(firm, "admin", "change how matters go to QuickBooks")
    if matters_as_jobs(firm) == on:
        return on
    synced = firm.db.execute(
        "SELECT count(*) FROM sync_links WHERE qbo_id IS NOT NULL AND doc_type IN ('invoice','payment','credit_note')"
    ).fetchone()[0]
    if synced:
        raise Conflict(
            f"matters_as_jobs: {synced} document(s) are already in QuickBooks on their client's customer; matters "
            f"as sub-customers can only be switched {'on' if on else 'off'} before the first document is synced "
            "(documents in QuickBooks never move to another customer). Keep the setting, or start from a firm "
            "connected to a new QuickBooks company")
    with firm.db.atomic():
        firm.db.execute("UPDATE firm SET matters_as_jobs = ? WHERE id = 1", [int(on)])
        audit(firm, "matters_as_jobs", "firm", 1, "on" if on else "off")
    return on


def jobs(firm: "Firm") -> list[dict]:
    """Each matter's QBO sub-customer: {"matter_id", "client_id", "reference", "name", "display_name", "qbo_id"}."""
    from core.qbo import jobs as J

    return J.jobs_of(firm.db)
