"""QBO's rules for each entity: what a create or update must carry, what the server fills in and computes.

`write(company, etype, operation, payload, include=...)` runs one create, update (full or sparse),
delete or void and returns the response body's entity; it raises `faults.Fault` for anything QBO
refuses. `render` adds what QBO derives when it answers (balances, linked payments, "(deleted)" names).
Callers hold the state lock and an open transaction. The rules themselves live by noun: `names` (Account,
Item, Customer, Vendor), `sales` (Invoice, CreditMemo), `tax`, `payments`, `trust` (JournalEntry,
Deposit, Transfer, Purchase); `ledger` derives account balances from what they post.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any, Callable

from core.sandbox import faults, jsonfmt, ledger, names, payments, sales, trust
from core.sandbox.common import (SYSTEM, ZERO, blank, home_amount, known_properties, meta, number, parse_date,
                                 ref_id, resolve)
from core.sandbox.company import Company

__all__ = ["ENTITY_TYPES", "meta", "read", "render", "write", "create_tax_code", "known_properties"]

ENTITY_TYPES = (
    "Account", "Item", "TaxCode", "TaxRate", "TaxAgency", "Customer", "Vendor", "Invoice", "Payment",
    "CreditMemo", "JournalEntry", "Deposit", "Transfer", "Purchase", "CompanyInfo", "Preferences",
)
BY_LOWER = {t.lower(): t for t in ENTITY_TYPES}
NAME_LISTS = frozenset({"Account", "Item", "Customer", "Vendor", "TaxCode", "TaxRate"})
TRANSACTIONS = frozenset({"Invoice", "Payment", "CreditMemo", "JournalEntry", "Deposit", "Transfer", "Purchase"})
WRITABLE = frozenset({"Account", "Item", "Customer", "Vendor"}) | TRANSACTIONS
SALES_FORMS = frozenset({"Invoice", "CreditMemo"})
CDC_TYPES = ("Account", "Item", "Customer", "Vendor", "Invoice", "Payment", "CreditMemo", "JournalEntry",
             "Deposit", "Transfer", "Purchase")

COMPUTED = {
    "Invoice": ("TotalAmt", "Balance", "HomeBalance", "LinkedTxn", "HomeTotalAmt"),
    "CreditMemo": ("TotalAmt", "Balance", "RemainingCredit", "HomeTotalAmt"),
    "Customer": ("Balance", "BalanceWithJobs", "FullyQualifiedName", "Level"),
    "Vendor": ("Balance",),
    "Account": ("CurrentBalance", "CurrentBalanceWithSubAccounts", "FullyQualifiedName", "Classification"),
    "Item": ("FullyQualifiedName",),
    "Payment": ("UnappliedAmt", "HomeTotalAmt"),
    "JournalEntry": ("TotalAmt", "HomeTotalAmt"),
    "Deposit": ("TotalAmt", "HomeTotalAmt"),
    "Purchase": ("TotalAmt", "HomeTotalAmt"),
    "Transfer": (),
}
BUILDERS: dict[str, Callable[[Company, dict, str | None], dict]] = {
    "Account": names.build_account, "Item": names.build_item, "Customer": names.build_customer,
    "Vendor": names.build_vendor, "Payment": payments.build_payment, "JournalEntry": trust.build_journal_entry,
    "Deposit": trust.build_deposit, "Transfer": trust.build_transfer, "Purchase": trust.build_purchase,
}


def _check_properties(etype: str, payload: dict) -> None:
    known = known_properties().get(etype)
    for name in payload:
        if known is not None and name not in known:
            raise faults.unsupported_property(name, etype)


def _writable(etype: str, record: dict) -> dict:
    """The caller's writable fields: no system or computed fields, no nulls or empty strings."""
    drop = set(SYSTEM) | set(COMPUTED.get(etype, ()))
    return {k: v for k, v in record.items() if k not in drop and v is not None and v != ""}


def build(company: Company, etype: str, body: dict, own_id: str | None, include: set[str],
          existing: dict | None) -> dict:
    if etype in SALES_FORMS:
        return sales.build_sales_form(company, etype, body, own_id, include, existing)
    return BUILDERS[etype](company, body, own_id)


def _target(company: Company, etype: str, payload: dict) -> dict:
    """The stored record an update/delete/void names, after the Id and SyncToken checks."""
    eid = payload.get("Id")
    if blank(eid):
        raise faults.missing("Id")
    eid = str(eid)
    if not eid.isdigit():
        raise faults.invalid_id(eid)
    existing = company.get(etype, eid)
    if existing is None:
        raise faults.not_found()
    token = payload.get("SyncToken")
    if blank(token):
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
    if operation == "create" and not blank(payload.get("Id")):
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
    if etype == "Payment" and operation in ("update", "delete", "void"):
        payments.refuse_if_deposited(company, existing["Id"])
    if operation == "update":
        body = _update_body(company, etype, payload, existing)
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
        if etype == "Payment":
            record = payments.void_payment(existing)
        else:
            payments.release(company, "Invoice", existing["Id"],
                             lambda t, new, old: _save(company, t, new, old))
            record = copy.deepcopy(existing)
            for line in record.get("Line", []):
                line["Amount"] = ZERO
            record["TotalAmt"] = ZERO
            record["TxnTaxDetail"] = {"TotalTax": 0}
            record.pop("HomeTotalAmt", None)
        record["PrivateNote"] = "Voided"
        return render(company, etype, _save(company, etype, record, existing))
    raise faults.unsupported_operation(f"/{etype.lower()}?operation={operation}")


def _update_body(company: Company, etype: str, payload: dict, existing: dict) -> dict:
    """The body an update builds from: a full update is what was sent (fields left out are NULLed); a sparse
    one is merged over the stored record, except where QBO does not honour sparse, and must still carry the
    entity's required fields (reference 1.5: Account Name, Purchase PaymentType and AccountRef)."""
    body = _writable(etype, payload)
    if payload.get("sparse") not in (True, "true") or etype == "Deposit":
        return body
    if etype in SALES_FORMS and "Line" in payload and company.settings["sparse_line"] == "refuse":
        raise faults.Fault("2020", "Required param missing, need to supply the required value for the API",
                           "Required parameter Line cannot be replaced by a sparse update; send a full update "
                           "with every line", "Line")
    for key in {"Purchase": ("PaymentType", "AccountRef"), "Account": ("Name",)}.get(etype, ()):
        if blank(payload.get(key)):
            raise faults.missing(key)
    merged = {**_writable(etype, existing), **body}
    if etype in SALES_FORMS and "Line" in payload and "TxnTaxDetail" not in payload:
        # new lines, no tax sent: the stored tax is not the client's figure for them; keep only the tax group
        code = (existing.get("TxnTaxDetail") or {}).get("TxnTaxCodeRef")
        merged["TxnTaxDetail"] = {"TxnTaxCodeRef": code} if code else {}
    return merged


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
    if existing is None:
        raise faults.not_found()
    token = payload.get("SyncToken")
    if blank(token):
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
            values = {**values, "BookCloseDate": parse_date(values["BookCloseDate"], "BookCloseDate")}
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
        rate_id = ref_id({"value": detail.get("TaxRateId")})
        if rate_id:
            rate = resolve(company, "TaxRate", {"value": rate_id}, f"TaxRateDetails[{n}].TaxRateId", required=True)
            made.append((rate, detail))
            continue
        rate_name = str(detail.get("TaxRateName") or "").strip()
        if not rate_name:
            raise faults.missing("TaxRateDetails.TaxRateName")
        if any(str(r.get("Name", "")).strip().lower() == rate_name.lower() for r in company.all("TaxRate")):
            raise faults.duplicate_name("tax rate")
        value = number(detail.get("RateValue"), "TaxRateDetails.RateValue")
        if value is None:
            raise faults.missing("TaxRateDetails.RateValue")
        if not Decimal(0) <= value <= Decimal(100):
            raise faults.business("RateValue must be between 0 and 100.", "TaxRateDetails.RateValue")
        agency_id = str(detail.get("TaxAgencyId") or "1")
        if company.all("TaxAgency"):  # a state file seeded before TaxAgency existed has none to check against
            agency_id = resolve(company, "TaxAgency", {"value": agency_id}, "TaxRateDetails.TaxAgencyId",
                                required=True)["Id"]
        rate = {"Name": rate_name, "Description": rate_name, "Active": True, "RateValue": value,
                "AgencyRef": {"value": agency_id}, "SpecialTaxType": "NONE", "DisplayType": "ReadOnly"}
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

def render(company: Company, etype: str, record: dict) -> dict:
    out = dict(record)
    if etype == "Invoice":
        out["Balance"] = payments.invoice_balance(company, record)
        if record.get("ExchangeRate") not in (None, ""):
            out["HomeBalance"] = home_amount(record, out["Balance"])
        out["LinkedTxn"] = [{"TxnId": pid, "TxnType": "Payment"}
                            for pid in sorted(company.applied_to("Invoice", record["Id"]), key=int)]
    elif etype == "CreditMemo":
        remaining = payments.open_amount(company, "CreditMemo", record, None)
        out["RemainingCredit"] = remaining
        out["Balance"] = remaining
    elif etype == "Customer":
        balance = payments.customer_balance(company, record["Id"])
        out["Balance"] = balance
        out["BalanceWithJobs"] = balance + sum(
            (payments.customer_balance(company, child) for child in company.children.get(record["Id"], ())), ZERO)
    elif etype == "Vendor":
        out["Balance"] = ZERO
    elif etype == "Payment":
        out["Line"] = [payments.render_line(company, record["Id"], line) for line in record.get("Line", [])]
        deposit = payments.deposit_of(company, record["Id"])
        if deposit:
            out["LinkedTxn"] = [{"TxnId": deposit, "TxnType": "Deposit"}]
    elif etype == "Account":
        out["CurrentBalance"] = ledger.balance(company, record)
        out["CurrentBalanceWithSubAccounts"] = ledger.balance_with_subaccounts(company, record)
    elif etype == "Preferences":
        out["CurrencyPrefs"] = {**(record.get("CurrencyPrefs") or {}),
                                "MultiCurrencyEnabled": bool(company.settings["multicurrency"]),
                                "HomeCurrency": {"value": company.home_currency}}
    if etype in ("Account", "Item", "Customer", "Vendor") and record.get("Active") is False:
        for field in ("Name", "DisplayName", "FullyQualifiedName", "PrintOnCheckName"):
            if field in out and not str(out[field]).endswith(" (deleted)"):
                out[field] = f"{out[field]} (deleted)"
    return out
