"""The ledger's service API for the TUI, the CLI and the sync engine (see core.ledger.models).

Reads return frozen dataclasses. Writes validate first, run in one transaction with their journal
entries, audit row and sync-queue row, and raise core.errors (ValidationError with .problems,
NotFound, Conflict, PermissionDenied) with messages written for the user. Amounts are given as
strings, Decimal or int (whole currency units) and stored as integer minor units.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    trust_disbursement,
    trust_receipt,
)
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
    firm_exists,
    get_account,
    get_account_by_code,
    get_bank_account,
    get_client,
    get_contact,
    get_credit_note,
    get_firm_info,
    get_invoice,
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
from core.ledger.templates import COUNTRIES

__all__ = [
    "COUNTRIES", "FEATURE_PREVIEWS",
    "account_balance", "add_account", "add_bank_account", "add_client", "add_contact", "add_matter", "add_tax_rate",
    "aging", "apply_chart_template", "create_firm", "create_invoice", "delete_credit_note", "delete_invoice",
    "delete_payment", "edit_credit_note", "edit_invoice", "edit_payment", "firm_exists", "get_account",
    "get_account_by_code", "get_bank_account", "get_client", "get_contact", "get_credit_note", "get_firm_info",
    "get_invoice", "get_matter", "get_payment", "get_tax_rate", "grant_role", "issue_credit_note", "list_accounts",
    "list_audit", "list_bank_accounts", "list_clients", "list_contacts", "list_credit_notes", "list_invoices",
    "list_matters", "list_payments", "list_tax_rates", "list_trust_transactions", "list_users", "post_invoices",
    "post_payments", "preview_chart_template", "record_payment", "set_account_active", "set_accounting_method",
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


def check_invoice(firm, *, lines: list[dict], client_id=None, date=None, matter_id=None,
                  due_date=None) -> InvoiceCheck:
    """A draft invoice checked as create_invoice would check it, with the totals of its lines that are valid so
    far, rounded as it posts them; nothing is written. (For the TUI's line entry, checked as the bookkeeper types.)"""
    from core.ledger.billing import _Ctx, _draft_invoice

    problems: list[str] = []
    spec = dict(client_id=client_id, matter_id=matter_id, date=date, due_date=due_date, number=None, lines=lines)
    draft = _draft_invoice(_Ctx(firm), spec, problems)
    net = sum(line[5] for line in draft.lines)
    tax = sum(line[6] for line in draft.lines)
    return InvoiceCheck(problems, net, tax, net + tax, len(draft.lines))


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
