"""Sales forms: Invoice and CreditMemo (reference 5.6, 5.8): lines, numbering, totals, tax, currency."""

from __future__ import annotations

import copy
from typing import Any

from core.sandbox import faults, jsonfmt
from core.sandbox.common import apply_currency, blank, money, named, number, parse_date, resolve, today
from core.sandbox.company import Company
from core.sandbox.tax import apply_sales_tax

SALES_LINE_TYPES = ("SalesItemLineDetail", "DescriptionOnly", "SubTotalLineDetail")


def _sales_lines(company: Company, lines: Any) -> list[dict]:
    if not isinstance(lines, list) or not lines:
        raise faults.missing("Line")
    out: list[dict] = []
    for raw in lines:
        if not isinstance(raw, dict):
            raise faults.bad_request_body("Line")
        kind = raw.get("DetailType")
        if blank(kind):
            raise faults.missing("Line.DetailType")
        if kind not in SALES_LINE_TYPES:
            raise faults.Fault("2010", "Request has invalid or unsupported property",
                               f"Property Name:Can not construct instance of com.intuit.schema.finance.v3.LineDetailTypeEnum "
                               f"from String value '{kind}' specified is unsupported or invalid", "Line.DetailType")
        if kind == "SubTotalLineDetail":
            continue
        line = {k: v for k, v in raw.items() if not blank(v) and k not in ("LineNum", "LineEx")}
        if "Id" in line and not str(line["Id"]).isdigit():
            line.pop("Id")
        if kind == "DescriptionOnly":
            line["Amount"] = money(raw.get("Amount") or 0, "Line.Amount")
            line.setdefault("DescriptionLineDetail", {})
            out.append(line)
            continue
        if blank(raw.get("Amount")):
            raise faults.missing("Line.Amount")
        amount = money(raw["Amount"], "Line.Amount")
        detail = dict(raw.get("SalesItemLineDetail") or {})
        item = resolve(company, "Item", detail.get("ItemRef"), "Line.SalesItemLineDetail.ItemRef", required=True)
        qty = number(detail.get("Qty"), "Line.SalesItemLineDetail.Qty")
        price = number(detail.get("UnitPrice"), "Line.SalesItemLineDetail.UnitPrice")
        if qty and price and jsonfmt.money(qty * price) != amount:
            raise faults.business(
                f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}", "Line.Amount")
        clean_detail = {k: v for k, v in detail.items() if not blank(v) and k not in ("Qty", "UnitPrice")}
        clean_detail["ItemRef"] = named(item)
        if price:
            clean_detail["UnitPrice"] = price
        if qty:
            clean_detail["Qty"] = qty
        line["Amount"] = amount
        line["SalesItemLineDetail"] = clean_detail
        out.append(line)
    if not any(line["DetailType"] == "SalesItemLineDetail" for line in out) and not out:
        raise faults.missing("Line")
    return out


def _number_lines(lines: list[dict], *, keep_ids: bool) -> None:
    """Line Ids: an update keeps the Ids the caller sent (once each); new lines get the next numbers."""
    seen: set[str] = set()
    for line in lines:
        lid = str(line.get("Id", ""))
        if keep_ids and lid and lid not in seen:
            seen.add(lid)
        else:
            line.pop("Id", None)
    next_id = max((int(i) for i in seen), default=0)
    for n, line in enumerate(lines, 1):
        if "Id" not in line:
            next_id += 1
            line["Id"] = str(next_id)
        else:
            line["Id"] = str(line["Id"])
        line["LineNum"] = n


def _docnumber(company: Company, etype: str, record: dict, own_id: str | None, include: set[str], creating: bool) -> None:
    number = record.get("DocNumber")
    if blank(number):
        if creating:
            company.counters["DocNumber"] = max(company.counters["DocNumber"], 1000) + 1
            record["DocNumber"] = str(company.counters["DocNumber"])
        return
    number = str(number)
    if len(number) > 21:
        raise faults.Fault("2050", "Length exceeds limit",
                           "String length specified does not match the supported length. DocNumber max length is 21",
                           "DocNumber")
    record["DocNumber"] = number
    if number.isdigit():
        company.counters["DocNumber"] = max(company.counters["DocNumber"], int(number))
    if "allowduplicatedocnum" in include:
        return
    other = company.find(etype, number)
    if other is not None and other != own_id:
        raise faults.duplicate_docnumber(number, etype, other)


def build_sales_form(company: Company, etype: str, body: dict, own_id: str | None, include: set[str],
                     existing: dict | None) -> dict:
    customer = resolve(company, "Customer", body.get("CustomerRef"), "CustomerRef", required=True)
    record = {k: v for k, v in body.items() if k not in ("Line", "TxnTaxDetail")}
    lines = _sales_lines(company, body.get("Line"))
    sent_tax = body.get("TxnTaxDetail")
    sent = sent_tax if isinstance(sent_tax, dict) else {}
    items = [line for line in lines if line["DetailType"] == "SalesItemLineDetail"]
    subtotal, total, tax_detail = apply_sales_tax(company, record, items, customer, sent)
    _number_lines(lines, keep_ids=existing is not None)
    lines.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    record["Line"] = lines
    record["TxnTaxDetail"] = tax_detail
    record["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
    _docnumber(company, etype, record, own_id, include, existing is None)
    txn_date = parse_date(body.get("TxnDate"), "TxnDate") or (existing or {}).get("TxnDate") or today()
    record["TxnDate"] = txn_date
    if etype == "Invoice":
        record["DueDate"] = parse_date(body.get("DueDate"), "DueDate") or jsonfmt.add_days(txn_date, 30)
        for flag in ("AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment"):
            record.setdefault(flag, False)
    for addr in ("BillAddr", "ShipAddr"):
        if blank(record.get(addr)) and customer.get(addr):
            record[addr] = copy.deepcopy(customer[addr])
    apply_currency(company, record, body, customer, total)
    record["TotalAmt"] = total
    record.setdefault("ApplyTaxAfterDiscount", False)
    record.setdefault("PrintStatus", "NeedToPrint")
    record.setdefault("EmailStatus", "NotSet")
    if record.get("PrivateNote") and len(str(record["PrivateNote"])) > 4000:
        raise faults.Fault("2050", "Length exceeds limit", "PrivateNote max length is 4000", "PrivateNote")
    return record


