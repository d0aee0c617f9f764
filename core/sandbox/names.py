"""Name lists QBO keeps unique: Account, Item, Customer, Vendor (reference 5.2, 5.3, 5.5)."""

from __future__ import annotations

from core.sandbox import faults
from core.sandbox.common import blank, named, number, ref_id, resolve
from core.sandbox.company import CURRENCY_NAMES, Company
from core.sandbox.tax import default_tax_group

CLASSIFICATION = {
    "Bank": "Asset", "Accounts Receivable": "Asset", "Other Current Asset": "Asset", "Fixed Asset": "Asset",
    "Other Asset": "Asset", "Accounts Payable": "Liability", "Credit Card": "Liability",
    "Other Current Liability": "Liability", "Long Term Liability": "Liability", "Equity": "Equity",
    "Income": "Revenue", "Other Income": "Revenue", "Cost of Goods Sold": "Expense", "Expense": "Expense",
    "Other Expense": "Expense",
}
ITEM_TYPES = ("Service", "NonInventory")
# DisplayName is unique across customers, vendors and employees (reference 5.5).
PEOPLE = ("Customer", "Vendor")


# -- name lists -------------------------------------------------------------------------------------

def _unique(company: Company, etype: str, value: str, own_id: str | None, what: str) -> None:
    for kind in PEOPLE if etype in PEOPLE else (etype,):
        other = company.find(kind, value)
        if other is not None and (other != own_id or kind != etype):
            raise faults.duplicate_name(what)


def _party_currency(company: Company, body: dict, existing_currency: str | None) -> dict:
    """A customer's or vendor's currency: the home currency unless multicurrency is on (6000 otherwise)."""
    code = (ref_id(body.get("CurrencyRef")) or existing_currency or company.home_currency).upper()
    if code != company.home_currency and not company.settings["multicurrency"]:
        raise faults.business(f"The currency {code} cannot be used: multicurrency is off in this company.",
                              "CurrencyRef")
    if code not in CURRENCY_NAMES:
        raise faults.invalid_reference("CurrencyRef")
    return {"value": code, "name": CURRENCY_NAMES[code]}


def build_account(company: Company, body: dict, own_id: str | None) -> dict:
    name = str(body.get("Name") or "").strip()
    if not name:
        raise faults.missing("Name")
    atype = body.get("AccountType")
    if blank(atype):
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
    record["IncomeAccountRef"] = named(income)
    expense = resolve(company, "Account", body.get("ExpenseAccountRef"), "ExpenseAccountRef",
                      required=company.country in ("CA", "UK"))
    if expense:
        record["ExpenseAccountRef"] = named(expense)
    record.setdefault("Active", True)
    record.setdefault("Taxable", False)
    record["UnitPrice"] = number(body.get("UnitPrice"), "UnitPrice") or 0
    record["PurchaseCost"] = number(body.get("PurchaseCost"), "PurchaseCost") or 0
    record["TrackQtyOnHand"] = False
    return record


def _display_name(body: dict) -> str:
    name = str(body.get("DisplayName") or "").strip()
    if name:
        return name
    parts = [str(body.get(k) or "").strip() for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
    name = " ".join(p for p in parts if p)
    return name or str(body.get("CompanyName") or "").strip()


def _named(company: Company, etype: str, body: dict, own_id: str | None) -> dict:
    """The record of a customer or vendor with its DisplayName checked (present, no colon, tab or newline, unique
    among customers, vendors and employees) and PrintOnCheckName defaulted to it."""
    name = _display_name(body)
    if not name:
        raise faults.missing("DisplayName")
    if ":" in name or "\t" in name or "\n" in name:
        raise faults.Fault("2010", "Request has invalid or unsupported property",
                           "Property Name:DisplayName cannot contain a colon (:), tab or newline "
                           "specified is unsupported or invalid", "DisplayName")
    _unique(company, etype, name, own_id, "customer, vendor or employee")
    record = dict(body)
    record["DisplayName"] = name
    record.setdefault("PrintOnCheckName", name)
    return record


def build_customer(company: Company, body: dict, own_id: str | None) -> dict:
    record = _named(company, "Customer", body, own_id)
    parent = resolve(company, "Customer", body.get("ParentRef"), "ParentRef", required=bool(body.get("Job")))
    if parent is not None and own_id is not None and _under(company, parent, own_id):
        raise faults.business("A customer cannot be its own parent or a sub-customer of its own sub-customers.",
                              "ParentRef")
    if body.get("BillWithParent") and parent is None:
        raise faults.business("BillWithParent needs a ParentRef: only a sub-customer is billed with its parent.",
                              "BillWithParent")
    record["Job"] = parent is not None
    record.setdefault("BillWithParent", False)
    if parent:
        record["ParentRef"] = {"value": parent["Id"]}
        record["Level"] = parent.get("Level", 0) + 1
        record["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{record['DisplayName']}"
    else:
        record["FullyQualifiedName"] = record["DisplayName"]
    tax_code = resolve(company, "TaxCode", body.get("DefaultTaxCodeRef"), "DefaultTaxCodeRef")
    if tax_code is None and company.us and own_id is None:
        tax_code = default_tax_group(company)
    if tax_code:
        record["DefaultTaxCodeRef"] = {"value": tax_code["Id"]}
    record.setdefault("Taxable", company.us)
    record.setdefault("PreferredDeliveryMethod", "Print")
    old = company.get("Customer", own_id) if own_id else None
    record["CurrencyRef"] = _party_currency(company, body, ref_id((old or {}).get("CurrencyRef")))
    if (old and own_id and record["CurrencyRef"]["value"] != ref_id(old.get("CurrencyRef"))
            and company.customer_docs(own_id)):
        raise faults.business("The currency of a customer with transactions cannot be changed.", "CurrencyRef")
    record.setdefault("Active", True)
    return record


def _under(company: Company, parent: dict, own_id: str) -> bool:
    """True when `parent` is `own_id` or one of its sub-customers (a cycle)."""
    seen: set[str] = set()
    node: dict | None = parent
    while node is not None and node["Id"] not in seen:
        if node["Id"] == own_id:
            return True
        seen.add(node["Id"])
        up = ref_id(node.get("ParentRef"))
        node = company.get("Customer", up) if up else None
    return False


def build_vendor(company: Company, body: dict, own_id: str | None) -> dict:
    record = _named(company, "Vendor", body, own_id)
    old = company.get("Vendor", own_id) if own_id else None
    record["CurrencyRef"] = _party_currency(company, body, ref_id((old or {}).get("CurrencyRef")))
    record.setdefault("Vendor1099", False)
    record.setdefault("Active", True)
    return record


