"""Client credit on account: a payment above what the client's invoices take leaves the excess as credit
(operating money, never trust), posted as receivable of no invoice; a later invoice uses it by an allocation
from credit, which re-allocates the overpaying payment (reversal plus a new posting, queued for QBO as the same
Payment with one more line: its unapplied amount falls)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import ValidationError
from core.ledger import billing, queries
from core.ledger.base import currency, live_document, require_role, writes
from core.ledger.models import Invoice
from core.money import format_minor, parse_amount

if TYPE_CHECKING:
    from core.context import Firm


@writes
def apply_credit(firm: "Firm", *, invoice_id: int, amount=None) -> Invoice:
    """Settle an invoice from its client's credit on account (amount: None for as much as both allow), taking
    the credit of the oldest payments first. Returns the invoice with its new open balance."""
    require_role(firm, "bookkeeper", "apply client credit")
    inv = live_document(firm, "invoices", invoice_id, "invoice", "number")
    cur = currency(firm)

    def fmt(minor: int) -> str:
        return f"{format_minor(minor, cur)} {cur}"

    client = queries.get_client(firm, inv["client_id"])
    credit = queries.client_credit(firm, client.id)
    owed = queries.get_invoice(firm, invoice_id).open_balance_minor
    wanted = min(credit, owed) if amount is None else parse_amount(amount, cur, field="amount")
    if credit <= 0:
        raise ValidationError(f"{client.name} has no credit on account to apply to invoice {inv['number']}")
    if owed <= 0:
        raise ValidationError(f"Invoice {inv['number']} has nothing open; there is nothing to apply credit to")
    if wanted <= 0:
        raise ValidationError("amount must be more than zero")
    if wanted > credit:
        raise ValidationError(f"{client.name} has {fmt(credit)} of credit on account; {fmt(wanted)} cannot be applied")
    if wanted > owed:
        raise ValidationError(f"Invoice {inv['number']} has {fmt(owed)} open; {fmt(wanted)} of credit cannot be applied")
    left = wanted
    payments = sorted((p for p in queries.list_payments(firm, client_id=client.id, status="posted") if p.credit_minor > 0),
                      key=lambda p: (p.date, p.id))
    for p in payments:
        take = min(left, p.credit_minor)
        allocations = [(a.invoice_id, a.amount_minor) for a in p.allocations] + [(invoice_id, take)]
        billing.edit_payment(firm, p.id, allocations=[(i, format_minor(m, cur, grouping=False)) for i, m in allocations])
        left -= take
        if not left:
            break
    return queries.get_invoice(firm, invoice_id)
