"""QBO payloads as pydantic models, built from a ledger document's current state and the three maps.

Rules (reference/qbo-api.md sections 5.6-5.8 and 5.13):
- every sales line takes its ItemRef from the sales invoice account map and its tax code from the tax map;
- US companies: lines carry the pseudo codes TAX / NON, and TxnTaxDetail names the one taxable code;
- other countries: every line carries the mapped TaxCode id, and GlobalTaxCalculation is TaxExcluded;
- DocNumber is the ledger number (21 characters at most); a credit note keeps its prefix (CR-, WO-);
- a payment applies its money with LinkedTxn lines and is deposited to the GL map's account of its bank;
- a credit memo is applied to its invoice by a zero-total Payment linking both.

A document that cannot be built raises `ParkedFor` with its reason as a value (core.qbo.reasons).
Amounts are Decimals made from integer minor units (never floats).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from core.money import to_decimal
from core.qbo.reasons import (  # noqa: F401 (the sentences' parts, re-exported)
    GL_MAP_WHERE, SALES_MAP_WHERE, TAX_MAP_WHERE, WRITEOFF_FIX, WRITEOFF_NO_ITEM, ParkedFor, Reason,
)

MAX_DOC_NUMBER = 21
MAX_DISPLAY_NAME = 500



class WaitsForInvoice(ParkedFor):
    """A payment or credit note whose invoice is not in QBO: the engine adds why (e.g. it is parked)."""

    def __init__(self, what: str, invoice_id: int, invoice: str):
        super().__init__(Reason("waits_for_invoice", {"what": what, "invoice_id": invoice_id, "invoice": invoice}))
        self.invoice_id = invoice_id


def _unusable(ctx: "PushContext", kind: str, ledger_id: int) -> ParkedFor:
    return ParkedFor(Reason("map_unusable", {"kind": kind, "ledger_id": ledger_id,
                                             "message": ctx.map_messages[(kind, ledger_id)]}))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def body(self) -> dict:
        """The JSON body (Decimals kept exact; fields left unset are not sent)."""
        return self.model_dump(exclude_none=True, by_alias=True)


class Ref(_Model):
    value: str
    name: str | None = None


class SalesItemLineDetail(_Model):
    ItemRef: Ref
    TaxCodeRef: Ref
    Qty: Decimal | None = None
    UnitPrice: Decimal | None = None


class SalesLine(_Model):
    DetailType: Literal["SalesItemLineDetail"] = "SalesItemLineDetail"
    Amount: Decimal
    Description: str | None = None
    SalesItemLineDetail: SalesItemLineDetail


class TaxLineDetail(_Model):
    TaxRateRef: Ref
    PercentBased: bool = True
    TaxPercent: Decimal | None = None
    NetAmountTaxable: Decimal


class TaxLineModel(_Model):
    Amount: Decimal
    DetailType: Literal["TaxLineDetail"] = "TaxLineDetail"
    TaxLineDetail: TaxLineDetail


class TxnTaxDetail(_Model):
    TxnTaxCodeRef: Ref | None = None
    TotalTax: Decimal
    TaxLine: list[TaxLineModel] | None = None


class CreditMemoPayload(_Model):
    CustomerRef: Ref
    CurrencyRef: Ref
    DocNumber: str
    TxnDate: str
    Line: list[SalesLine]
    TxnTaxDetail: TxnTaxDetail
    GlobalTaxCalculation: Literal["TaxExcluded", "TaxInclusive", "NotApplicable"] | None = None
    PrivateNote: str | None = None


class InvoicePayload(CreditMemoPayload):
    DueDate: str


class LinkedTxn(_Model):
    TxnId: str
    TxnType: Literal["Invoice", "CreditMemo"]


class PaymentLine(_Model):
    Amount: Decimal
    LinkedTxn: list[LinkedTxn]


class PaymentPayload(_Model):
    CustomerRef: Ref
    CurrencyRef: Ref
    TotalAmt: Decimal
    TxnDate: str
    Line: list[PaymentLine]
    DepositToAccountRef: Ref | None = None
    PaymentRefNum: str | None = None
    PrivateNote: str | None = None


class EmailAddr(_Model):
    Address: str


class PhoneNumber(_Model):
    FreeFormNumber: str


class CustomerPayload(_Model):
    DisplayName: str
    PrimaryEmailAddr: EmailAddr | None = None
    PrimaryPhone: PhoneNumber | None = None


# ---------------------------------------------------------------- context


@dataclass(frozen=True)
class PushContext:
    """Everything a payload needs besides the document: company facts, maps and ledger names.

    Maps are keyed by ledger id: `sales` and `gl` by account id, `tax` by tax rate id. `invoice_ids`
    gives the QBO Id of each ledger invoice already in QBO; `customers` the QBO Id of each client.
    """

    us: bool
    currency: str
    sales: dict = field(default_factory=dict)  # account id -> Ref (Item)
    gl: dict = field(default_factory=dict)  # account id -> Ref (Account)
    tax: dict = field(default_factory=dict)  # tax rate id -> Ref (TaxCode)
    accounts: dict = field(default_factory=dict)  # account id -> ledger Account
    tax_rates: dict = field(default_factory=dict)  # tax rate id -> ledger TaxRate
    bank_accounts: dict = field(default_factory=dict)  # bank account id -> ledger BankAccount
    client_names: dict = field(default_factory=dict)  # client id -> name
    invoice_numbers: dict = field(default_factory=dict)  # invoice id -> number
    extra_items: dict = field(default_factory=dict)  # account id (e.g. bad debts) -> Ref (Item posting to its GL map)
    map_messages: dict = field(default_factory=dict)  # (kind, ledger id) -> why a map entry is unusable
    home_currency: str | None = None  # the QBO company's (None: not pulled yet); must equal `currency`
    company_name: str | None = None


def money(minor: int, currency: str) -> Decimal:
    return to_decimal(minor, currency)


def display_name(name: str) -> str:
    """A QBO DisplayName for a ledger client: no ':' (QBO's sub-customer separator), tabs or newlines."""
    clean = " ".join(name.replace(":", "-").split())
    return clean[:MAX_DISPLAY_NAME]


def customer_payload(name: str, email: str | None = None, phone: str | None = None) -> CustomerPayload:
    return CustomerPayload(
        DisplayName=display_name(name),
        PrimaryEmailAddr=EmailAddr(Address=email) if email else None,
        PrimaryPhone=PhoneNumber(FreeFormNumber=phone) if phone else None,
    )


def _account_label(ctx: PushContext, account_id: int) -> str:
    acc = ctx.accounts.get(account_id)
    return f"{acc.code} {acc.name}" if acc else f"#{account_id}"


def _item_ref(ctx: PushContext, account_id: int) -> Ref:
    ref = ctx.sales.get(account_id) or ctx.extra_items.get(account_id)
    if ref is None and ("sales", account_id) in ctx.map_messages:
        raise _unusable(ctx, "sales", account_id)
    acc = ctx.accounts.get(account_id)
    fields = {"account_id": account_id, "account": _account_label(ctx, account_id)}
    if ref is None and acc is not None and acc.subtype == "bad_debt":
        gl = ctx.gl.get(account_id)
        if gl is None:
            raise ParkedFor(Reason("writeoff_no_gl", fields))
        raise ParkedFor(Reason("writeoff_no_item", {**fields, "qbo_account": gl.name or "account " + gl.value}))
    if ref is None:
        raise ParkedFor(Reason("sales_unmapped", fields))
    return ref


def _tax_ref(ctx: PushContext, tax_rate_id: int) -> Ref:
    ref = ctx.tax.get(tax_rate_id)
    if ref is None and ("tax", tax_rate_id) in ctx.map_messages:
        raise _unusable(ctx, "tax", tax_rate_id)
    if ref is None:
        rate = ctx.tax_rates.get(tax_rate_id)
        if rate is None:
            label = f"#{tax_rate_id}"
        else:
            label = rate.name if f"{rate.rate_percent}%" in rate.name else f"{rate.name} ({rate.rate_percent}%)"
        raise ParkedFor(Reason("tax_unmapped", {"tax_rate_id": tax_rate_id, "tax_rate": label}))
    return ref


def _zero_rate_id(ctx: PushContext) -> int:
    for rate in ctx.tax_rates.values():
        if rate.rate_ppm == 0 and rate.id in ctx.tax:
            return rate.id
    raise ParkedFor(Reason("zero_rate_unmapped"))


def _is_taxable(ctx: PushContext, tax_rate_id: int) -> bool:
    rate = ctx.tax_rates.get(tax_rate_id)
    return bool(rate and rate.rate_ppm > 0 and not rate.exempt)


def _doc_number(kind: str, number: str) -> str:
    if len(number) > MAX_DOC_NUMBER:
        raise ParkedFor(Reason("number_too_long", {"kind": kind, "number": number, "max": MAX_DOC_NUMBER}))
    return number


def _customer_ref(client_id: int, customers: dict, ctx: PushContext) -> Ref:
    qbo_id = customers.get(client_id)
    if qbo_id is None:
        name = ctx.client_names.get(client_id, f"#{client_id}")
        raise ParkedFor(Reason("customer_missing", {"client_id": client_id, "client": name}))
    return Ref(value=qbo_id)


def _sales_lines(ctx: PushContext, lines, *, with_qty: bool) -> tuple[list[SalesLine], list[int]]:
    """Sales lines and the tax rate ids of the taxable ones."""
    out, taxable = [], []
    for line in lines:
        rate_id = line.tax_rate_id if line.tax_rate_id is not None else _zero_rate_id(ctx)
        code = _tax_ref(ctx, rate_id)
        if ctx.us:
            if _is_taxable(ctx, rate_id):
                taxable.append(rate_id)
                code = Ref(value="TAX")
            else:
                code = Ref(value="NON")
        elif _is_taxable(ctx, rate_id):
            taxable.append(rate_id)
        qty = unit = None
        if with_qty:
            q = Decimal(line.quantity)
            u = money(line.unit_price_minor, ctx.currency)
            if q * u == money(line.amount_minor, ctx.currency):
                qty, unit = q, u
        out.append(
            SalesLine(
                Amount=money(line.amount_minor, ctx.currency),
                Description=line.description or None,
                SalesItemLineDetail=SalesItemLineDetail(
                    ItemRef=_item_ref(ctx, line.account_id), TaxCodeRef=code, Qty=qty, UnitPrice=unit
                ),
            )
        )
    return out, taxable


def _override(ctx: PushContext, lines: list[dict]) -> list[TaxLineModel]:
    """Explicit TaxLines (core.qbo.sync_compare.override_lines): QBO's rates and nets with the ledger's amounts."""
    return [TaxLineModel(Amount=money(t["tax_minor"], ctx.currency),
                    TaxLineDetail=TaxLineDetail(TaxRateRef=Ref(value=t["rate_id"]),
                                                TaxPercent=Decimal(t["percent"]) if t["percent"] else None,
                                                NetAmountTaxable=money(t["net_minor"], ctx.currency)))
            for t in lines]


def _tax_detail(ctx: PushContext, kind: str, number: str, taxable: list[int], tax_minor: int,
                override: list[dict] | None = None) -> TxnTaxDetail:
    total = money(tax_minor, ctx.currency)
    tax_lines = _override(ctx, override) if override else None
    if not ctx.us:
        return TxnTaxDetail(TotalTax=total, TaxLine=tax_lines)
    distinct = sorted(set(taxable))
    if not distinct:
        return TxnTaxDetail(TotalTax=total, TaxLine=tax_lines)
    if len(distinct) > 1:
        names = ", ".join(ctx.tax_rates[r].name for r in distinct if r in ctx.tax_rates)
        raise ParkedFor(Reason("us_several_rates", {"kind": kind, "number": number, "rates": names}))
    return TxnTaxDetail(TxnTaxCodeRef=_tax_ref(ctx, distinct[0]), TotalTax=total, TaxLine=tax_lines)


def invoice_payload(inv, ctx: PushContext, customers: dict, tax_override: list[dict] | None = None) -> InvoicePayload:
    """`inv` is a ledger Invoice (core.ledger.models); `customers` maps client id -> QBO Customer Id;
    `tax_override` the TaxLines to send instead of letting QBO compute the tax."""
    number = _doc_number("Invoice", inv.number)
    lines, taxable = _sales_lines(ctx, inv.lines, with_qty=True)
    return InvoicePayload(
        CustomerRef=_customer_ref(inv.client_id, customers, ctx),
        CurrencyRef=Ref(value=ctx.currency),
        DocNumber=number,
        TxnDate=inv.date,
        DueDate=inv.due_date,
        Line=lines,
        TxnTaxDetail=_tax_detail(ctx, "Invoice", inv.number, taxable, inv.tax_minor, tax_override),
        GlobalTaxCalculation=None if ctx.us else "TaxExcluded",
        PrivateNote=f"Ledgerlink invoice {inv.id}",
    )


def credit_memo_payload(note, ctx: PushContext, customers: dict,
                        tax_override: list[dict] | None = None) -> CreditMemoPayload:
    """`note` is a ledger CreditNote; its DocNumber keeps the CR- or WO- prefix."""
    number = _doc_number("Credit note", note.number)
    lines, taxable = _sales_lines(ctx, note.lines, with_qty=False)
    kind = "write-off" if note.kind == "writeoff" else "credit note"
    return CreditMemoPayload(
        CustomerRef=_customer_ref(note.client_id, customers, ctx),
        CurrencyRef=Ref(value=ctx.currency),
        DocNumber=number,
        TxnDate=note.date,
        Line=lines,
        TxnTaxDetail=_tax_detail(ctx, "Credit note", note.number, taxable, note.tax_minor, tax_override),
        GlobalTaxCalculation=None if ctx.us else "TaxExcluded",
        PrivateNote=f"Ledgerlink {kind} {note.id}",
    )


def _invoice_ref(invoice_id: int, invoices: dict, ctx: PushContext, what: str) -> str:
    qbo_id = invoices.get(invoice_id)
    if qbo_id is None:
        number = ctx.invoice_numbers.get(invoice_id, f"#{invoice_id}")
        raise WaitsForInvoice(what, invoice_id, number)
    return qbo_id


def payment_payload(pay, ctx: PushContext, customers: dict, invoices: dict,
                    balances: dict | None = None) -> PaymentPayload:
    """`pay` is a ledger Payment; `invoices` maps ledger invoice id -> QBO Invoice Id; `balances` ledger invoice
    id -> QBO's open Balance where known (each line is capped at it; TotalAmt above the lines is unapplied)."""
    bank = ctx.bank_accounts.get(pay.bank_account_id)
    deposit = ctx.gl.get(bank.gl_account_id) if bank else None
    if deposit is None and bank and ("gl", bank.gl_account_id) in ctx.map_messages:
        raise _unusable(ctx, "gl", bank.gl_account_id)
    if deposit is None:
        label = bank.name if bank else f"#{pay.bank_account_id}"
        raise ParkedFor(Reason("bank_unmapped", {"bank_account_id": pay.bank_account_id, "bank": label}))
    lines = []
    for a in pay.allocations:
        txn = _invoice_ref(a.invoice_id, invoices, ctx, "The payment")
        # Never more than QBO's open balance (QBO refuses an over-application): the rest stays unapplied credit.
        amount = a.amount_minor if balances is None or a.invoice_id not in balances else \
            max(0, min(a.amount_minor, balances[a.invoice_id]))
        if amount:
            lines.append(PaymentLine(Amount=money(amount, ctx.currency),
                                     LinkedTxn=[LinkedTxn(TxnId=txn, TxnType="Invoice")]))
    return PaymentPayload(
        CustomerRef=_customer_ref(pay.client_id, customers, ctx),
        CurrencyRef=Ref(value=ctx.currency),
        TotalAmt=money(pay.amount_minor, ctx.currency),
        TxnDate=pay.date,
        Line=lines,
        DepositToAccountRef=deposit,
        PaymentRefNum=(pay.reference or None) and pay.reference[:21],
        PrivateNote=f"Ledgerlink payment {pay.id}",
    )


def apply_payload(note, ctx: PushContext, customers: dict, invoices: dict, credit_memo_id: str,
                  balances: dict | None = None) -> PaymentPayload:
    """The zero-total Payment that applies a credit memo to its invoice (never more than QBO's open balance of
    the invoice where known: the rest of the credit stays open on the customer)."""
    minor = note.total_minor
    balance = (balances or {}).get(note.invoice_id)
    if balance is not None and 0 < balance < minor:
        minor = balance
    amount = money(minor, ctx.currency)
    invoice_id = _invoice_ref(note.invoice_id, invoices, ctx, f"Credit note {note.number}")
    return PaymentPayload(
        CustomerRef=_customer_ref(note.client_id, customers, ctx),
        CurrencyRef=Ref(value=ctx.currency),
        TotalAmt=Decimal(0),
        TxnDate=note.date,
        Line=[
            PaymentLine(Amount=amount, LinkedTxn=[LinkedTxn(TxnId=invoice_id, TxnType="Invoice")]),
            PaymentLine(Amount=amount, LinkedTxn=[LinkedTxn(TxnId=credit_memo_id, TxnType="CreditMemo")]),
        ],
        PrivateNote=f"Ledgerlink applies {note.number} to its invoice",
    )


def sparse(payload: _Model, qbo_id: str, sync_token: str) -> dict:
    """A sparse update body: Id, SyncToken, sparse=true and every field of the current state."""
    return {"Id": qbo_id, "SyncToken": sync_token, "sparse": True, **payload.body()}


def total_minor(entity: dict, currency: str) -> int | None:
    """QBO's TotalAmt of a response entity in minor units (None when absent)."""
    from core.money import decimal_to_minor

    value = entity.get("TotalAmt")
    if value is None:
        return None
    return decimal_to_minor(Decimal(str(value)), currency)


def balance_minor(entity: dict, currency: str) -> int | None:
    """QBO's open Balance of a response entity in minor units (None when absent)."""
    from core.money import decimal_to_minor

    value = entity.get("Balance")
    if value is None:
        return None
    return decimal_to_minor(Decimal(str(value)), currency)
