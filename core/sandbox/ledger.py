"""The postings each transaction makes, and the balances QBO derives from them (reference 5.2).

Account.CurrentBalance is debits minus credits (a liability owed is negative) for balance-sheet accounts
and 0 for income and expense accounts. Postings carry the customer they name (an invoice's or payment's
customer, a JournalEntry line's customer Entity, a deposit line's Entity, a purchase line's CustomerRef),
so an account's balance per customer can be read: `SandboxState.balances(realm, account_id)` and the
sandbox's own report `GET /v3/company/{realm}/reports/AccountBalanceByCustomer?account=<id>`.
Amounts are in the home currency (a foreign transaction's amounts times its ExchangeRate).
Balances are worked out again only after something changed (cached per company version).
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from decimal import Decimal
from typing import Iterator

from core import paths
from core.sandbox.common import ZERO, home_amount, ref_id
from core.sandbox.company import Company

BALANCE_SHEET = ("Asset", "Liability", "Equity")
Posting = tuple[str, Decimal, str | None]  # account id, debit (+) or credit (-), customer id


@functools.cache
def _agency_accounts(country: str) -> dict[str, str]:
    seed = json.loads((paths.sandbox_seed_dir(country) / "seed.json").read_text())
    return {name: account for name, account in seed["tax"].get("agencies", [])}


def _first(company: Company, **match: str) -> str | None:
    """The first account with these fields (remembered until the company changes)."""
    key = tuple(sorted(match.items()))
    memo = company.__dict__.setdefault("_ledger_first", {})
    if memo.get("version") != company.version:
        memo.clear()
        memo["version"] = company.version
    if key not in memo:
        memo[key] = next((a["Id"] for a in company.all("Account")
                          if all(a.get(k) == v for k, v in match.items())), None)
    return memo[key]


def tax_account(company: Company, rate: dict) -> str | None:
    agency = company.get("TaxAgency", ref_id(rate.get("AgencyRef")) or "")
    name = _agency_accounts(company.country).get((agency or {}).get("DisplayName", ""))
    if name and company.find("Account", name):
        return company.find("Account", name)
    return _first(company, AccountSubType="SalesTaxPayable") or _first(company, AccountSubType="GlobalTaxPayable")


def _sales_form(company: Company, record: dict, sign: int) -> Iterator[Posting]:
    customer = ref_id(record.get("CustomerRef"))
    ar = ref_id(record.get("ARAccountRef")) or _first(company, AccountType="Accounts Receivable")
    total = home_amount(record, Decimal(str(record.get("TotalAmt", 0))))
    if ar:
        yield ar, sign * total, customer
    taxes = []
    for line in (record.get("TxnTaxDetail") or {}).get("TaxLine") or []:
        rate = company.get("TaxRate", ref_id(line["TaxLineDetail"].get("TaxRateRef")) or "")
        account = tax_account(company, rate) if rate else None
        if account:
            amount = home_amount(record, Decimal(str(line.get("Amount", 0))))
            taxes.append(amount)
            yield account, -sign * amount, customer
    rest = total - sum(taxes, ZERO)
    items = [line for line in record.get("Line") or [] if line.get("DetailType") == "SalesItemLineDetail"]
    for n, line in enumerate(items):
        item = company.get("Item", ref_id(line["SalesItemLineDetail"].get("ItemRef")) or "")
        income = ref_id((item or {}).get("IncomeAccountRef"))
        amount = rest if n == len(items) - 1 else home_amount(record, Decimal(str(line["Amount"])))
        rest -= amount
        if income:
            yield income, -sign * amount, customer


def postings(company: Company, etype: str, record: dict) -> Iterator[Posting]:
    if etype == "Invoice":
        yield from _sales_form(company, record, 1)
    elif etype == "CreditMemo":
        yield from _sales_form(company, record, -1)
    elif etype == "Payment":
        amount = home_amount(record, Decimal(str(record.get("TotalAmt", 0))))
        customer = ref_id(record.get("CustomerRef"))
        target = ref_id(record.get("DepositToAccountRef"))
        ar = ref_id(record.get("ARAccountRef")) or _first(company, AccountType="Accounts Receivable")
        if target and ar:
            yield target, amount, customer
            yield ar, -amount, customer
    elif etype == "Deposit":
        yield ref_id(record["DepositToAccountRef"]) or "", home_amount(record, Decimal(str(record["TotalAmt"]))), None
        undeposited = _first(company, AccountSubType="UndepositedFunds")
        for line in record.get("Line") or []:
            amount = home_amount(record, Decimal(str(line["Amount"])))
            if line.get("LinkedTxn"):
                payment = company.get("Payment", str(line["LinkedTxn"][0]["TxnId"])) or {}
                yield undeposited or "", -amount, ref_id(payment.get("CustomerRef"))
            else:
                detail = line["DepositLineDetail"]
                entity = detail.get("Entity") or {}
                who = entity.get("value") if entity.get("type") == "CUSTOMER" else None
                yield ref_id(detail["AccountRef"]) or "", -amount, who
        back = record.get("CashBack")
        if back:
            yield ref_id(back["AccountRef"]) or "", home_amount(record, Decimal(str(back["Amount"]))), None
    elif etype == "JournalEntry":
        for line in record.get("Line") or []:
            detail = line["JournalEntryLineDetail"]
            amount = home_amount(record, Decimal(str(line["Amount"])))
            entity = detail.get("Entity") or {}
            who = ref_id(entity.get("EntityRef")) if entity.get("Type") in ("Customer", "Job") else None
            yield ref_id(detail["AccountRef"]) or "", amount if detail["PostingType"] == "Debit" else -amount, who
    elif etype == "Transfer":
        amount = home_amount(record, Decimal(str(record["Amount"])))
        yield ref_id(record["ToAccountRef"]) or "", amount, None
        yield ref_id(record["FromAccountRef"]) or "", -amount, None
    elif etype == "Purchase":
        sign = -1 if record.get("Credit") is True else 1
        yield ref_id(record["AccountRef"]) or "", -sign * home_amount(record, Decimal(str(record["TotalAmt"]))), None
        for line in record.get("Line") or []:
            detail = line["AccountBasedExpenseLineDetail"]
            yield (ref_id(detail["AccountRef"]) or "", sign * home_amount(record, Decimal(str(line["Amount"]))),
                   ref_id(detail.get("CustomerRef")))


POSTING_TYPES = ("Invoice", "CreditMemo", "Payment", "Deposit", "JournalEntry", "Transfer", "Purchase")


def _totals(company: Company) -> tuple[dict[str, Decimal], dict[str, dict[str | None, Decimal]]]:
    cached = getattr(company, "_ledger_cache", None)
    if cached and cached[0] == company.version:
        return cached[1], cached[2]
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    per: dict[str, dict[str | None, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for etype in POSTING_TYPES:
        for record in company.all(etype):
            for account, amount, customer in postings(company, etype, record):
                totals[account] += amount
                per[account][customer] += amount
    company._ledger_cache = (company.version, totals, per)  # type: ignore[attr-defined]
    return totals, per


def balance(company: Company, account: dict) -> Decimal:
    if account.get("Classification") not in BALANCE_SHEET:
        return ZERO
    return _totals(company)[0].get(account["Id"], ZERO)


def balance_with_subaccounts(company: Company, account: dict) -> Decimal:
    total = balance(company, account)
    if not any(ref_id(a.get("ParentRef")) == account["Id"] for a in company.all("Account")):
        return total
    for child in company.all("Account"):
        if ref_id(child.get("ParentRef")) == account["Id"]:
            total += balance_with_subaccounts(company, child)
    return total


def by_customer(company: Company, account_id: str) -> dict[str | None, Decimal]:
    return {who: amount for who, amount in _totals(company)[1].get(account_id, {}).items() if amount != 0}
