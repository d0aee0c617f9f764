"""The write-off guided fix: a QBO product/service for each ledger bad-debt account, made from Ledgerlink.

A write-off goes to QBO as a CreditMemo whose line needs an Item; QBO posts that line to the Item's
IncomeAccountRef, so the Item must point at the QBO account the bad-debt account is GL-mapped to
(core.services.sync._writeoff_items finds it). Without one the write-off is parked; these services say
what is missing and create the Item, so nobody needs QBO's web UI.

    writeoff_fixes(firm) -> list[WriteoffFix]
    writeoff_fix_for(firm, doc_type, doc_id) -> WriteoffFix | None
    await create_writeoff_item_async(firm, account_id, name=None, app=None) -> WriteoffItem
    create_writeoff_item(firm, account_id, name=None, app=None) -> WriteoffItem
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

from core.errors import AuthError, PermanentError, ValidationError
from core.ledger.base import require_role
from core.qbo import payloads as P
from core.services import wiring  # noqa: F401  (QBO's client learns how to start the built-in sandbox)

__all__ = ["DEFAULT_ITEM_NAME", "WriteoffFix", "WriteoffItem", "create_writeoff_item",
           "create_writeoff_item_async", "writeoff_fix_for", "writeoff_fixes"]

DEFAULT_ITEM_NAME = "Bad debt written off"
WRITEOFF_CODES = ("writeoff_no_item", "writeoff_no_gl")  # the park reasons this fix clears (core.qbo.reasons)
MAX_ITEM_NAME = 100  # QBO's Item.Name limit
DUPLICATE_NAME = "6240"
NOT_CONNECTED = "Connect to QuickBooks first: open Connect in Ledgerlink or run `ledgerlink connect`"


@dataclass(frozen=True)
class WriteoffFix:
    """One ledger bad-debt account and what write-offs to it need in QBO."""

    account_id: int
    account_label: str  # e.g. "6900 Bad debts"
    gl_status: str  # 'mapped', 'unmapped', 'inactive' or 'gone' (the GL account map's status)
    qbo_account_id: str | None  # the QBO account it is GL-mapped to
    qbo_account_name: str | None
    item_id: str | None  # the QBO product/service write-offs use (None: none yet)
    item_name: str | None
    parked: int  # write-offs parked until this is fixed
    can_create: bool  # create_writeoff_item would create the product/service now
    next_step: str  # a plain sentence: what to do next

    @property
    def ready(self) -> bool:
        return self.item_id is not None

    def as_json(self) -> dict:
        return {**asdict(self), "ready": self.ready}


@dataclass(frozen=True)
class WriteoffItem:
    """What create_writeoff_item did."""

    account_id: int
    item_id: str
    item_name: str
    created: bool  # False: an item posting to that QBO account was already there
    requeued: int  # parked write-offs put back in the queue
    message: str

    def as_json(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- what is missing


def _bad_debt_accounts(firm) -> list:
    from core.ledger import queries

    return queries.list_accounts(firm, subtypes=["bad_debt"], active_only=False)


def _gl_rows(firm) -> dict:
    from core.qbo import maps

    return {row.ledger_id: row for row in maps.list_map(firm.db, "gl")}


def _items(firm) -> dict:
    """The write-off item (a P.Ref) of each GL-mapped bad-debt account, by core.services.sync's rule."""
    from core.services.sync import _writeoff_items

    gl = {row.ledger_id: P.Ref(value=row.qbo_id, name=row.qbo_name) for row in _gl_rows(firm).values()
          if row.status == "mapped"}
    return _writeoff_items(firm.db, {a.id: a for a in _bad_debt_accounts(firm)}, gl)


def _parked_for(firm, account_id: int) -> list[int]:
    """Ids of the write-offs parked because this account has no product/service in QBO."""
    rows = firm.db.execute(
        "SELECT q.doc_id FROM sync_queue q JOIN credit_notes c ON c.id = q.doc_id "
        "JOIN sync_parked p ON p.doc_type = q.doc_type AND p.doc_id = q.doc_id "
        "WHERE q.doc_type = 'credit_note' AND q.state = 'parked' AND p.code IN (?, ?) AND EXISTS ("
        "SELECT 1 FROM credit_note_lines l WHERE l.credit_note_id = c.id AND l.version = c.version "
        "AND l.account_id = ?) ORDER BY q.doc_id",
        [*WRITEOFF_CODES, account_id]).fetchall()
    return [r[0] for r in rows]


def _connected(firm) -> bool:
    from core.qbo import store

    return store.load_connection(firm.db) is not None


def _going(parked: int) -> str:
    if not parked:
        return ""
    return "the parked write-off goes" if parked == 1 else f"the {parked} parked write-offs go"


def _next_step(acc, gl, item, connected: bool, parked: int) -> str:
    label = acc.label
    waiting = f"; then {_going(parked)} with the next sync" if parked else ""
    if item is not None:
        going = f"; {_going(parked)} with the next sync" if parked else ""
        return f"Nothing to do: write-offs to {label} use the QuickBooks product/service {item.name}{going}."
    if gl is None or gl.status == "unmapped":
        return (f"Map {label} to your QuickBooks bad-debt expense account in {P.GL_MAP_WHERE.removeprefix('open ')} "
                f"(or `ledgerlink map set gl {acc.code} ACCOUNT`), then create its product/service "
                f"(`ledgerlink map writeoff --create`){waiting}.")
    if gl.status != "mapped":
        return f"{gl.message}: pick another QuickBooks account for {label} in {P.GL_MAP_WHERE.removeprefix('open ')}."
    if not connected:
        return f"{NOT_CONNECTED}, then run `ledgerlink map writeoff --create`."
    return (f"Create a QuickBooks product/service posting to {gl.qbo_name}: {P.WRITEOFF_FIX}{waiting}.")


def writeoff_fixes(firm) -> list[WriteoffFix]:
    """Per ledger bad-debt account (inactive ones only while write-offs wait on them): its GL map state,
    the QBO item write-offs use, how many write-offs are parked for want of one, and what to do next."""
    gl_rows = _gl_rows(firm)
    items = _items(firm)
    connected = _connected(firm)
    out = []
    for acc in _bad_debt_accounts(firm):
        parked = len(_parked_for(firm, acc.id))
        if not acc.active and not parked:
            continue
        gl = gl_rows.get(acc.id)
        item = items.get(acc.id)
        mapped = gl is not None and gl.status == "mapped"
        out.append(WriteoffFix(
            account_id=acc.id, account_label=acc.label, gl_status=gl.status if gl else "unmapped",
            qbo_account_id=gl.qbo_id if gl else None, qbo_account_name=gl.qbo_name if gl else None,
            item_id=item.value if item else None, item_name=item.name if item else None, parked=parked,
            can_create=connected and mapped and item is None,
            next_step=_next_step(acc, gl, item, connected, parked)))
    return out


def writeoff_fix_for(firm, doc_type: str, doc_id: int) -> WriteoffFix | None:
    """The fix a parked document waits on (the sync monitor's c key), or None when it waits on something else."""
    if doc_type != "credit_note":
        return None
    return next((f for f in writeoff_fixes(firm) if doc_id in _parked_for(firm, f.account_id)), None)


# ---------------------------------------------------------------- the fix


def _check_account(firm, account_id: int):
    from core.ledger import queries

    acc = queries.get_account(firm, account_id)
    if acc.subtype != "bad_debt":
        raise ValidationError(
            f"Account {acc.label} is not a bad-debt account: write-offs post to the bad-debt account "
            "(see `ledgerlink map writeoff`)")
    return acc


def _target(firm, acc) -> str:
    gl = _gl_rows(firm).get(acc.id)
    if gl is None or gl.status == "unmapped":
        raise ValidationError(
            f"Account {acc.label} is not mapped to a QuickBooks account: map it to your bad-debt expense account "
            f"in {P.GL_MAP_WHERE.removeprefix('open ')} (or `ledgerlink map set gl {acc.code} ACCOUNT`), then try again")
    if gl.status != "mapped":
        raise ValidationError(f"{gl.message}: pick another QuickBooks account for {acc.label} in "
                              f"{P.GL_MAP_WHERE.removeprefix('open ')}, then try again")
    return gl.qbo_id


def _taken_names(firm) -> set[str]:
    return {r[0].strip().lower() for r in firm.db.execute("SELECT name FROM qbo_items").fetchall() if r[0]}


def _free_name(base: str, taken: set[str]) -> str:
    if base.lower() not in taken:
        return base
    n = 2
    while True:
        suffix = f" ({n})"
        name = base[:MAX_ITEM_NAME - len(suffix)] + suffix
        if name.lower() not in taken:
            return name
        n += 1


def _requeue(firm, account_id: int) -> int:
    from core.qbo.sync import requeue_parked

    return sum(requeue_parked(firm.db, "credit_note", doc_id) for doc_id in _parked_for(firm, account_id))


async def create_writeoff_item_async(firm, account_id: int, name: str | None = None, app=None) -> WriteoffItem:
    """Create in QBO a Service item posting to the QBO account that bad-debt account `account_id` is
    GL-mapped to, pull it into the reference cache and put the write-offs parked for want of it back in
    the queue. Idempotent: when such an item exists (after a fresh pull) it is used and nothing is created.

    `name` defaults to DEFAULT_ITEM_NAME, numbered "(2)", "(3)"... when QBO has it; a `name` given is used
    as it is, and one QBO already has is refused. Raises ValidationError (not a bad-debt account, not
    GL-mapped), AuthError (not connected), PermanentError (QBO refused).
    """
    require_role(firm, "admin", "create a product/service in QuickBooks")
    from core.qbo.connect import open_client
    from core.services.qbo import pull_reference_async

    acc = _check_account(firm, account_id)
    if name is not None:
        name = " ".join(name.split())
        if not name or len(name) > MAX_ITEM_NAME or ":" in name:
            raise ValidationError(f"name: a QuickBooks product/service name is 1 to {MAX_ITEM_NAME} characters, "
                                  "without ':'")
    if not _connected(firm):
        raise AuthError(f"Ledgerlink is not connected to QuickBooks. {NOT_CONNECTED}, then try again.")
    target = _target(firm, acc)
    client = await open_client(firm, app)
    try:
        await pull_reference_async(firm, client=client)
        target = _target(firm, acc)  # the pull may have found the mapped account gone
        found = _items(firm).get(acc.id)
        created = found is None
        if found is None:
            found = await _create_item(firm, client, acc, target, name)
            await pull_reference_async(firm, client=client)
    finally:
        await client.aclose()
    requeued = _requeue(firm, acc.id)
    what = "Created" if created else "Found"
    message = f"{what} the QuickBooks product/service {found.name} for write-offs to {acc.label}"
    if requeued:
        message += f"; {requeued} parked write-off{'s' if requeued != 1 else ''} queued again"
    return WriteoffItem(acc.id, found.value, found.name or found.value, created, requeued, message + ".")


async def _create_item(firm, client, acc, target: str, name: str | None) -> P.Ref:
    from core.qbo import sync_store as S

    taken = _taken_names(firm)
    if name is not None and name.lower() in taken:
        raise ValidationError(f"QuickBooks already has a product/service named {name}: choose another name")
    base = name or DEFAULT_ITEM_NAME
    for _ in range(5):
        chosen = name or _free_name(base, taken)
        body = {"Name": chosen, "Type": "Service", "Description": f"Write-offs to {acc.label} (Ledgerlink)",
                "IncomeAccountRef": {"value": target}, "ExpenseAccountRef": {"value": target}}
        # The client retries a lost answer with this requestid, so QBO creates one item; a later call pulls first
        # and finds it, so each call has an id of its own.
        rid = f"{S.salt(firm.db)}-wo{acc.id}-{uuid.uuid4().hex[:12]}"
        try:
            item = await client.create("Item", body, requestid=rid)
        except PermanentError as exc:
            if exc.code == DUPLICATE_NAME and name is None:
                taken.add(chosen.lower())  # made in QBO since the last pull
                continue
            if exc.code == DUPLICATE_NAME:
                raise ValidationError(f"QuickBooks already has a product/service named {name}: choose another name")
            raise
        return P.Ref(value=str(item["Id"]), name=item.get("Name", chosen))
    raise ValidationError(f"QuickBooks has every name from {base} to {chosen}: give one with --name")


def create_writeoff_item(firm, account_id: int, name: str | None = None, app=None) -> WriteoffItem:
    """Blocking form of create_writeoff_item_async (for the CLI or a thread worker)."""
    from core.services.qbo import _run

    return _run(create_writeoff_item_async(firm, account_id, name, app))
