"""Voids: the document stays, with its number and zero amounts, and its posting is reversed.

As accountants expect (and as QBO voids): a voided invoice keeps its number and shows a zero total; a voided
payment no longer pays anything. The reversal is dated on the document's date, so a document in a locked period
cannot be voided (core.ledger.locks). The sync pushes a void as QBO's void operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import Conflict
from core.ledger import queries
from core.ledger.base import audit, live_document, mark_dirty, now, require_role, reverse_version, writes
from core.ledger.models import Invoice, Payment
from core.text import counted

if TYPE_CHECKING:
    from core.context import Firm


@writes
def void_invoice(firm: "Firm", invoice_id: int) -> Invoice:
    """Void an invoice: its lines go (total zero), its number stays; refused while payments or credits apply."""
    require_role(firm, "bookkeeper", "void invoices")
    inv = live_document(firm, "invoices", invoice_id, "invoice", "number")
    paid = firm.db.execute(
        "SELECT count(*) FROM payment_allocations a JOIN payments p ON p.id = a.payment_id AND p.version = a.version "
        "WHERE a.invoice_id = ? AND p.status = 'posted' AND p.voided_at IS NULL", [invoice_id]).fetchone()[0]
    credits = firm.db.execute(
        "SELECT count(*) FROM credit_notes WHERE invoice_id = ? AND status = 'posted'", [invoice_id]).fetchone()[0]
    if paid or credits:
        raise Conflict(f"Invoice {inv['number']} has {counted(paid, 'payment')} and "
                       f"{counted(credits, 'credit note')} applied; void or delete those first")
    v = inv["version"] + 1
    with firm.db.atomic():
        reverse_version(firm, date=inv["date"], doc_type="invoice", doc_id=invoice_id, version=inv["version"],
                        new_version=v, memo=f"Void of invoice {inv['number']}")
        firm.db.execute("UPDATE invoices SET version = ?, voided_at = ?, updated_at = ? WHERE id = ?",
                        [v, now(), now(), invoice_id])
        mark_dirty(firm, "invoice", invoice_id, v)
        audit(firm, "void_invoice", "invoice", invoice_id, inv["number"])
    return queries.get_invoice(firm, invoice_id)


@writes
def void_payment(firm: "Firm", payment_id: int) -> Payment:
    """Void a payment: it pays no invoice any more (their balances open again); the record stays."""
    require_role(firm, "bookkeeper", "void payments")
    row = live_document(firm, "payments", payment_id, "payment", "id")
    v = row["version"] + 1
    with firm.db.atomic():
        reverse_version(firm, date=row["date"], doc_type="payment", doc_id=payment_id, version=row["version"],
                        new_version=v, memo=f"Void of payment {payment_id}")
        firm.db.execute("UPDATE payments SET version = ?, voided_at = ?, updated_at = ? WHERE id = ?",
                        [v, now(), now(), payment_id])
        mark_dirty(firm, "payment", payment_id, v)
        audit(firm, "void_payment", "payment", payment_id, str(payment_id))
    return queries.get_payment(firm, payment_id)


def is_voided(firm: "Firm", doc_type: str, doc_id: int) -> bool:
    if doc_type not in ("invoice", "payment"):
        return False
    row = firm.db.execute(f"SELECT voided_at FROM {doc_type}s WHERE id = ?", [doc_id]).fetchone()
    return bool(row and row[0])
