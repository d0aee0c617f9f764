"""The ledger's service API for the TUI, the CLI and the sync engine (see core.ledger.models).

Reads return frozen dataclasses. Writes validate first, run in one transaction with their journal
entries, audit row and sync-queue row, and raise core.errors (ValidationError with .problems,
NotFound, Conflict, PermissionDenied) with messages written for the user. Amounts are given as
strings, Decimal or int (whole currency units) and stored as integer minor units.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.ledger.adjustments import record_tax_adjustment
from core.ledger.credit import apply_credit
from core.ledger.billing import (
    create_invoice,
    delete_credit_note,
    delete_invoice,
    delete_payment,
    edit_credit_note,
    edit_invoice,
    edit_payment,
    issue_credit_note,
    post_invoices,
    post_payments,
    record_payment,
)
from core.ledger.trust import trust_disbursement, trust_receipt
from core.ledger.firm import (
    FEATURE_PREVIEWS,
    add_account,
    add_bank_account,
    add_client,
    add_contact,
    add_matter,
    add_tax_rate,
    apply_chart_template,
    create_firm,
    grant_role,
    preview_chart_template,
    set_account_active,
    set_accounting_method,
    set_accounting_system,
    set_feature_preview,
    set_fiscal_year_start,
    set_no_client_money,
)
from core.ledger.queries import (
    account_balance,
    aging,
    client_credit,
    client_credits,
    firm_exists,
    get_account,
    get_account_by_code,
    get_bank_account,
    get_client,
    get_contact,
    get_credit_note,
    get_firm_info,
    get_invoice,
    invoice_tax_lines,
    get_matter,
    get_payment,
    get_tax_rate,
    list_accounts,
    list_audit,
    list_bank_accounts,
    list_clients,
    list_contacts,
    list_credit_notes,
    list_invoices,
    list_matters,
    list_payments,
    list_tax_rates,
    list_trust_transactions,
    list_users,
    trial_balance,
    trust_ledger,
)
from core.ledger.base import parse_day
from core.ledger.models import AGING_BUCKETS
from core.ledger.templates import COUNTRIES

__all__ = [
    "AGING_BUCKETS", "COUNTRIES", "FEATURE_PREVIEWS", "build_demo", "import_csv", "parse_day",
    "account_balance", "add_account", "add_bank_account", "add_client", "add_contact", "add_matter", "add_tax_rate",
    "aging", "apply_chart_template", "apply_credit", "client_credit", "client_credits", "create_firm",
    "create_invoice", "delete_credit_note", "delete_invoice", "edit_client", "edit_matter", "find_credit_note",
    "find_payment",
    "delete_payment", "edit_credit_note", "edit_invoice", "edit_payment", "firm_exists", "get_account",
    "get_account_by_code", "get_bank_account", "get_client", "get_contact", "get_credit_note", "get_firm_info",
    "get_invoice", "get_matter", "get_payment", "get_tax_rate", "grant_role", "invoice_tax_lines",
    "issue_credit_note", "list_accounts",
    "list_audit", "list_bank_accounts", "list_clients", "list_contacts", "list_credit_notes", "list_invoices",
    "list_matters", "list_payments", "list_tax_rates", "list_trust_transactions", "list_users", "post_invoices",
    "post_payments", "preview_chart_template", "record_payment", "record_tax_adjustment", "set_account_active",
    "set_accounting_method",
    "set_accounting_system", "set_feature_preview", "set_fiscal_year_start", "set_no_client_money",
    "trial_balance", "trust_disbursement", "trust_ledger", "trust_receipt",
]


@dataclass(frozen=True)
class InvoiceCheck:
    problems: list[str]
    """What create_invoice would refuse, in the ledger's words."""
    net_minor: int
    tax_minor: int
    total_minor: int
    priced_lines: int
    """How many lines went into the totals (a line with a problem does not)."""
    by_rate: tuple[tuple[int, int, int], ...] = ()
    """(tax rate id, net, tax) per rate of the priced lines, in the order the rates first appear."""
    due_date: str = ""
    """The due date the invoice would get (30 days after its date when none is given)."""


def check_invoice(firm, *, lines: list[dict], client_id=None, date=None, matter_id=None,
                  due_date=None) -> InvoiceCheck:
    """A draft invoice checked as create_invoice would check it, with the totals of its lines that are valid so
    far, rounded as it posts them; nothing is written. (For the TUI's line entry, checked as the bookkeeper types.)"""
    from core.ledger.billing import _Ctx, _draft_invoice

    problems: list[str] = []
    spec = dict(client_id=client_id, matter_id=matter_id, date=date, due_date=due_date, number=None, lines=lines)
    draft = _draft_invoice(_Ctx(firm), spec, problems)
    net = sum(line.amount_minor for line in draft.lines)
    tax = sum(line.tax_minor for line in draft.lines)
    rates: dict[int, list[int]] = {}
    for line in draft.lines:
        rate = rates.setdefault(line.tax_rate_id, [0, 0])
        rate[0] += line.amount_minor
        rate[1] += line.tax_minor
    return InvoiceCheck(problems, net, tax, net + tax, len(draft.lines),
                        tuple((r, n, t) for r, (n, t) in rates.items()), draft.due_date)


def add_bank_account_at(firm, *, kind: str, name: str, account_code: str, bank_name: str):
    """A bank account by the GL account's code and the bank's name (its bank contact is added when new),
    in one transaction: a refused account leaves no stray bank contact. (Added for `ledgerlink setup bank`.)"""
    from core.ledger.base import transaction

    with transaction(firm):
        account = get_account_by_code(firm, account_code)
        bank_name = (bank_name or "").strip()
        bank = next((c for c in list_contacts(firm, "bank") if c.name == bank_name), None)
        if bank is None:
            bank = add_contact(firm, bank_name, "bank")
        return add_bank_account(firm, name=name, kind=kind, bank_contact_id=bank.id, gl_account_id=account.id)


def build_demo(settings, **options):
    """`ledgerlink demo`: a firm of realistic, deterministic demo data (core.ledger.demo.build_demo)."""
    from core.ledger.demo import build_demo as _build_demo

    return _build_demo(settings, **options)


def import_csv(firm, kind: str, path) -> int:
    """`ledgerlink import KIND FILE`: all rows or none (core.ledger.importer.import_csv)."""
    from core.ledger.importer import import_csv as _import_csv

    return _import_csv(firm, kind, path)


def find_payment(firm, key: str):
    """A posted payment by its id or its reference (for `ledgerlink payment edit|delete`)."""
    from core.errors import NotFound, ValidationError

    key = (key or "").strip()
    posted = [p for p in list_payments(firm, status="posted")]
    found = [p for p in posted if str(p.id) == key] or [p for p in posted if p.reference and p.reference == key]
    if len(found) > 1:
        raise ValidationError(f"payment: {len(found)} payments have the reference {key}: give the id "
                              f"({', '.join(str(p.id) for p in found)})")
    if not found:
        raise NotFound(f"payment: there is no posted payment with the id or reference {key}: "
                       "`ledgerlink payment list` shows them")
    return found[0]


def find_credit_note(firm, key: str):
    """A posted credit note or write-off by its number (CR-00001, WO-00001) or its id."""
    from core.errors import NotFound

    key = (key or "").strip()
    posted = list_credit_notes(firm, status="posted")
    found = next((n for n in posted if n.number == key), None) or next((n for n in posted if str(n.id) == key), None)
    if found is None:
        raise NotFound(f"credit note: there is no posted credit note or write-off {key}: "
                       "`ledgerlink credit list` shows them")
    return found


def edit_client(firm, client_id: int, *, name: str, email: str | None = None, phone: str | None = None,
                address: str | None = None):
    """A client's name and details (e-mail, phone, address); empty details are cleared."""
    from core.errors import Conflict, ValidationError
    from core.ledger.base import audit, get_row, require_role, transaction

    with transaction(firm):
        require_role(firm, "bookkeeper", "edit clients")
        row = get_row(firm, "contacts", client_id, "client")
        if row["kind"] != "client":
            raise ValidationError(f"{row['name']} is a {row['kind']} contact, not a client")
        name = (name or "").strip()
        if not name:
            raise ValidationError("name: a client needs a name")
        email = (email or "").strip() or None
        if email and ("@" not in email or " " in email):
            raise ValidationError(f"e-mail: '{email}' is not an e-mail address")
        if firm.db.execute("SELECT 1 FROM contacts WHERE kind = 'client' AND name = ? AND id != ?",
                           [name, client_id]).fetchone():
            raise Conflict(f"There is already a client named '{name}'")
        firm.db.execute("UPDATE contacts SET name = ?, email = ?, phone = ?, address = ? WHERE id = ?",
                        [name, email, (phone or "").strip() or None, (address or "").strip() or None, client_id])
        audit(firm, "edit_contact", "contact", client_id, f"client: {name}")
    return get_client(firm, client_id)


def edit_matter(firm, matter_id: int, *, name: str | None = None, open_: bool | None = None):
    """Rename a matter, or open or close it (a closed matter is not offered for new invoices; its documents stay)."""
    from core.errors import ValidationError
    from core.ledger.base import audit, get_row, require_role, transaction

    with transaction(firm):
        require_role(firm, "bookkeeper", "change matters")
        row = get_row(firm, "matters", matter_id, "matter")
        new_name = row["name"] if name is None else (name or "").strip()
        if not new_name:
            raise ValidationError("name: a matter needs a name")
        is_open = bool(row["open"]) if open_ is None else bool(open_)
        firm.db.execute("UPDATE matters SET name = ?, open = ? WHERE id = ?", [new_name, int(is_open), matter_id])
        audit(firm, "edit_matter", "matter", matter_id,
              f"{row['reference']} {new_name} {'open' if is_open else 'closed'}")
    return get_matter(firm, matter_id)
