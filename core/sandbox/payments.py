"""Payments and the balances they move (reference 5.7, 5.14 "Payments against open balances").

A payment line may apply at most the linked invoice's open Balance (or a credit memo's remaining credit):
more is refused with 6000 naming the document and both amounts. TotalAmt above what the lines apply is
the payment's UnappliedAmt (read-only), a credit on the customer. Voiding a paid invoice takes the
payment lines off it, so what they applied goes back to each payment's UnappliedAmt.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any, Callable

from core.sandbox import faults, jsonfmt
from core.sandbox.common import ZERO, apply_currency, blank, money, parse_date, ref_id, resolve, today
from core.sandbox.company import Company


def open_amount(company: Company, txn_type: str, txn: dict, except_payment: str | None) -> Decimal:
    applied = company.applied_to(txn_type, txn["Id"])
    used = sum((amt for pid, amt in applied.items() if pid != except_payment), ZERO)
    return jsonfmt.money(txn.get("TotalAmt", 0)) - used


def invoice_balance(company: Company, invoice: dict) -> Decimal:
    return open_amount(company, "Invoice", invoice, None)


def customer_balance(company: Company, customer_id: str) -> Decimal:
    total = ZERO
    for etype, doc in company.customer_docs(customer_id):
        if etype == "Invoice":
            total += invoice_balance(company, doc)
        elif etype == "CreditMemo":
            total -= open_amount(company, "CreditMemo", doc, None)
        else:
            total -= jsonfmt.money(doc.get("UnappliedAmt", 0))
    return total


def deposit_of(company: Company, payment_id: str) -> str | None:
    """The Deposit that took this payment out of Undeposited Funds, if any."""
    for deposit in company.all("Deposit"):
        for line in deposit.get("Line") or []:
            for link in line.get("LinkedTxn") or []:
                if link.get("TxnType") == "Payment" and str(link.get("TxnId")) == payment_id:
                    return deposit["Id"]
    return None


def refuse_if_deposited(company: Company, payment_id: str) -> None:
    if deposit_of(company, payment_id):
        raise faults.Fault("6540", "Deposited Transaction cannot be changed",
                           "This transaction has been deposited. If you want to change or delete it, you must first "
                           "edit the deposit it appears on and remove it.", "")


def build_payment(company: Company, body: dict, own_id: str | None) -> dict:
    customer = resolve(company, "Customer", body.get("CustomerRef"), "CustomerRef", required=True)
    if blank(body.get("TotalAmt")):
        raise faults.missing("TotalAmt")
    total = money(body["TotalAmt"], "TotalAmt")
    if total < 0:
        raise faults.business("You must set a transaction amount that is zero or more.", "TotalAmt")
    record = dict(body)
    lines = []
    net_applied = ZERO
    for raw in body.get("Line") or []:
        if not isinstance(raw, dict):
            raise faults.bad_request_body("Line")
        if blank(raw.get("Amount")):
            raise faults.missing("Line.Amount")
        amount = money(raw["Amount"], "Line.Amount")
        if amount < 0:
            raise faults.business(f"A payment line cannot apply a negative amount ({amount}).", "Line.Amount")
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
            if ref_id(txn.get("CustomerRef")) != customer["Id"] and not _job_of(company, txn, customer):
                raise faults.business(
                    f"{txn_type} {txn.get('DocNumber', txn_id)} belongs to another customer and cannot be linked "
                    "to this payment.", "Line.LinkedTxn")
            available = open_amount(company, txn_type, txn, own_id)
            if amount > available:
                what = "open balance" if txn_type == "Invoice" else "remaining credit"
                raise faults.business(
                    f"The payment amount {amount} applied to {txn_type} {txn.get('DocNumber', txn_id)} is more than "
                    f"its {what} of {available}.", "Line.Amount")
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
    elif deposit.get("AccountType") not in ("Bank", "Other Current Asset"):
        raise faults.business("Select a bank account for this deposit.", "DepositToAccountRef")
    if deposit:
        record["DepositToAccountRef"] = {"value": deposit["Id"]}
    record["TxnDate"] = parse_date(body.get("TxnDate"), "TxnDate") or today()
    apply_currency(company, record, body, customer, total)
    record.setdefault("ProcessPayment", False)
    return record


def void_payment(record: dict) -> dict:
    out = copy.deepcopy(record)
    for line in out.get("Line", []):
        line["Amount"] = ZERO
    out["TotalAmt"] = ZERO
    out["UnappliedAmt"] = ZERO
    out.pop("HomeTotalAmt", None)
    return out


def release(company: Company, txn_type: str, txn_id: str, save: Callable[[str, dict, dict], Any]) -> None:
    """Take every payment line off a voided document: what it applied goes back to UnappliedAmt."""
    for pid in sorted(company.applied_to(txn_type, txn_id), key=int):
        payment = company.get("Payment", pid)
        if payment is None:
            continue
        record = copy.deepcopy(payment)
        kept, freed = [], ZERO
        for line in record.get("Line") or []:
            if any(link["TxnType"] == txn_type and str(link["TxnId"]) == txn_id for link in line["LinkedTxn"]):
                freed += line["Amount"] if txn_type == "Invoice" else -line["Amount"]
            else:
                kept.append(line)
        record["Line"] = kept
        record["UnappliedAmt"] = jsonfmt.money(record.get("UnappliedAmt", 0)) + freed
        save("Payment", record, payment)


def name_value(name: str, value: str) -> dict:
    return {"name": "{http://schema.intuit.com/finance/v3}NameValue", "declaredType": "com.intuit.schema.finance.v3.NameValue",
            "scope": "javax.xml.bind.JAXBElement$GlobalScope", "value": {"Name": name, "Value": value},
            "nil": False, "globalScope": True, "typeSubstituted": False}


def render_line(company: Company, payment_id: str, line: dict) -> dict:
    """A payment line as QBO answers it: with the JAXB-style LineEx naming the linked transaction."""
    links = line.get("LinkedTxn") or []
    txn = company.get(links[0]["TxnType"], links[0]["TxnId"]) if links else None
    if txn is None:
        return line
    before = open_amount(company, links[0]["TxnType"], txn, payment_id)
    extras = [name_value("txnId", txn["Id"]), name_value("txnOpenBalance", str(before))]
    if txn.get("DocNumber"):
        extras.append(name_value("txnReferenceNumber", str(txn["DocNumber"])))
    return {**line, "LineEx": {"any": extras}}


def _job_of(company: Company, txn: dict, customer: dict) -> bool:
    """Under the lenient reading (setting job_payments = parent_or_job) a parent's payment may link its jobs'
    documents; the default, stricter one links only documents of the payment's own customer."""
    if company.settings["job_payments"] != "parent_or_job":
        return False
    owner = company.get("Customer", ref_id(txn.get("CustomerRef")) or "")
    return bool(owner and ref_id(owner.get("ParentRef")) == customer["Id"])
