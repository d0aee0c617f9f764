"""Trust accounting for the TUI and the CLI: names resolved to ids, moves posted, ledgers and reconciliations
read. Every function takes the firm and plain values and returns records of core.ledger.trust_models (or
core.ledger.trust_reconcile); errors are core.errors with messages naming the field, row and column."""

from __future__ import annotations

import datetime as dt
import difflib

from core.errors import NotFound, ValidationError
from core.ledger import billing, queries, trust as T
from core.ledger.base import firm_row, parse_date, transaction
from core.ledger.trust_models import AccountTotal, ClientLedgers, LedgerBalance, LedgerEntry, TrustTransaction

__all__ = ["receive", "disburse", "refund", "transfer", "pay", "reverse", "ledger", "resolve_client",
           "resolve_matter", "resolve_trust_account", "trust_accounts", "list_transactions", "import_statement",
           "statement", "auto_match", "match", "unmatch", "mark_outstanding", "reconcile", "export_reconciliation"]


def _today() -> str:
    return dt.date.today().isoformat()


def _hint(text: str, names: list[str]) -> str:
    close = difflib.get_close_matches(text, names, n=1, cutoff=0.6)
    return f": did you mean '{close[0]}'?" if close else ""


def resolve_client(firm, text) -> int:
    """A client by id or by name (case-insensitive)."""
    clients = queries.list_clients(firm)
    raw = str(text).strip()
    for c in clients:
        if c.name.casefold() == raw.casefold() or (raw.isdigit() and c.id == int(raw)):
            return c.id
    raise NotFound(f"client: there is no client '{raw}'" + _hint(raw, [c.name for c in clients]))


def resolve_matter(firm, reference, client_id: int) -> int | None:
    if reference is None or not str(reference).strip():
        return None
    raw = str(reference).strip()
    matters = queries.list_matters(firm)
    found = next((m for m in matters if m.reference.casefold() == raw.casefold()), None)
    if found is None:
        raise NotFound(f"matter: there is no matter '{raw}'" + _hint(raw, [m.reference for m in matters]))
    if found.client_id != client_id:
        owner = queries.get_client(firm, found.client_id).name
        raise ValidationError(f"matter: matter {found.reference} belongs to {owner}, not to this client")
    return found.id


def resolve_bank(firm, text, kind: str, option: str = "--account") -> int:
    """A bank account by its name (any case) or id, or by its GL account's code or name."""
    banks = queries.list_bank_accounts(firm)
    raw = str(text).strip()
    found = next((b for b in banks if b.name.casefold() == raw.casefold()), None)
    if found is None and raw.isdigit():
        found = next((b for b in banks if b.id == int(raw)), None)
    if found is None:
        gl = {a.id: a for a in queries.list_accounts(firm)}
        found = next((b for b in banks if b.gl_account_id in gl and raw.casefold() in (
            gl[b.gl_account_id].code.casefold(), gl[b.gl_account_id].name.casefold())), None)
    wanted = [b.name for b in banks if b.kind == kind]
    if found is None:
        raise NotFound(f"{option}: there is no bank account '{raw}'" + (_hint(raw, [b.name for b in banks]) or (
            f"; the {kind} accounts are: {', '.join(wanted)}" if wanted else "")))
    if found.kind != kind:
        other = "an operating" if found.kind == "operating" else "a trust"
        use = "client money goes through a trust bank account" if kind == "trust" else \
            "the firm's fees are deposited to an operating account"
        raise ValidationError(f"{option}: {found.name} is {other} account; {use}"
                              + (f" ({', '.join(wanted)})" if wanted else ""))
    return found.id


def resolve_trust_account(firm, text, option: str = "--account") -> int:
    return resolve_bank(firm, text, "trust", option)


def trust_accounts(firm) -> list:
    return queries.list_bank_accounts(firm, "trust")


def list_transactions(firm, client_id: int | None = None, *,
                      bank_account_id: int | None = None) -> list[TrustTransaction]:
    """Trust documents by date, of one client and/or touching one trust account (either side of a transfer)."""
    return T.list_trust_transactions(firm, client_id, bank_account_id=bank_account_id)


def _day(date) -> str:
    return parse_date(date) if date else _today()


def receive(firm, client, amount, account, *, matter=None, date=None, reference=None, memo="") -> TrustTransaction:
    with transaction(firm):
        cid = resolve_client(firm, client)
        return T.trust_receipt(firm, client_id=cid, amount=amount, date=_day(date),
                               matter_id=resolve_matter(firm, matter, cid),
                               bank_account_id=resolve_trust_account(firm, account), reference=reference, memo=memo)


def disburse(firm, client, amount, account, *, payee=None, matter=None, date=None, reference=None,
             memo="") -> TrustTransaction:
    """Money paid out of trust to a third party; the payee is recorded when given."""
    payee = str(payee).strip() if payee and str(payee).strip() else None
    with transaction(firm):
        cid = resolve_client(firm, client)
        return T.trust_disbursement(firm, client_id=cid, amount=amount, date=_day(date),
                                    matter_id=resolve_matter(firm, matter, cid),
                                    bank_account_id=resolve_trust_account(firm, account), payee=payee,
                                    reference=reference, memo=memo)


def refund(firm, client, amount, account, *, matter=None, date=None, reference=None, memo="") -> TrustTransaction:
    with transaction(firm):
        cid = resolve_client(firm, client)
        return T.trust_refund(firm, client_id=cid, amount=amount, date=_day(date),
                              matter_id=resolve_matter(firm, matter, cid),
                              bank_account_id=resolve_trust_account(firm, account), reference=reference, memo=memo)


def transfer(firm, client, amount, from_account, to_account, *, matter=None, date=None, reference=None,
             memo="") -> TrustTransaction:
    with transaction(firm):
        cid = resolve_client(firm, client)
        return T.trust_transfer(firm, client_id=cid, amount=amount, date=_day(date),
                                from_account_id=resolve_trust_account(firm, from_account, "--from"),
                                to_account_id=resolve_trust_account(firm, to_account, "--to"),
                                matter_id=resolve_matter(firm, matter, cid), reference=reference, memo=memo)


def pay(firm, invoice, amount, account, *, operating=None, matter=None, date=None, reference=None):
    """Pay one of the firm's invoices from the client's trust money in `account`: the payment is deposited to
    the operating account and the money leaves trust in the same journal entry."""
    with transaction(firm):
        raw = str(invoice).strip()
        invoices = queries.list_invoices(firm)
        inv = next((i for i in invoices if i.number.casefold() == raw.casefold()), None)
        if inv is None:
            raise NotFound(f"invoice: there is no invoice '{raw}'" + _hint(raw, [i.number for i in invoices]))
        if inv.status != "posted":
            raise ValidationError(f"invoice: {inv.number} was deleted")
        trust_id = resolve_trust_account(firm, account)
        if operating is None:
            ops = queries.list_bank_accounts(firm, "operating")
            if not ops:
                raise ValidationError("The firm has no operating bank account to deposit the payment to: add one in "
                                      "Setup › Bank accounts")
            op_id = ops[0].id
        else:
            op_id = resolve_bank(firm, operating, "operating", "--operating")
        T.positive_money(amount, firm_row(firm)["currency"])
        spec = dict(client_id=inv.client_id, date=_day(date), amount=amount, bank_account_id=op_id,
                    allocations=[(inv.id, amount)], from_trust=True, trust_bank_account_id=trust_id,
                    reference=reference)
        if matter is not None:
            spec["trust_matter_id"] = resolve_matter(firm, matter, inv.client_id)
        pid = billing.post_payments(firm, [spec])[0]
        return queries.get_payment(firm, pid)


def reverse(firm, transaction_id: int, *, reason: str, date=None) -> TrustTransaction:
    return T.reverse_trust(firm, transaction_id, reason=reason, date=date)


def ledger(firm, client=None, matter=None) -> ClientLedgers:
    """Client ledgers by client, matter and account (non-zero ones), the book balance and client total of each
    trust account, and, for one client, every posting to its ledgers."""
    cur = firm_row(firm)["currency"]
    cid = resolve_client(firm, client) if client is not None else None
    mid = resolve_matter(firm, matter, cid) if matter is not None and cid is not None else None
    if matter is not None and cid is None:
        raise ValidationError("--matter: give the CLIENT too (a matter belongs to one client)")
    names = {c.id: c.name for c in queries.list_clients(firm)}
    matters = {m.id: m for m in queries.list_matters(firm)}
    banks = {b.id: b.name for b in trust_accounts(firm)}
    all_l = T.all_ledgers(firm)
    rows = []
    for (c, m, b), v in all_l.items():
        if not v or (cid is not None and c != cid) or (mid is not None and m != mid):
            continue
        mm = matters.get(m) if m is not None else None
        rows.append(LedgerBalance(c, names.get(c, str(c)), m, mm.reference if mm else None, mm.name if mm else None,
                                  b, banks.get(b, str(b)), v))
    rows.sort(key=lambda r: (r.client_name, r.matter_reference or "", r.bank_account_name))
    totals = tuple(AccountTotal(b, name, T.book_balance(firm, b),
                                sum(v for (c, m, bb), v in all_l.items() if bb == b)) for b, name in banks.items())
    entries: tuple = ()
    if cid is not None:
        sql = ("SELECT e.id, e.date, e.doc_type, e.doc_id, e.kind, e.memo, l.client_id, l.matter_id, b.id, "
               "l.amount_minor FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id JOIN bank_accounts b "
               "ON b.gl_account_id = l.account_id WHERE b.kind = 'trust' AND l.client_id = ?")
        params: list = [cid]
        if mid is not None:
            sql += " AND l.matter_id = ?"
            params.append(mid)
        entries = tuple(LedgerEntry(*r) for r in firm.db.execute(sql + " ORDER BY e.date, e.id, l.id", params))
    return ClientLedgers(cur, tuple(rows), totals, entries)


# --- statements and reconciliation ---------------------------------------------------------------------

def import_statement(firm, account, path):
    """Import a statement CSV into a trust account (all or nothing) and match it automatically."""
    from core.ledger import trust_statement as ST

    return ST.import_statement(firm, resolve_trust_account(firm, account), path)


def statement(firm, account) -> tuple[list, list]:
    """(statement lines, ledger items) of a trust account, for the matching view."""
    from core.ledger import trust_statement as ST

    bid = resolve_trust_account(firm, account)
    return ST.statement_lines(firm, bid), ST.ledger_items(firm, bid)


def auto_match(firm, account) -> int:
    from core.ledger import trust_statement as ST

    return ST.auto_match(firm, resolve_trust_account(firm, account))


def match(firm, account, line_id: int, entry_id: int) -> None:
    from core.ledger import trust_statement as ST

    ST.match(firm, resolve_trust_account(firm, account), line_id, entry_id)


def unmatch(firm, account, line_id: int) -> None:
    from core.ledger import trust_statement as ST

    ST.unmatch(firm, resolve_trust_account(firm, account), line_id)


def mark_outstanding(firm, account, entry_id: int) -> None:
    from core.ledger import trust_statement as ST

    ST.mark_outstanding(firm, resolve_trust_account(firm, account), entry_id)


def reconcile(firm, account, as_of, *, save: bool = True):
    """The three-way reconciliation of a trust account as of a date (core.ledger.trust_reconcile.Reconciliation);
    a balanced one is saved and locks its period."""
    from core.ledger import trust_reconcile as R

    return R.reconcile(firm, resolve_trust_account(firm, account), parse_date(as_of, "--as-of"), save=save)


def export_reconciliation(rec, directory) -> list:
    from core.ledger import trust_reconcile as R

    try:
        return R.export(rec, directory)
    except OSError as exc:
        raise ValidationError(f"--export: cannot write into {directory} ({exc.strerror or exc})") from None


def held_by(firm, client_id: int, bank_account_id: int) -> dict:
    """What a client holds in one trust account, per matter (None: held without a matter)."""
    return T.ledgers_of(firm, client_id, bank_account_id)


def locked_until(firm, bank_account_id: int):
    """The date up to which a saved reconciliation locks the account (None: nothing locked)."""
    return T.locked_until(firm, bank_account_id)


def render_difference(difference, currency: str) -> str:
    """One difference of a three-way reconciliation as a sentence."""
    from core.ledger.trust_reconcile import render

    return render(difference, currency)


def currency_of(firm) -> str:
    """The firm's home currency code."""
    from core.ledger.base import currency

    return currency(firm)
