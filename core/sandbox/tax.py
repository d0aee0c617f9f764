"""Sales tax as QBO works it out, per edition (reference 5.13, 5.14).

The pure part, for anyone who wants QBO's figure for given lines (the ledger's property tests):

    compute_tax(edition: Literal["US", "non-US"],
                lines: list[tuple[Decimal, list[Decimal]]],   # (line net, the percents of its tax code)
                *, rounding: Literal["half-up", "half-even"] = "half-up") -> TaxResult
    TaxResult.rates: tuple[RateTax(percent, net, tax), ...]   # one per distinct percent, first-seen order
    TaxResult.total: Decimal                                   # the sum of the rates' tax

- non-US: for each line and each rate of its code, round2(line net x rate); a rate's tax is the sum of
  those rounded amounts and its net (NetAmountTaxable) the sum of the nets; TotalTax is the sum of rates.
- US without automated sales tax (sandbox companies never run AST): one tax group for the transaction;
  each component rate's tax is round2(taxable subtotal x rate); TotalTax is the sum. A line that is not
  taxable ("NON") is passed with no rates.
- Rounding is half-up by default; the reference leaves half-up vs half-even unconfirmed, so a company
  setting (`tax_rounding`) offers half-even too.

On a sales form (`apply_sales_tax`), outside the US `GlobalTaxCalculation` is required (2020). `TotalTax: 0` with no `TaxLine` means "compute it" (python-quickbooks
sends exactly that); a `TotalTax` without `TaxLine`s is never an override. Client-sent `TaxLine` amounts
are kept only when the company's `tax_overrides` setting is on: each kept rate's read-back carries
`TaxLineDetail.OverrideDeltaAmount` = computed minus supplied (when they differ) and TotalTax is the sum
of what was kept. With the setting off (the default, stricter) the tax is recomputed and the client's
figures are ignored. A full update that echoes an old TxnTaxDetail therefore keeps the old tax only
where overrides are honoured; a rebuilt or omitted TxnTaxDetail recomputes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Hashable, Iterable, Literal, Sequence

from core.sandbox import faults
from core.sandbox.common import ZERO, blank, enum, money, ref_id, resolve
from core.sandbox.company import Company

Edition = Literal["US", "non-US"]
Rounding = Literal["half-up", "half-even"]
CENT = Decimal("0.01")
GLOBAL_TAX = ("TaxExcluded", "TaxInclusive", "NotApplicable")
TAX_WORD = {"CA": "GST/HST", "UK": "VAT", "AU": "GST", "NZ": "GST", "US": "sales tax"}


@dataclass(frozen=True)
class RateTax:
    percent: Decimal
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class TaxResult:
    rates: tuple[RateTax, ...]
    total: Decimal


def round2(value: Decimal, rounding: Rounding = "half-up") -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN if rounding == "half-even" else ROUND_HALF_UP)


def _compute(edition: Edition, lines: Iterable[tuple[Decimal, Sequence[tuple[Hashable, Decimal]]]],
             rounding: Rounding) -> dict[Hashable, list]:
    """key -> [percent, net, tax], in first-seen order."""
    out: dict[Hashable, list] = {}
    for net, rates in lines:
        for key, percent in rates:
            entry = out.setdefault(key, [percent, Decimal(0), ZERO])
            entry[1] += net
            if edition != "US":
                entry[2] += round2(net * percent / 100, rounding)
    for entry in out.values():
        if edition == "US":
            entry[2] = round2(entry[1] * entry[0] / 100, rounding)
        entry[1] = round2(entry[1], rounding)
    return out


def compute_tax(edition: Edition, lines: Sequence[tuple[Decimal, Sequence[Decimal]]], *,
                rounding: Rounding = "half-up") -> TaxResult:
    """QBO's tax for lines of (net, [percent, ...]); see the module docstring."""
    if edition not in ("US", "non-US"):
        raise ValueError(f"edition must be 'US' or 'non-US', not {edition!r}")
    keyed = [(Decimal(net), [(Decimal(p), Decimal(p)) for p in rates]) for net, rates in lines]
    per = _compute(edition, keyed, rounding)
    rates = tuple(RateTax(percent, net, tax) for percent, net, tax in per.values())
    return TaxResult(rates, sum((r.tax for r in rates), ZERO))


# -- on a sales form ---------------------------------------------------------------------------------

def code_rates(company: Company, code: dict) -> list[tuple[dict, Decimal]]:
    """A TaxCode's sales rates, in TaxOrder."""
    details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
    out = []
    for detail in sorted(details, key=lambda d: int(d.get("TaxOrder") or 0)):
        rate = company.get("TaxRate", ref_id(detail.get("TaxRateRef")) or "")
        if rate:
            out.append((rate, Decimal(str(rate.get("RateValue", 0)))))
    return out


def default_tax_group(company: Company) -> dict | None:
    for code in company.all("TaxCode"):
        if code["Id"] not in ("TAX", "NON") and code.get("Active", True) and code.get("Taxable"):
            return code
    return None


def _tax_line(rate: dict, percent: Decimal, net: Decimal, tax: Decimal, delta: Decimal | None) -> dict:
    detail = {"TaxRateRef": {"value": rate["Id"]}, "PercentBased": True, "TaxPercent": percent,
              "NetAmountTaxable": net}
    if delta is not None:
        detail["OverrideDeltaAmount"] = delta
    return {"Amount": tax, "DetailType": "TaxLineDetail", "TaxLineDetail": detail}


def _supplied(sent: dict) -> dict[str, Decimal]:
    """Client-sent per-rate amounts (TaxLine with a TaxRateRef and an Amount)."""
    out: dict[str, Decimal] = {}
    for n, line in enumerate(sent.get("TaxLine") or []):
        if not isinstance(line, dict) or line.get("Amount") in (None, ""):
            continue
        rid = ref_id((line.get("TaxLineDetail") or {}).get("TaxRateRef"))
        if rid is None:
            raise faults.missing("TxnTaxDetail.TaxLine.TaxLineDetail.TaxRateRef")
        out[rid] = out.get(rid, ZERO) + money(line["Amount"], f"TxnTaxDetail.TaxLine[{n}].Amount")
    return out


def _tax_lines(company: Company, per: dict, rate_of: dict[str, dict], sent: dict) -> tuple[list[dict], Decimal]:
    supplied = _supplied(sent) if company.settings["tax_overrides"] else {}
    unknown = sorted(set(supplied) - set(per))
    if unknown:
        raise faults.business(f"Tax rate {', '.join(unknown)} is not a rate of this transaction's tax codes.",
                              "TxnTaxDetail.TaxLine")
    lines, total = [], ZERO
    for rid, (percent, net, tax) in per.items():
        delta = None
        if rid in supplied and supplied[rid] != tax:
            delta, tax = tax - supplied[rid], supplied[rid]
        lines.append(_tax_line(rate_of[rid], percent, net, tax, delta))
        total += tax
    return lines, total


def apply_sales_tax(company: Company, record: dict, items: list[dict], customer: dict,
                    sent: dict) -> tuple[Decimal, Decimal, dict]:
    """Subtotal, total and the TxnTaxDetail of a sales form; fixes each line's TaxCodeRef in place."""
    rounding: Rounding = company.settings["tax_rounding"]
    subtotal = sum((line["Amount"] for line in items), ZERO)
    rate_of: dict[str, dict] = {}
    if company.us:
        record.pop("GlobalTaxCalculation", None)
        taxable_lines = []
        for line in items:
            detail = line["SalesItemLineDetail"]
            code = ref_id(detail.get("TaxCodeRef")) or "NON"
            if code not in ("TAX", "NON"):
                raise faults.invalid_reference("Line.SalesItemLineDetail.TaxCodeRef")
            detail["TaxCodeRef"] = {"value": code}
            if code == "TAX":
                taxable_lines.append(line["Amount"])
        group = resolve(company, "TaxCode", sent.get("TxnTaxCodeRef"), "TxnTaxDetail.TxnTaxCodeRef")
        if group is None and taxable_lines:
            group = (resolve(company, "TaxCode", customer.get("DefaultTaxCodeRef"), "CustomerRef")
                     or default_tax_group(company))
        if not taxable_lines or group is None:
            return subtotal, subtotal, {"TotalTax": 0}
        rates = code_rates(company, group)
        rate_of = {rate["Id"]: rate for rate, _ in rates}
        per = _compute("US", [(net, [(r["Id"], p) for r, p in rates]) for net in taxable_lines], rounding)
        tax_lines, total_tax = _tax_lines(company, per, rate_of, sent)
        detail = {"TxnTaxCodeRef": {"value": group["Id"]}, "TotalTax": total_tax, "TaxLine": tax_lines}
        return subtotal, subtotal + total_tax, detail

    if blank(record.get("GlobalTaxCalculation")):
        raise faults.missing("GlobalTaxCalculation")  # required outside the US (reference 5.13)
    mode = enum(record["GlobalTaxCalculation"], GLOBAL_TAX, "GlobalTaxCalculation")
    record["GlobalTaxCalculation"] = mode
    keyed: list[tuple[Decimal, list[tuple[str, Decimal]]]] = []
    for line in items:
        detail = line["SalesItemLineDetail"]
        if ref_id(detail.get("TaxCodeRef")) is None:
            if mode == "NotApplicable":
                continue
            raise faults.business(
                f"Make sure all your transactions have a {TAX_WORD[company.country]} rate before you save.",
                "Line.SalesItemLineDetail.TaxCodeRef")
        tax_code = resolve(company, "TaxCode", detail.get("TaxCodeRef"), "Line.SalesItemLineDetail.TaxCodeRef",
                           required=True)
        detail["TaxCodeRef"] = {"value": tax_code["Id"]}
        if mode == "NotApplicable":
            continue
        rates = code_rates(company, tax_code)
        rate_of.update((rate["Id"], rate) for rate, _ in rates)
        total_percent = sum((p for _, p in rates), Decimal(0))
        net = line["Amount"] if mode == "TaxExcluded" else line["Amount"] * 100 / (100 + total_percent)
        keyed.append((net, [(rate["Id"], p) for rate, p in rates]))
    per = _compute("non-US", keyed, rounding)
    tax_lines, total_tax = _tax_lines(company, per, rate_of, sent)
    detail = {"TotalTax": total_tax, "TaxLine": tax_lines} if tax_lines else {"TotalTax": 0}
    total = subtotal if mode == "TaxInclusive" else subtotal + total_tax
    return subtotal, total, detail


def tax_postings(company: Company, record: dict) -> list[tuple[dict, Decimal]]:
    """(TaxRate, tax) per TaxLine of a stored sales form, for the ledger's postings."""
    out = []
    for line in (record.get("TxnTaxDetail") or {}).get("TaxLine") or []:
        rate = company.get("TaxRate", ref_id(line["TaxLineDetail"].get("TaxRateRef")) or "")
        if rate is not None:
            out.append((rate, Decimal(str(line.get("Amount", 0)))))
    return out
