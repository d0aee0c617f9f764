"""Frozen dataclasses returned by the ledger's read API (never sqlite rows).

Money is integer minor units of `currency` (the firm's home currency). Quantities are given twice:
`quantity` as a decimal string ("1.5") and `quantity_milli` as integer thousandths (1500).
Tax rates are given as `rate_percent` (a decimal string, "13" or "9.975") and `rate_ppm`
(parts per million of the amount: 13% is 130000).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.ledger.trust_models import TrustTransaction  # noqa: F401  (trust records live in trust_models)

# A deleted document keeps the lines (allocations) of its last posted version, so that the sync engine and
# the TUI can still show what was deleted; its open balance is zero once the reversal is posted.

Status = str  # 'posted' | 'deleted' | 'voided'


@dataclass(frozen=True)
class FirmInfo:
    name: str
    country: str
    currency: str
    accounting_system: str  # 'builtin' | 'external'
    method: str  # 'accrual' | 'cash'
    fiscal_year_start: int
    chart_template: str | None
    no_client_money: bool
    feature_previews: dict = field(default_factory=dict)
    created_at: str = ""
    created_by: str = ""


@dataclass(frozen=True)
class Account:
    id: int
    code: str
    name: str
    type: str  # QBO AccountType spelling: 'Bank', 'Income', 'Other Current Liability', ...
    subtype: str  # ledger role: 'operating_bank', 'trust_bank', 'fee_income', 'expense_recovery', ...
    active: bool

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@dataclass(frozen=True)
class TemplateAccount:
    code: str
    name: str
    type: str
    subtype: str


@dataclass(frozen=True)
class TemplateTaxComponent:
    name: str
    rate_percent: str
    tax_account_code: str


@dataclass(frozen=True)
class TemplateTaxRate:
    name: str
    rate_percent: str
    exempt: bool
    tax_account_code: str | None
    components: tuple[TemplateTaxComponent, ...] = ()  # empty: one component of the whole rate


@dataclass(frozen=True)
class ChartTemplate:
    country: str
    currency: str
    accounts: tuple[TemplateAccount, ...]
    tax_rates: tuple[TemplateTaxRate, ...]


@dataclass(frozen=True)
class TaxComponent:
    """One tax of a rate (GST 5% of GST/PST BC 12%), with its own liability account."""

    id: int
    name: str
    rate_percent: str
    rate_ppm: int
    tax_account_id: int


@dataclass(frozen=True)
class TaxRate:
    id: int
    name: str
    rate_percent: str  # the sum of the components
    rate_ppm: int
    exempt: bool
    tax_account_id: int | None  # the first component's account
    active: bool
    components: tuple[TaxComponent, ...] = ()  # empty for a zero rate


@dataclass(frozen=True)
class Contact:
    id: int
    name: str
    kind: str  # 'client' | 'bank'
    email: str | None
    phone: str | None
    address: str | None
    active: bool


@dataclass(frozen=True)
class Matter:
    id: int
    client_id: int
    reference: str
    name: str
    open: bool


@dataclass(frozen=True)
class BankAccount:
    id: int
    name: str
    kind: str  # 'operating' | 'trust'
    bank_contact_id: int
    gl_account_id: int


@dataclass(frozen=True)
class InvoiceLine:
    id: int
    line_no: int
    description: str
    account_id: int
    tax_rate_id: int
    quantity: str
    quantity_milli: int
    unit_price_minor: int
    amount_minor: int
    tax_minor: int


@dataclass(frozen=True)
class TaxAdjustment:
    """QBO's tax figure accepted for an invoice: a dated journal entry on one tax component."""

    id: int
    date: str
    tax_rate_id: int
    component_id: int
    amount_minor: int  # > 0 raised the invoice's tax, < 0 lowered it
    reason: str


@dataclass(frozen=True)
class TaxLineFigure:
    """One component rate's tax on a document, as QBO's TxnTaxDetail.TaxLine carries it."""

    tax_rate_id: int
    component_id: int
    name: str
    rate_percent: str
    net_minor: int  # NetAmountTaxable: the lines charged at the rate
    tax_minor: int  # with the tax adjustments recorded on this component


@dataclass(frozen=True)
class Invoice:
    id: int
    number: str
    client_id: int
    matter_id: int | None
    date: str
    due_date: str
    currency: str
    version: int
    status: Status
    lines: tuple[InvoiceLine, ...]
    subtotal_minor: int
    tax_minor: int  # the lines' tax plus the tax adjustments of this version
    total_minor: int
    open_balance_minor: int
    tax_adjustments: tuple[TaxAdjustment, ...] = ()


@dataclass(frozen=True)
class InvoiceSummary:
    """One row of `list_invoices` (no lines)."""

    id: int
    number: str
    client_id: int
    client_name: str
    matter_id: int | None
    date: str
    due_date: str
    currency: str
    version: int
    status: Status
    total_minor: int
    open_balance_minor: int


@dataclass(frozen=True)
class Allocation:
    invoice_id: int
    amount_minor: int


@dataclass(frozen=True)
class Payment:
    id: int
    client_id: int
    date: str
    amount_minor: int
    currency: str
    bank_account_id: int
    from_trust: bool
    trust_bank_account_id: int | None
    reference: str | None
    allocations: tuple[Allocation, ...]
    version: int
    status: Status

    @property
    def credit_minor(self) -> int:
        """What the payment left as the client's credit on account (the amount not allocated to invoices)."""
        return self.amount_minor - sum(a.amount_minor for a in self.allocations) if self.status == "posted" else 0


@dataclass(frozen=True)
class CreditNoteLine:
    id: int
    line_no: int
    description: str
    account_id: int
    tax_rate_id: int | None
    amount_minor: int
    tax_minor: int


@dataclass(frozen=True)
class CreditNote:
    id: int
    number: str  # with its prefix: CR-00001 (credit) or WO-00001 (write-off)
    kind: str  # 'credit' | 'writeoff'
    invoice_id: int
    client_id: int
    date: str
    currency: str
    lines: tuple[CreditNoteLine, ...]
    amount_minor: int  # before tax
    tax_minor: int
    total_minor: int
    version: int
    status: Status


@dataclass(frozen=True)
class TrialBalanceRow:
    account_id: int
    code: str
    name: str
    type: str
    debit_minor: int
    credit_minor: int


@dataclass(frozen=True)
class TrialBalance:
    currency: str
    rows: tuple[TrialBalanceRow, ...]
    total_debit_minor: int
    total_credit_minor: int

    def as_json(self) -> dict:
        return {
            "currency": self.currency,
            "accounts": [
                {"code": r.code, "name": r.name, "debit_minor": r.debit_minor, "credit_minor": r.credit_minor}
                for r in self.rows
            ],
            "total_debit_minor": self.total_debit_minor,
            "total_credit_minor": self.total_credit_minor,
        }


AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "over_90")


@dataclass(frozen=True)
class AgingRow:
    client_id: int
    client_name: str
    buckets: dict  # bucket name (AGING_BUCKETS) -> minor units
    total_minor: int  # the buckets less the credit on account
    credit_minor: int = 0  # the client's credit on account (unallocated payments), shown as a positive amount


@dataclass(frozen=True)
class Aging:
    currency: str
    as_of: str
    rows: tuple[AgingRow, ...]
    totals: dict
    total_minor: int  # equals the receivable accounts' balance
    credit_minor: int = 0

    def as_json(self) -> dict:
        return {
            "currency": self.currency,
            "as_of": self.as_of,
            "clients": [
                {"client_id": r.client_id, "name": r.client_name, **{f"{b}_minor": r.buckets[b] for b in AGING_BUCKETS},
                 "credit_minor": r.credit_minor, "total_minor": r.total_minor}
                for r in self.rows
            ],
            "totals": {**{f"{b}_minor": self.totals[b] for b in AGING_BUCKETS}, "credit_minor": self.credit_minor},
            "total_minor": self.total_minor,
        }


@dataclass(frozen=True)
class ClientCredit:
    """A client's credit on account: payments received beyond what their invoices took (operating money)."""

    client_id: int
    client_name: str
    credit_minor: int


@dataclass(frozen=True)
class TrustBalance:
    client_id: int
    client_name: str
    balance_minor: int
    matter_reference: str | None = None  # per client across matters here; by matter: core.services.trust.ledger


@dataclass(frozen=True)
class TrustLedger:
    currency: str
    balances: tuple[TrustBalance, ...]  # per client with any trust activity
    client_total_minor: int  # sum of every client's trust balance
    trust_bank_minor: int  # balance of the trust bank GL accounts (always equals client_total_minor)

    def as_json(self) -> dict:
        return {
            "currency": self.currency,
            "balances": [
                {"client_id": b.client_id, "name": b.client_name, "balance_minor": b.balance_minor}
                for b in self.balances
            ],
            "client_total_minor": self.client_total_minor,
            "trust_bank_minor": self.trust_bank_minor,
        }


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    user: str
    action: str
    entity: str
    entity_id: int | None
    detail: str | None


@dataclass(frozen=True)
class User:
    name: str
    role: str
    granted_by: str
    granted_at: str
