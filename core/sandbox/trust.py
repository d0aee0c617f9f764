"""The entities that move money between balance-sheet accounts, as trust accounting needs them:
JournalEntry (5.10), Deposit (5.11), Transfer (5.16) and Purchase (5.17). Codes the reference leaves
UNCONFIRMED are 6000 (business validation), as it suggests."""

from __future__ import annotations

from decimal import Decimal

from core.sandbox import faults
from core.sandbox.common import (ZERO, apply_currency, blank, enum, money, named, parse_date, ref_id, resolve,
                                 today)
from core.sandbox.company import Company
from core.sandbox.payments import deposit_of

ENTITY_KINDS = {"Customer": "Customer", "Job": "Customer", "Vendor": "Vendor"}
PAYMENT_TYPES = ("Cash", "Check", "CreditCard")
ASSET_TYPES = ("Bank", "Other Current Asset", "Fixed Asset", "Other Asset")


def _account(company: Company, ref: object, element: str) -> dict:
    account = resolve(company, "Account", ref, element, required=True)
    assert account is not None
    return account


def _entity(company: Company, kind: str | None, ref: object, element: str) -> dict:
    etype = ENTITY_KINDS.get(str(kind or "Customer"))
    if etype is None:
        raise faults.invalid_reference(element)
    return resolve(company, etype, ref, element, required=True)


def _header(company: Company, record: dict, body: dict, total: Decimal, party: dict | None = None) -> None:
    record["TxnDate"] = parse_date(body.get("TxnDate"), "TxnDate") or today()
    apply_currency(company, record, body, party, total)
    if record.get("PrivateNote") and len(str(record["PrivateNote"])) > 4000:
        raise faults.Fault("2050", "Length exceeds limit", "PrivateNote max length is 4000", "PrivateNote")


def _lines(body: dict) -> list:
    lines = body.get("Line")
    if not isinstance(lines, list) or not lines:
        raise faults.missing("Line")
    if not all(isinstance(line, dict) for line in lines):
        raise faults.bad_request_body("Line")
    return lines


def _amount(raw: dict, element: str = "Line.Amount", *, positive: bool = True) -> Decimal:
    if blank(raw.get("Amount")):
        raise faults.missing(element)
    amount = money(raw["Amount"], element)
    if positive and amount < 0:
        raise faults.business(f"The amount must not be negative (supplied {amount}).", element)
    return amount


def build_journal_entry(company: Company, body: dict, own_id: str | None) -> dict:
    lines = _lines(body)
    out = []
    debit = credit = ZERO
    for n, raw in enumerate(lines):
        if raw.get("DetailType") != "JournalEntryLineDetail":
            raise faults.missing("Line.JournalEntryLineDetail")
        amount = _amount(raw)
        detail = dict(raw.get("JournalEntryLineDetail") or {})
        posting = detail.get("PostingType")
        if blank(posting):
            raise faults.missing("Line.JournalEntryLineDetail.PostingType")
        enum(posting, ("Debit", "Credit"), "Line.JournalEntryLineDetail.PostingType")
        if ref_id(detail.get("AccountRef")) is None:
            raise faults.missing("AccountRef")
        account = _account(company, detail.get("AccountRef"), "Line.JournalEntryLineDetail.AccountRef")
        detail["AccountRef"] = named(account)
        given = detail.get("Entity")
        entity: dict = given if isinstance(given, dict) else {}
        who = None
        if ref_id(entity.get("EntityRef")):
            who = _entity(company, entity.get("Type"), entity["EntityRef"], "Line.JournalEntryLineDetail.Entity.EntityRef")
            detail["Entity"] = {"Type": entity.get("Type") or "Customer",
                                "EntityRef": {"value": who["Id"], "name": who["DisplayName"]}}
        else:
            detail.pop("Entity", None)
        kind = (detail.get("Entity") or {}).get("Type")
        if account.get("AccountType") == "Accounts Receivable" and kind not in ("Customer", "Job"):
            raise faults.business("When you use Accounts Receivable, you must choose a customer in the Name field.")
        if account.get("AccountType") == "Accounts Payable" and kind != "Vendor":
            raise faults.business("When you use Accounts Payable, you must choose a vendor in the Name field.")
        if posting == "Debit":
            debit += amount
        else:
            credit += amount
        line = {k: v for k, v in raw.items() if not blank(v) and k not in ("Id", "LineNum")}
        line.update(Id=str(n), Amount=amount, JournalEntryLineDetail=detail)
        out.append(line)
    if len(out) < 2:
        raise faults.business("Fill out at least two detail lines to continue.")
    if debit != credit:
        raise faults.business(
            f"Transaction is not balanced. Total debits ({debit}) must equal total credits ({credit}).", "Line")
    record = dict(body)
    record["Line"] = out
    record["TotalAmt"] = debit
    _header(company, record, body, debit)
    record.setdefault("Adjustment", False)
    record["TxnTaxDetail"] = {}
    return record


def build_deposit(company: Company, body: dict, own_id: str | None) -> dict:
    """Direct lines (DepositLineDetail.AccountRef, optional Entity) and lines that take a Payment out of
    Undeposited Funds (LinkedTxn, whole amount only); DepositToAccountRef Bank or Other Current Asset."""
    target = _account(company, body.get("DepositToAccountRef"), "DepositToAccountRef")
    if target.get("AccountType") not in ("Bank", "Other Current Asset"):
        raise faults.business("Select a bank account for this deposit.", "DepositToAccountRef")
    out: list[dict] = []
    total = ZERO
    linked: set[str] = set()
    for n, raw in enumerate(_lines(body), 1):
        amount = _amount(raw, positive=False)
        links = raw.get("LinkedTxn") or []
        detail = dict(raw.get("DepositLineDetail") or {})
        if links:
            if raw.get("DetailType") == "DepositLineDetail":
                raise faults.missing("Line.DepositLineDetail.AccountRef")  # python-quickbooks #329
            link = links[0] if isinstance(links[0], dict) else {}
            if link.get("TxnType") != "Payment":
                raise faults.business(f"A {link.get('TxnType')} cannot be deposited here.", "Line.LinkedTxn")
            pid = str(link.get("TxnId") or "")
            payment = company.get("Payment", pid)
            if payment is None:
                raise faults.business(f"The entity Payment {pid} that you are trying to link does not exist.",
                                      "Line.LinkedTxn")
            elsewhere = deposit_of(company, pid)
            if pid in linked or (elsewhere is not None and elsewhere != own_id):
                raise faults.business(f"Payment {pid} has already been deposited.", "Line.LinkedTxn")
            source = company.get("Account", ref_id(payment.get("DepositToAccountRef")) or "")
            if source is None or source.get("AccountSubType") != "UndepositedFunds":
                raise faults.business(f"Payment {pid} was not received into Undeposited Funds.", "Line.LinkedTxn")
            if amount != money(payment["TotalAmt"], "TotalAmt"):
                raise faults.business(
                    f"Payment {pid} is {payment['TotalAmt']}: deposit all of it (the line says {amount}).",
                    "Line.Amount")
            linked.add(pid)
            line = {"Amount": amount, "LinkedTxn": [{"TxnId": pid, "TxnType": "Payment", "TxnLineId": "0"}]}
            if detail:
                line["DepositLineDetail"] = {k: v for k, v in detail.items() if k in ("PaymentMethodRef", "CheckNum")}
        else:
            if raw.get("DetailType") != "DepositLineDetail":
                raise faults.missing("Line.DetailType")
            if ref_id(detail.get("AccountRef")) is None:
                raise faults.missing("Line.DepositLineDetail.AccountRef")
            account = _account(company, detail["AccountRef"], "Line.DepositLineDetail.AccountRef")
            detail["AccountRef"] = named(account)
            entity = detail.get("Entity")
            if isinstance(entity, dict) and ref_id(entity):
                kind = str(entity.get("type") or "CUSTOMER").capitalize()
                who = _entity(company, kind, entity, "Line.DepositLineDetail.Entity")
                detail["Entity"] = {"value": who["Id"], "name": who["DisplayName"], "type": kind.upper()}
            else:
                detail.pop("Entity", None)
            if account.get("AccountType") == "Accounts Receivable" and "Entity" not in detail:
                raise faults.business("When you use Accounts Receivable, you must choose a customer in the Name field.")
            line = {k: v for k, v in raw.items() if not blank(v) and k not in ("Id", "LineNum", "LinkedTxn")}
            line.update(Id=str(n), LineNum=n, Amount=amount, DepositLineDetail=detail)
        total += amount
        out.append(line)
    record = dict(body)
    record["Line"] = out
    record["DepositToAccountRef"] = named(target)
    cash_back = body.get("CashBack")
    if isinstance(cash_back, dict) and not blank(cash_back.get("Amount")):
        back = _account(company, cash_back.get("AccountRef"), "CashBack.AccountRef")
        amount = _amount(cash_back, "CashBack.Amount")
        record["CashBack"] = {**cash_back, "AccountRef": named(back), "Amount": amount}
        total -= amount
    else:
        record.pop("CashBack", None)
    if total < 0:
        raise faults.business(f"The deposit total cannot be negative ({total}).", "Line")
    record["TotalAmt"] = total
    _header(company, record, body, total)
    return record


def build_transfer(company: Company, body: dict, own_id: str | None) -> dict:
    accounts = []
    for key in ("FromAccountRef", "ToAccountRef"):
        account = _account(company, body.get(key), key)
        if account.get("Classification") != "Asset" or account.get("AccountType") == "Accounts Receivable":
            raise faults.business(
                f"{account['FullyQualifiedName']} ({account.get('AccountType')}) cannot be used in a transfer: "
                "choose an asset account other than Accounts Receivable.", key)
        accounts.append(account)
    if accounts[0]["Id"] == accounts[1]["Id"]:
        raise faults.business("You can't transfer money to the same account it comes from.", "ToAccountRef")
    amount = _amount(body, "Amount")
    if amount <= 0:
        raise faults.business(f"The transfer amount must be more than 0 (supplied {amount}).", "Amount")
    record = dict(body)
    record.update(FromAccountRef=named(accounts[0]), ToAccountRef=named(accounts[1]), Amount=amount)
    _header(company, record, body, amount)
    return record


def build_purchase(company: Company, body: dict, own_id: str | None) -> dict:
    if blank(body.get("PaymentType")):
        raise faults.missing("PaymentType")
    kind = enum(body["PaymentType"], PAYMENT_TYPES, "PaymentType")
    account = _account(company, body.get("AccountRef"), "AccountRef")
    wanted = ("Credit Card",) if kind == "CreditCard" else ("Bank",)
    if account.get("AccountType") not in wanted:
        raise faults.business(
            f"A {kind} purchase must be paid from a {' or '.join(wanted)} account, not "
            f"{account['FullyQualifiedName']} ({account.get('AccountType')}).", "AccountRef")
    if body.get("Credit") is True and kind != "CreditCard":
        raise faults.business("Credit is valid only for a credit card purchase.", "Credit")
    payee = None
    entity = body.get("EntityRef")
    if isinstance(entity, dict) and ref_id(entity):
        payee = _entity(company, entity.get("type") or "Vendor", entity, "EntityRef")
    out = []
    total = ZERO
    for n, raw in enumerate(_lines(body), 1):
        if raw.get("DetailType") != "AccountBasedExpenseLineDetail":
            raise faults.missing("Line.AccountBasedExpenseLineDetail")
        amount = _amount(raw)
        detail = dict(raw.get("AccountBasedExpenseLineDetail") or {})
        line_account = _account(company, detail.get("AccountRef"), "Line.AccountBasedExpenseLineDetail.AccountRef")
        detail["AccountRef"] = named(line_account)
        customer = resolve(company, "Customer", detail.get("CustomerRef"), "Line.AccountBasedExpenseLineDetail.CustomerRef")
        if customer:
            detail["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
        billable = detail.get("BillableStatus") or "NotBillable"
        enum(billable, ("Billable", "NotBillable", "HasBeenBilled"), "Line.AccountBasedExpenseLineDetail.BillableStatus")
        if billable == "Billable" and customer is None:
            raise faults.business("A billable expense line needs a customer.", "Line.AccountBasedExpenseLineDetail.CustomerRef")
        detail["BillableStatus"] = billable
        if company.us:
            detail.setdefault("TaxCodeRef", {"value": "NON"})
        line = {k: v for k, v in raw.items() if not blank(v) and k not in ("Id", "LineNum")}
        line.update(Id=str(n), Amount=amount, AccountBasedExpenseLineDetail=detail)
        total += amount
        out.append(line)
    record = dict(body)
    record.update(PaymentType=kind, AccountRef=named(account), Line=out, TotalAmt=total)
    record.setdefault("Credit", False)
    if payee:
        record["EntityRef"] = {"value": payee["Id"], "name": payee["DisplayName"],
                               "type": "Vendor" if payee in company.all("Vendor") else "Customer"}
    _header(company, record, body, total, payee if payee and payee.get("CurrencyRef") else None)
    return record

