"""QBO's rules for each entity: what a create or update must carry, what the server fills in and computes.

`write(company, etype, operation, payload, include=...)` runs one create, update (full or sparse),
delete or void and returns the response body's entity; it raises `faults.Fault` for anything QBO
refuses. `render` adds what QBO derives when it answers (balances, linked payments, "(deleted)" names).
Callers hold the state lock and an open transaction.
"""

from __future__ import annotations

import copy
import functools
import json
from datetime import date
from decimal import Decimal
from typing import Any

from core import paths
from core.sandbox import faults, jsonfmt
from core.sandbox.store import Company

ENTITY_TYPES = (
    "Account", "Item", "TaxCode", "TaxRate", "Customer", "Invoice", "Payment", "CreditMemo", "JournalEntry",
    "CompanyInfo", "Preferences",
)
BY_LOWER = {t.lower(): t for t in ENTITY_TYPES}
NAME_LISTS = frozenset({"Account", "Item", "Customer", "TaxCode", "TaxRate"})
WRITABLE = frozenset({"Account", "Item", "Customer", "Invoice", "Payment", "CreditMemo", "JournalEntry"})
TRANSACTIONS = frozenset({"Invoice", "Payment", "CreditMemo", "JournalEntry"})
SALES_FORMS = frozenset({"Invoice", "CreditMemo"})
CDC_TYPES = ("Account", "Item", "Customer", "Invoice", "Payment", "CreditMemo", "JournalEntry")

SYSTEM = ("Id", "SyncToken", "domain", "sparse", "MetaData", "status", "time")
COMPUTED = {
    "Invoice": ("TotalAmt", "Balance", "HomeBalance", "LinkedTxn", "HomeTotalAmt"),
    "CreditMemo": ("TotalAmt", "Balance", "RemainingCredit", "HomeTotalAmt"),
    "Customer": ("Balance", "BalanceWithJobs", "FullyQualifiedName", "Level"),
    "Account": ("CurrentBalance", "CurrentBalanceWithSubAccounts", "FullyQualifiedName", "Classification"),
    "Item": ("FullyQualifiedName",),
    "Payment": ("UnappliedAmt",),
    "JournalEntry": (),
}

CLASSIFICATION = {
    "Bank": "Asset", "Accounts Receivable": "Asset", "Other Current Asset": "Asset", "Fixed Asset": "Asset",
    "Other Asset": "Asset", "Accounts Payable": "Liability", "Credit Card": "Liability",
    "Other Current Liability": "Liability", "Long Term Liability": "Liability", "Equity": "Equity",
    "Income": "Revenue", "Other Income": "Revenue", "Cost of Goods Sold": "Expense", "Expense": "Expense",
    "Other Expense": "Expense",
}
ITEM_TYPES = ("Service", "NonInventory")
GLOBAL_TAX = ("TaxExcluded", "TaxInclusive", "NotApplicable")
SALES_LINE_TYPES = ("SalesItemLineDetail", "DescriptionOnly", "SubTotalLineDetail")
TAX_WORD = {"CA": "GST/HST", "UK": "VAT", "AU": "GST", "NZ": "GST", "US": "sales tax"}
ZERO = Decimal("0.00")


@functools.cache
def known_properties() -> dict[str, frozenset[str]]:
    """Top-level properties QBO accepts per writable entity (data/sandbox/properties.json)."""
    raw = json.loads((paths.DATA_DIR / "sandbox" / "properties.json").read_text())
    return {etype: frozenset(names) for etype, names in raw.items()}


def _check_properties(etype: str, payload: dict) -> None:
    known = known_properties().get(etype)
    for name in payload:
        if known is not None and name not in known:
            raise faults.unsupported_property(name, etype)


# -- helpers ---------------------------------------------------------------------------------------

def _blank(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def _convert(convert, value: Any, element: str) -> Decimal:
    try:
        return convert(value)
    except (ValueError, ArithmeticError):
        raise faults.Fault("2010", "Request has invalid or unsupported property",
                           f"Property Name:Can not construct instance of java.math.BigDecimal from {value!r} "
                           "specified is unsupported or invalid", element) from None


def _money(value: Any, element: str) -> Decimal:
    return _convert(jsonfmt.money, value, element)


def _number(value: Any, element: str) -> Decimal | None:
    return None if _blank(value) else _convert(jsonfmt.number, value, element)


def _ref_id(ref: Any) -> str | None:
    if isinstance(ref, dict):
        value = ref.get("value")
        return None if _blank(value) else str(value)
    return None


def resolve(company: Company, etype: str, ref: Any, element: str, *, required: bool = False,
            allow_inactive: bool = False) -> dict | None:
    """The record a reference points to: 2020 if required and absent, 2500 unknown, 610 inactive."""
    rid = _ref_id(ref)
    if rid is None:
        if required:
            raise faults.missing(element)
        return None
    record = company.get(etype, rid)
    if record is None:
        raise faults.invalid_reference(element)
    if not allow_inactive and record.get("Active") is False:
        raise faults.not_found(element)
    return record


def _named(record: dict, key: str = "Name") -> dict:
    return {"value": record["Id"], "name": record.get("FullyQualifiedName") or record.get(key, "")}


def _today() -> str:
    return date.today().isoformat()


def _date(value: Any, element: str) -> str | None:
    if _blank(value):
        return None
    try:
        return date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise faults.Fault("2010", "Request has invalid or unsupported property",
                           f"Property Name:Can not parse date {value!r} specified is unsupported or invalid",
                           element) from None


def _writable(etype: str, record: dict) -> dict:
    """The caller's writable fields: no system or computed fields, no nulls or empty strings."""
    drop = set(SYSTEM) | set(COMPUTED.get(etype, ()))
    return {k: v for k, v in record.items() if k not in drop and v is not None and v != ""}


def meta(created: str, updated: str | None = None) -> dict:
    return {"CreateTime": created, "LastUpdatedTime": updated or created}


# -- name lists -------------------------------------------------------------------------------------

def _unique(company: Company, etype: str, value: str, own_id: str | None, what: str) -> None:
    other = company.find(etype, value)
    if other is not None and other != own_id:
        raise faults.duplicate_name(what)


def build_account(company: Company, body: dict, own_id: str | None) -> dict:
    name = str(body.get("Name") or "").strip()
    if not name:
        raise faults.missing("Name")
    atype = body.get("AccountType")
    if _blank(atype):
        raise faults.missing("AccountType")
    if atype not in CLASSIFICATION:
        raise faults.Fault("2170", "Invalid Enumeration", f"Invalid Enumeration : {atype}", "AccountType")
    if ":" in name:
        raise faults.Fault("2010", "Request has invalid or unsupported property",
                           "Property Name:Name cannot contain a colon specified is unsupported or invalid", "Name")
    record = dict(body)
    record["Name"] = name
    parent = resolve(company, "Account", body.get("ParentRef"), "ParentRef")
    record["SubAccount"] = parent is not None
    record["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{name}" if parent else name
    if parent:
        record["ParentRef"] = {"value": parent["Id"]}
    _unique(company, "Account", record["FullyQualifiedName"], own_id, "account")
    record["Classification"] = CLASSIFICATION[atype]
    record.setdefault("Active", True)
    record["CurrentBalance"] = 0
    record["CurrentBalanceWithSubAccounts"] = 0
    record["CurrencyRef"] = company.currency()
    return record


def build_item(company: Company, body: dict, own_id: str | None) -> dict:
    name = str(body.get("Name") or "").strip()
    if not name:
        raise faults.missing("Name")
    itype = body.get("Type") or "Service"
    if itype not in ITEM_TYPES:
        raise faults.business(f"Item type {itype} is not supported by this company; use Service or NonInventory.", "Type")
    _unique(company, "Item", name, own_id, "product or service")
    record = dict(body)
    record.update(Name=name, Type=itype, FullyQualifiedName=name)
    income = resolve(company, "Account", body.get("IncomeAccountRef"), "IncomeAccountRef", required=True)
    record["IncomeAccountRef"] = _named(income)
    expense = resolve(company, "Account", body.get("ExpenseAccountRef"), "ExpenseAccountRef",
                      required=company.country in ("CA", "UK"))
    if expense:
        record["ExpenseAccountRef"] = _named(expense)
    record.setdefault("Active", True)
    record.setdefault("Taxable", False)
    record["UnitPrice"] = _number(body.get("UnitPrice"), "UnitPrice") or 0
    record["PurchaseCost"] = _number(body.get("PurchaseCost"), "PurchaseCost") or 0
    record["TrackQtyOnHand"] = False
    return record


def _display_name(body: dict) -> str:
    name = str(body.get("DisplayName") or "").strip()
    if name:
        return name
    parts = [str(body.get(k) or "").strip() for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
    name = " ".join(p for p in parts if p)
    return name or str(body.get("CompanyName") or "").strip()


def build_customer(company: Company, body: dict, own_id: str | None) -> dict:
    name = _display_name(body)
    if not name:
        raise faults.missing("DisplayName")
    if ":" in name or "\t" in name or "\n" in name:
        raise faults.Fault("2010", "Request has invalid or unsupported property",
                           "Property Name:DisplayName cannot contain a colon (:), tab or newline "
                           "specified is unsupported or invalid", "DisplayName")
    _unique(company, "Customer", name, own_id, "customer, vendor or employee")
    record = dict(body)
    record["DisplayName"] = name
    record.setdefault("PrintOnCheckName", name)
    parent = resolve(company, "Customer", body.get("ParentRef"), "ParentRef")
    record["Job"] = parent is not None
    record.setdefault("BillWithParent", False)
    if parent:
        record["ParentRef"] = {"value": parent["Id"]}
        record["Level"] = parent.get("Level", 0) + 1
        record["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{name}"
    else:
        record["FullyQualifiedName"] = name
    tax_code = resolve(company, "TaxCode", body.get("DefaultTaxCodeRef"), "DefaultTaxCodeRef")
    if tax_code is None and company.us and own_id is None:
        tax_code = default_tax_group(company)
    if tax_code:
        record["DefaultTaxCodeRef"] = {"value": tax_code["Id"]}
    record.setdefault("Taxable", company.us)
    record.setdefault("PreferredDeliveryMethod", "Print")
    record["CurrencyRef"] = company.currency()
    record.setdefault("Active", True)
    return record


# -- sales forms ------------------------------------------------------------------------------------

def default_tax_group(company: Company) -> dict | None:
    for code in company.all("TaxCode"):
        if code["Id"] not in ("TAX", "NON") and code.get("Active", True) and code.get("Taxable"):
            return code
    return None


def _rates(company: Company, code: dict) -> list[tuple[dict, Decimal]]:
    out = []
    for detail in (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []:
        rate = company.get("TaxRate", _ref_id(detail.get("TaxRateRef")) or "")
        if rate:
            out.append((rate, jsonfmt.number(rate.get("RateValue", 0))))
    return out


def _tax_line(rate: dict, percent: Decimal, net: Decimal, tax: Decimal) -> dict:
    return {
        "Amount": tax,
        "DetailType": "TaxLineDetail",
        "TaxLineDetail": {"TaxRateRef": {"value": rate["Id"]}, "PercentBased": True, "TaxPercent": percent,
                          "NetAmountTaxable": net},
    }


def _sales_lines(company: Company, lines: Any) -> list[dict]:
    if not isinstance(lines, list) or not lines:
        raise faults.missing("Line")
    out: list[dict] = []
    for raw in lines:
        if not isinstance(raw, dict):
            raise faults.bad_request_body("Line")
        kind = raw.get("DetailType")
        if _blank(kind):
            raise faults.missing("Line.DetailType")
        if kind not in SALES_LINE_TYPES:
            raise faults.Fault("2010", "Request has invalid or unsupported property",
                               f"Property Name:Can not construct instance of com.intuit.schema.finance.v3.LineDetailTypeEnum "
                               f"from String value '{kind}' specified is unsupported or invalid", "Line.DetailType")
        if kind == "SubTotalLineDetail":
            continue
        line = {k: v for k, v in raw.items() if not _blank(v) and k not in ("LineNum", "LineEx")}
        if "Id" in line and not str(line["Id"]).isdigit():
            line.pop("Id")
        if kind == "DescriptionOnly":
            line["Amount"] = _money(raw.get("Amount") or 0, "Line.Amount")
            line.setdefault("DescriptionLineDetail", {})
            out.append(line)
            continue
        if _blank(raw.get("Amount")):
            raise faults.missing("Line.Amount")
        amount = _money(raw["Amount"], "Line.Amount")
        detail = dict(raw.get("SalesItemLineDetail") or {})
        item = resolve(company, "Item", detail.get("ItemRef"), "Line.SalesItemLineDetail.ItemRef", required=True)
        qty = _number(detail.get("Qty"), "Line.SalesItemLineDetail.Qty")
        price = _number(detail.get("UnitPrice"), "Line.SalesItemLineDetail.UnitPrice")
        if qty and price and jsonfmt.money(qty * price) != amount:
            raise faults.business(
                f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}", "Line.Amount")
        clean_detail = {k: v for k, v in detail.items() if not _blank(v) and k not in ("Qty", "UnitPrice")}
        clean_detail["ItemRef"] = _named(item)
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


def _compute_tax(company: Company, record: dict, lines: list[dict], customer: dict) -> tuple[Decimal, Decimal, dict]:
    """Subtotal, total and TxnTaxDetail, per the company's country rules."""
    items = [line for line in lines if line["DetailType"] == "SalesItemLineDetail"]
    subtotal = sum((line["Amount"] for line in items), ZERO)
    if company.us:
        record.pop("GlobalTaxCalculation", None)
        taxable = ZERO
        for line in items:
            detail = line["SalesItemLineDetail"]
            code = _ref_id(detail.get("TaxCodeRef")) or "NON"
            if code not in ("TAX", "NON"):
                raise faults.invalid_reference("Line.SalesItemLineDetail.TaxCodeRef")
            detail["TaxCodeRef"] = {"value": code}
            if code == "TAX":
                taxable += line["Amount"]
        given = (record.get("TxnTaxDetail") or {}).get("TxnTaxCodeRef")
        group = resolve(company, "TaxCode", given, "TxnTaxDetail.TxnTaxCodeRef")
        if group is None and taxable:
            group = resolve(company, "TaxCode", customer.get("DefaultTaxCodeRef"), "CustomerRef") or default_tax_group(company)
        if not taxable or group is None:
            return subtotal, subtotal, {"TotalTax": 0}
        rates = _rates(company, group)
        taxes = [jsonfmt.money(taxable * percent / 100) for _, percent in rates]
        sent = (record.get("TxnTaxDetail") or {}).get("TotalTax")
        if sent is not None and rates:
            # An explicit tax amount is kept and prorated across the code's rates (reference 5.13).
            sent = _money(sent, "TxnTaxDetail.TotalTax")
            computed = sum(taxes, ZERO)
            if computed:
                taxes = [jsonfmt.money(sent * t / computed) for t in taxes]
                taxes[-1] += sent - sum(taxes, ZERO)
            else:
                taxes = [ZERO] * (len(rates) - 1) + [sent]
        tax_lines = [_tax_line(rate, percent, taxable, tax) for (rate, percent), tax in zip(rates, taxes)]
        total_tax = sum(taxes, ZERO)
        detail = {"TxnTaxCodeRef": {"value": group["Id"]}, "TotalTax": total_tax, "TaxLine": tax_lines}
        return subtotal, subtotal + total_tax, detail

    mode = record.get("GlobalTaxCalculation") or "TaxExcluded"
    if mode not in GLOBAL_TAX:
        raise faults.Fault("2170", "Invalid Enumeration", f"Invalid Enumeration : {mode}", "GlobalTaxCalculation")
    record["GlobalTaxCalculation"] = mode
    per_rate: dict[str, list] = {}
    for line in items:
        detail = line["SalesItemLineDetail"]
        code_id = _ref_id(detail.get("TaxCodeRef"))
        if code_id is None:
            if mode == "NotApplicable":
                continue
            raise faults.business(f"Make sure all your transactions have a {TAX_WORD[company.country]} rate before you save.",
                                  "Line.SalesItemLineDetail.TaxCodeRef")
        code = resolve(company, "TaxCode", detail.get("TaxCodeRef"), "Line.SalesItemLineDetail.TaxCodeRef")
        detail["TaxCodeRef"] = {"value": code["Id"]}
        if mode == "NotApplicable":
            continue
        rates = _rates(company, code)
        total_percent = sum((p for _, p in rates), Decimal(0))
        net = line["Amount"] if mode == "TaxExcluded" else line["Amount"] * 100 / (100 + total_percent)
        for rate, percent in rates:
            # Tax is worked out per line from the line's code, rounded per line (reference 5.13).
            entry = per_rate.setdefault(rate["Id"], [rate, percent, Decimal(0), ZERO])
            entry[2] += net
            entry[3] += jsonfmt.money(net * percent / 100)
    tax_lines = []
    total_tax = ZERO
    for rate, percent, net, tax in per_rate.values():
        total_tax += tax
        tax_lines.append(_tax_line(rate, percent, jsonfmt.money(net), tax))
    detail = {"TotalTax": total_tax, "TaxLine": tax_lines} if tax_lines else {"TotalTax": 0}
    total = subtotal if mode == "TaxInclusive" else subtotal + total_tax
    return subtotal, total, detail


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


def _doc_number(company: Company, etype: str, record: dict, own_id: str | None, include: set[str], creating: bool) -> None:
    number = record.get("DocNumber")
    if _blank(number):
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
    record["TxnTaxDetail"] = body.get("TxnTaxDetail") or {}
    subtotal, total, tax_detail = _compute_tax(company, record, lines, customer)
    _number_lines(lines, keep_ids=existing is not None)
    lines.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    record["Line"] = lines
    record["TxnTaxDetail"] = tax_detail
    record["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
    _doc_number(company, etype, record, own_id, include, existing is None)
    txn_date = _date(body.get("TxnDate"), "TxnDate") or (existing or {}).get("TxnDate") or _today()
    record["TxnDate"] = txn_date
    if etype == "Invoice":
        record["DueDate"] = _date(body.get("DueDate"), "DueDate") or jsonfmt.add_days(txn_date, 30)
        for flag in ("AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment"):
            record.setdefault(flag, False)
    for addr in ("BillAddr", "ShipAddr"):
        if _blank(record.get(addr)) and customer.get(addr):
            record[addr] = copy.deepcopy(customer[addr])
    record["CurrencyRef"] = company.currency()
    record["TotalAmt"] = total
    record.setdefault("ApplyTaxAfterDiscount", False)
    record.setdefault("PrintStatus", "NeedToPrint")
    record.setdefault("EmailStatus", "NotSet")
    if record.get("PrivateNote") and len(str(record["PrivateNote"])) > 4000:
        raise faults.Fault("2050", "Length exceeds limit", "PrivateNote max length is 4000", "PrivateNote")
    return record


# -- payments and journal entries -------------------------------------------------------------------

def _open_amount(company: Company, txn_type: str, txn: dict, except_payment: str | None) -> Decimal:
    applied = company.applied_to(txn_type, txn["Id"])
    used = sum((amt for pid, amt in applied.items() if pid != except_payment), ZERO)
    return jsonfmt.money(txn.get("TotalAmt", 0)) - used


def build_payment(company: Company, body: dict, own_id: str | None) -> dict:
    customer = resolve(company, "Customer", body.get("CustomerRef"), "CustomerRef", required=True)
    if _blank(body.get("TotalAmt")):
        raise faults.missing("TotalAmt")
    total = _money(body["TotalAmt"], "TotalAmt")
    if total < 0:
        raise faults.business("You must set a transaction amount that is zero or more.", "TotalAmt")
    record = dict(body)
    lines = []
    net_applied = ZERO
    for raw in body.get("Line") or []:
        if _blank(raw.get("Amount")):
            raise faults.missing("Line.Amount")
        amount = _money(raw["Amount"], "Line.Amount")
        links = raw.get("LinkedTxn") or []
        if not links:
            raise faults.missing("Line.LinkedTxn")
        clean_links = []
        for link in links:
            txn_type, txn_id = link.get("TxnType"), str(link.get("TxnId") or "")
            if txn_type not in ("Invoice", "CreditMemo"):
                raise faults.business(f"The transaction type {txn_type} cannot be linked to a payment.", "Line.LinkedTxn")
            txn = company.get(txn_type, txn_id)
            if txn is None:
                raise faults.business(
                    f"The entity {txn_type} {txn_id} that you are trying to link does not exist. {txn_type} {txn_id}",
                    "Line.LinkedTxn")
            if _ref_id(txn.get("CustomerRef")) != customer["Id"]:
                raise faults.business(
                    f"{txn_type} {txn.get('DocNumber', txn_id)} belongs to another customer and cannot be linked "
                    "to this payment.", "Line.LinkedTxn")
            open_amount = _open_amount(company, txn_type, txn, own_id)
            if amount > open_amount:
                what = "invoice's open balance" if txn_type == "Invoice" else "credit memo's remaining credit"
                raise faults.business(
                    f"The payment amount {amount} applied to {txn_type} {txn.get('DocNumber', txn_id)} is more than "
                    f"the {what} of {open_amount}.", "Line.Amount")
            clean_links.append({"TxnId": txn_id, "TxnType": txn_type})
            net_applied += amount if txn_type == "Invoice" else -amount
        lines.append({"Amount": amount, "LinkedTxn": clean_links})
    if net_applied > total:
        raise faults.business(
            f"The amount applied to invoices ({net_applied}) is more than the payment amount ({total}).", "TotalAmt")
    record["Line"] = lines
    record["TotalAmt"] = total
    record["UnappliedAmt"] = total - net_applied
    record["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
    deposit = resolve(company, "Account", body.get("DepositToAccountRef"), "DepositToAccountRef")
    if deposit is None:
        deposit = next((a for a in company.all("Account") if a.get("AccountSubType") == "UndepositedFunds"), None)
    if deposit:
        record["DepositToAccountRef"] = {"value": deposit["Id"]}
    record["TxnDate"] = _date(body.get("TxnDate"), "TxnDate") or _today()
    record["CurrencyRef"] = company.currency()
    record.setdefault("ProcessPayment", False)
    return record


def build_journal_entry(company: Company, body: dict, own_id: str | None) -> dict:
    lines = body.get("Line")
    if not isinstance(lines, list) or not lines:
        raise faults.missing("Line")
    out = []
    debit = credit = ZERO
    for n, raw in enumerate(lines):
        if raw.get("DetailType") != "JournalEntryLineDetail":
            raise faults.missing("Line.JournalEntryLineDetail")
        if _blank(raw.get("Amount")):
            raise faults.missing("Line.Amount")
        amount = _money(raw["Amount"], "Line.Amount")
        detail = dict(raw.get("JournalEntryLineDetail") or {})
        posting = detail.get("PostingType")
        if _blank(posting):
            raise faults.missing("Line.JournalEntryLineDetail.PostingType")
        if posting not in ("Debit", "Credit"):
            raise faults.Fault("2170", "Invalid Enumeration", f"Invalid Enumeration : {posting}",
                               "Line.JournalEntryLineDetail.PostingType")
        account = resolve(company, "Account", detail.get("AccountRef"), "Line.JournalEntryLineDetail.AccountRef",
                          required=True)
        detail["AccountRef"] = _named(account)
        entity = detail.get("Entity")
        if account.get("AccountType") == "Accounts Receivable" and not _ref_id((entity or {}).get("EntityRef")):
            raise faults.business("You must select a customer in the Name field for a transaction posted to "
                                  "Accounts Receivable.", "Line.JournalEntryLineDetail.Entity")
        if entity and _ref_id(entity.get("EntityRef")):
            who = resolve(company, "Customer", entity["EntityRef"], "Line.JournalEntryLineDetail.Entity.EntityRef")
            detail["Entity"] = {"Type": "Customer", "EntityRef": {"value": who["Id"], "name": who["DisplayName"]}}
        if posting == "Debit":
            debit += amount
        else:
            credit += amount
        line = {k: v for k, v in raw.items() if not _blank(v) and k not in ("Id", "LineNum")}
        line.update(Id=str(n), Amount=amount, JournalEntryLineDetail=detail)
        out.append(line)
    if debit != credit:
        raise faults.business(
            f"Transaction is not balanced. Total debits ({debit}) must equal total credits ({credit}).", "Line")
    record = dict(body)
    record["Line"] = out
    record["TxnDate"] = _date(body.get("TxnDate"), "TxnDate") or _today()
    record["CurrencyRef"] = company.currency()
    record.setdefault("Adjustment", False)
    record["TxnTaxDetail"] = {}
    return record


# -- the operations ---------------------------------------------------------------------------------

def build(company: Company, etype: str, body: dict, own_id: str | None, include: set[str],
          existing: dict | None) -> dict:
    if etype == "Account":
        return build_account(company, body, own_id)
    if etype == "Item":
        return build_item(company, body, own_id)
    if etype == "Customer":
        return build_customer(company, body, own_id)
    if etype in SALES_FORMS:
        return build_sales_form(company, etype, body, own_id, include, existing)
    if etype == "Payment":
        return build_payment(company, body, own_id)
    return build_journal_entry(company, body, own_id)


def _target(company: Company, etype: str, payload: dict) -> dict:
    """The stored record an update/delete/void names, after the Id and SyncToken checks."""
    eid = payload.get("Id")
    if _blank(eid):
        raise faults.missing("Id")
    eid = str(eid)
    if not eid.isdigit():
        raise faults.invalid_id(eid)
    existing = company.get(etype, eid)
    if existing is None:
        raise faults.not_found()
    token = payload.get("SyncToken")
    if _blank(token):
        raise faults.missing("SyncToken")
    if str(token) != existing["SyncToken"]:
        raise faults.stale()
    return existing


def _save(company: Company, etype: str, record: dict, existing: dict | None) -> dict:
    stamp = jsonfmt.stamp()
    if existing is None:
        record.update(domain="QBO", sparse=False, Id=company.next_id(etype), SyncToken="0", MetaData=meta(stamp))
    else:
        record.update(domain="QBO", sparse=False, Id=existing["Id"], SyncToken=existing["SyncToken"],
                      MetaData=dict(existing["MetaData"]))
        if _comparable(etype, record) == _comparable(etype, existing):
            return existing
        record["SyncToken"] = str(int(existing["SyncToken"]) + 1)
        record["MetaData"]["LastUpdatedTime"] = stamp
    company.put(etype, record)
    return record


def _comparable(etype: str, record: dict) -> str:
    return jsonfmt.canonical({k: v for k, v in record.items() if k not in ("SyncToken", "MetaData")})


def _has_payments(company: Company, etype: str, record: dict, verb: str) -> None:
    applied = [pid for pid, amount in company.applied_to(etype, record["Id"]).items() if amount]
    if applied:
        payments = ", ".join(sorted(applied, key=int))
        raise faults.business(
            f"You can't {verb} this {'invoice' if etype == 'Invoice' else 'credit memo'} because it has payments "
            f"applied to it (Payment {payments}). Remove the payments first.")


def write(company: Company, etype: str, operation: str, payload: Any, include: set[str] | None = None) -> dict:
    """Run one write and return the entity as the response shows it (or the delete stub)."""
    include = include or set()
    if not isinstance(payload, dict):
        raise faults.bad_request_body(etype)
    if etype == "Preferences" and operation in ("create", "update"):
        return _update_preferences(company, payload)
    if etype not in WRITABLE:
        raise faults.unsupported_operation(f"/{etype.lower()} {operation}")
    if operation == "create" and not _blank(payload.get("Id")):
        operation = "update"
    if operation in ("create", "update") and "void" not in include:
        _check_properties(etype, payload)
    if operation == "create":
        record = build(company, etype, _writable(etype, payload), None, include, None)
        _check_open_period(company, etype, record)
        return render(company, etype, _save(company, etype, record, None))
    if operation == "update" and "void" in include:
        operation = "void"
    existing = _target(company, etype, payload)
    if operation == "update":
        sparse = payload.get("sparse") in (True, "true")
        body = _writable(etype, payload)
        if sparse:
            body = {**_writable(etype, existing), **body}
        record = build(company, etype, body, existing["Id"], include, existing)
        _check_open_period(company, etype, existing, record)
        if etype in SALES_FORMS:
            applied = sum(company.applied_to(etype, existing["Id"]).values(), ZERO)
            if applied > record["TotalAmt"]:
                raise faults.business(
                    f"The new total ({record['TotalAmt']}) is less than the payments already applied ({applied}). "
                    "Remove or reduce the payments first.", "TotalAmt")
        return render(company, etype, _save(company, etype, record, existing))
    if operation == "delete":
        if etype not in TRANSACTIONS:
            raise faults.unsupported_operation(f"/{etype.lower()}?operation=delete")
        _check_open_period(company, etype, existing)
        if etype in SALES_FORMS:
            _has_payments(company, etype, existing, "delete")
        company.remove(etype, existing["Id"])
        return {"domain": "QBO", "status": "Deleted", "Id": existing["Id"]}
    if operation == "void":
        if etype not in ("Invoice", "Payment"):
            raise faults.unsupported_operation(f"/{etype.lower()}?operation=void")
        _check_open_period(company, etype, existing)
        if etype == "Invoice":
            _has_payments(company, etype, existing, "void")
        record = copy.deepcopy(existing)
        for line in record.get("Line", []):
            line["Amount"] = ZERO
        record["TotalAmt"] = ZERO
        if etype == "Payment":
            record["UnappliedAmt"] = ZERO
        if etype == "Invoice":
            record["TxnTaxDetail"] = {"TotalTax": 0}
        record["PrivateNote"] = "Voided"
        return render(company, etype, _save(company, etype, record, existing))
    raise faults.unsupported_operation(f"/{etype.lower()}?operation={operation}")


def _check_open_period(company: Company, etype: str, *records: dict) -> None:
    """QBO refuses (6210) to write a transaction dated on or before Preferences' BookCloseDate, before or after."""
    if etype not in TRANSACTIONS:
        return
    prefs = company.get("Preferences", "1") or {}
    close = (prefs.get("AccountingInfoPrefs") or {}).get("BookCloseDate")
    if close and any(r.get("TxnDate") and r["TxnDate"] <= close for r in records):
        raise faults.period_closed(close)


def _update_preferences(company: Company, payload: dict) -> dict:
    """Preferences take updates only (full or sparse; each section merged key by key), with the SyncToken check."""
    existing = company.get("Preferences", "1")
    token = payload.get("SyncToken")
    if _blank(token):
        raise faults.missing("SyncToken")
    if str(token) != existing["SyncToken"]:
        raise faults.stale()
    record = copy.deepcopy(existing)
    for section, values in payload.items():
        if section in SYSTEM or section == "Id":
            continue
        if not isinstance(values, dict) or not isinstance(record.get(section), dict):
            raise faults.unsupported_property(section, "Preferences")
        if section == "AccountingInfoPrefs" and values.get("BookCloseDate"):
            values = {**values, "BookCloseDate": _date(values["BookCloseDate"], "BookCloseDate")}
        record[section].update(values)
    return _save(company, "Preferences", record, existing)


def read(company: Company, etype: str, eid: str) -> dict:
    if etype == "CompanyInfo" and eid == company.realm:
        eid = "1"
    if not eid.isdigit() and not (etype == "TaxCode" and eid in ("TAX", "NON")):
        raise faults.invalid_id(eid)
    record = company.get(etype, eid)
    if record is None:
        raise faults.not_found()
    return render(company, etype, record)


def create_tax_code(company: Company, payload: Any) -> dict:
    """TaxService: `POST /taxservice/taxcode` makes a TaxCode and its new TaxRates in one go."""
    if not isinstance(payload, dict):
        raise faults.bad_request_body("TaxService")
    name = str(payload.get("TaxCode") or "").strip()
    if not name:
        raise faults.missing("TaxCode")
    details = payload.get("TaxRateDetails")
    if not isinstance(details, list) or not details:
        raise faults.missing("TaxRateDetails")
    if any(str(c.get("Name", "")).strip().lower() == name.lower() for c in company.all("TaxCode")):
        raise faults.duplicate_name("tax code")
    made: list[tuple[dict, dict]] = []
    for n, detail in enumerate(details):
        rate_id = _ref_id({"value": detail.get("TaxRateId")})
        if rate_id:
            rate = resolve(company, "TaxRate", {"value": rate_id}, f"TaxRateDetails[{n}].TaxRateId")
            made.append((rate, detail))
            continue
        rate_name = str(detail.get("TaxRateName") or "").strip()
        if not rate_name:
            raise faults.missing("TaxRateDetails.TaxRateName")
        if any(str(r.get("Name", "")).strip().lower() == rate_name.lower() for r in company.all("TaxRate")):
            raise faults.duplicate_name("tax rate")
        value = _number(detail.get("RateValue"), "TaxRateDetails.RateValue")
        if value is None:
            raise faults.missing("TaxRateDetails.RateValue")
        if not Decimal(0) <= value <= Decimal(100):
            raise faults.business("RateValue must be between 0 and 100.", "TaxRateDetails.RateValue")
        rate = {"Name": rate_name, "Description": rate_name, "Active": True, "RateValue": value,
                "AgencyRef": {"value": str(detail.get("TaxAgencyId") or "1")}, "SpecialTaxType": "NONE",
                "DisplayType": "ReadOnly"}
        made.append((rate, detail))
    answer = []
    rate_details = []
    for rate, detail in made:
        if "Id" not in rate:
            _save(company, "TaxRate", rate, None)
        rate_details.append({"TaxRateRef": {"value": rate["Id"], "name": rate["Name"]},
                             "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0})
        answer.append({"TaxRateName": rate["Name"], "TaxRateId": rate["Id"], "RateValue": rate["RateValue"],
                       "TaxAgencyId": rate["AgencyRef"]["value"], "TaxApplicableOn": detail.get("TaxApplicableOn", "Sales")})
    taxable = any(jsonfmt.number(rate["RateValue"]) != 0 for rate, _ in made)
    code = _save(company, "TaxCode", {
        "Name": name, "Description": name, "Active": True, "Taxable": taxable, "TaxGroup": True,
        "SalesTaxRateList": {"TaxRateDetail": rate_details}, "PurchaseTaxRateList": {"TaxRateDetail": []}}, None)
    return {"TaxCode": name, "TaxCodeId": code["Id"], "TaxRateDetails": answer}


# -- rendering --------------------------------------------------------------------------------------

def invoice_balance(company: Company, invoice: dict) -> Decimal:
    return _open_amount(company, "Invoice", invoice, None)


def render(company: Company, etype: str, record: dict) -> dict:
    out = dict(record)
    if etype == "Invoice":
        out["Balance"] = invoice_balance(company, record)
        out["LinkedTxn"] = [{"TxnId": pid, "TxnType": "Payment"}
                            for pid in sorted(company.applied_to("Invoice", record["Id"]), key=int)]
    elif etype == "CreditMemo":
        remaining = _open_amount(company, "CreditMemo", record, None)
        out["RemainingCredit"] = remaining
        out["Balance"] = remaining
    elif etype == "Customer":
        balance = customer_balance(company, record["Id"])
        out["Balance"] = balance
        out["BalanceWithJobs"] = balance + sum(
            (customer_balance(company, child) for child in company.children.get(record["Id"], ())), ZERO)
    elif etype == "Payment":
        out["Line"] = [_payment_line(company, record["Id"], line) for line in record.get("Line", [])]
    if etype in ("Account", "Item", "Customer") and record.get("Active") is False:
        for field in ("Name", "DisplayName", "FullyQualifiedName", "PrintOnCheckName"):
            if field in out and not str(out[field]).endswith(" (deleted)"):
                out[field] = f"{out[field]} (deleted)"
    return out


def _name_value(name: str, value: str) -> dict:
    return {"name": "{http://schema.intuit.com/finance/v3}NameValue", "declaredType": "com.intuit.schema.finance.v3.NameValue",
            "scope": "javax.xml.bind.JAXBElement$GlobalScope", "value": {"Name": name, "Value": value},
            "nil": False, "globalScope": True, "typeSubstituted": False}


def _payment_line(company: Company, payment_id: str, line: dict) -> dict:
    """A payment line as QBO answers it: with the JAXB-style LineEx naming the linked transaction."""
    links = line.get("LinkedTxn") or []
    txn = company.get(links[0]["TxnType"], links[0]["TxnId"]) if links else None
    if txn is None:
        return line
    before = _open_amount(company, links[0]["TxnType"], txn, payment_id)
    extras = [_name_value("txnId", txn["Id"]), _name_value("txnOpenBalance", str(before))]
    if txn.get("DocNumber"):
        extras.append(_name_value("txnReferenceNumber", str(txn["DocNumber"])))
    return {**line, "LineEx": {"any": extras}}


def customer_balance(company: Company, customer_id: str) -> Decimal:
    total = ZERO
    for etype, doc in company.customer_docs(customer_id):
        if etype == "Invoice":
            total += invoice_balance(company, doc)
        elif etype == "CreditMemo":
            total -= _open_amount(company, "CreditMemo", doc, None)
        else:
            total -= jsonfmt.money(doc.get("UnappliedAmt", 0))
    return total
