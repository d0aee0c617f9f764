"""After every write: QBO's figures (TotalAmt, TxnTaxDetail.TotalTax and each rate's TaxLine) against the ledger's.

A difference is never marked done: it parks the document (code 'qbo_differs') with both figures, the cause
and the fixes that apply. Causes:
  rate_differs      a QBO rate's percent is not the ledger's (the rate was changed in QBO after mapping)
  override_ignored  Ledgerlink sent the ledger's tax explicitly and QBO computed its own anyway
  rounding          same rates, another rounding method (per line and rate, or per rate on the subtotal)
Fixes: 'resend_with_tax' (send the ledger's tax as explicit TaxLine amounts: where the company honours
overrides, so not after QBO ignored them) and 'accept_qbo' (record QBO's tax in the ledger by a dated
adjustment: invoices). Pure: no database, no wire.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

from core.money import decimal_to_minor
from core.qbo.reasons import Reason

DIFFERS = "qbo_differs"


def ledger_rates(doc, ctx) -> list[dict]:
    """The ledger's tax per taxable rate of a document: rate id, name, percent and tax in minor units."""
    per_rate: dict[int, int] = defaultdict(int)
    for line in doc.lines:
        if line.tax_rate_id is not None:
            per_rate[line.tax_rate_id] += line.tax_minor
    out = []
    for rate_id, tax in sorted(per_rate.items()):
        rate = ctx.tax_rates.get(rate_id)
        if rate is None or rate.rate_ppm == 0:
            continue
        out.append({"rate_id": rate_id, "name": rate.name, "percent": str(rate.rate_percent), "tax_minor": tax})
    return out


def qbo_tax(entity: dict, currency: str) -> tuple[int | None, list[dict]]:
    """QBO's TotalTax and its TaxLines (rate id, percent, net taxable and amount in minor units)."""
    detail = entity.get("TxnTaxDetail") or {}
    total = detail.get("TotalTax")
    lines = []
    for line in detail.get("TaxLine") or []:
        d = line.get("TaxLineDetail") or {}
        lines.append({"rate_id": str((d.get("TaxRateRef") or {}).get("value")),
                      "percent": _plain(d.get("TaxPercent")),
                      "net_minor": _minor(d.get("NetAmountTaxable"), currency),
                      "tax_minor": _minor(line.get("Amount"), currency)})
    return (_minor(total, currency) if total is not None else None), lines


def compare(item: dict, entity: dict, currency: str, qbo: tuple[int | None, list[dict]] | None = None
            ) -> Reason | None:
    """The difference between what was sent (`item`: a sync_pending item) and what QBO stored, or None.
    `qbo` is qbo_tax(entity, currency) when the caller has it already."""
    ledger_total = item.get("ledger_total_minor")
    ledger_tax = item.get("ledger_tax_minor")
    value = entity.get("TotalAmt")
    if ledger_total is None or value is None:
        return None
    qbo_total = _minor(value, currency)
    tax, tax_lines = qbo if qbo is not None else qbo_tax(entity, currency)
    tax_differs = ledger_tax is not None and tax is not None and tax != ledger_tax
    if qbo_total == ledger_total and not tax_differs:
        return None
    rates = item.get("ledger_rates") or []
    cause = _cause(rates, tax_lines, bool(item.get("tax_override")))
    fixes = []
    if cause != "override_ignored" and tax_lines and tax is not None and ledger_tax is not None:
        fixes.append("resend_with_tax")
    if item["doc_type"] == "invoice" and tax is not None and ledger_tax is not None:
        fixes.append("accept_qbo")
    return Reason(DIFFERS, {
        "doc_type": item["doc_type"], "doc_id": item["doc_id"], "label": item["label"], "currency": currency,
        "ledger_total_minor": ledger_total, "qbo_total_minor": qbo_total,
        "ledger_tax_minor": ledger_tax, "qbo_tax_minor": tax, "cause": cause,
        "ledger_rates": rates, "qbo_rates": tax_lines, "fixes": fixes})


def _cause(rates: list[dict], tax_lines: list[dict], override_sent: bool) -> str:
    if override_sent:
        return "override_ignored"
    ledger = sorted(Decimal(r["percent"]) for r in rates)
    qbo = sorted(Decimal(t["percent"]) for t in tax_lines if t["percent"] is not None and Decimal(t["percent"]))
    if not ledger or not qbo:
        return "rate_differs" if ledger != qbo else "rounding"
    # One QBO code may hold several rates (GST + PST) for one ledger rate: compare the sums then.
    if ledger == qbo or (len(ledger) == 1 and sum(qbo) == ledger[0]) or sum(ledger) == sum(qbo):
        return "rounding"
    return "rate_differs"


def override_lines(reason_fields: dict, currency: str) -> list[dict]:
    """QBO's TaxLines with the ledger's tax: QBO's rates and nets, the difference put on the largest amount."""
    lines = [dict(t) for t in reason_fields["qbo_rates"]]
    delta = reason_fields["ledger_tax_minor"] - reason_fields["qbo_tax_minor"]
    if lines:
        biggest = max(range(len(lines)), key=lambda i: lines[i]["tax_minor"])
        lines[biggest]["tax_minor"] += delta
    return lines


def standing(link) -> bool:
    """Whether a link records a difference QBO still holds (a document in QBO must not be marked done then)."""
    if link.qbo_id is None or link.pushed_action != "upsert":
        return False
    totals = (link.ledger_total_minor is not None and link.qbo_total_minor is not None
              and link.ledger_total_minor != link.qbo_total_minor)
    taxes = (link.ledger_tax_minor is not None and link.qbo_tax_minor is not None
             and link.ledger_tax_minor != link.qbo_tax_minor)
    return totals or taxes


def dumps_lines(lines: list[dict]) -> str:
    return json.dumps(lines, sort_keys=True)


def from_link(link, doc, row) -> Reason:
    """A difference known only from the link (its parked reason is gone): both figures, the fixes for an invoice."""
    return Reason(DIFFERS, {
        "doc_type": row.doc_type, "doc_id": row.doc_id, "label": f"{row.doc_type.replace('_', ' ').capitalize()} "
        f"{getattr(doc, 'number', row.doc_id)}", "currency": doc.currency,
        "ledger_total_minor": link.ledger_total_minor, "qbo_total_minor": link.qbo_total_minor,
        "ledger_tax_minor": link.ledger_tax_minor, "qbo_tax_minor": link.qbo_tax_minor, "cause": "rounding",
        "ledger_rates": [], "qbo_rates": [], "fixes": ["accept_qbo"] if row.doc_type == "invoice" else []})


def minor(value, currency: str) -> int:
    return _minor(value, currency)


def _minor(value, currency: str) -> int:
    return decimal_to_minor(Decimal(str(value if value is not None else 0)), currency)


def _plain(value) -> str | None:
    return None if value is None else str(Decimal(str(value)).normalize())
