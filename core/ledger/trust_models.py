"""Frozen records of trust accounting (client money), returned by core.ledger.trust* and core.services.trust.

Money is integer minor units of `currency`. A client ledger is keyed by client, matter (None: money held for
the client without a matter) and trust bank account; its balance is derived from the postings to that
account's GL account tagged with the client and matter, never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from core.errors import ValidationError

TrustKind = Literal["receipt", "disbursement", "refund", "transfer"]
TrustStatus = Literal["posted", "reversed"]


@dataclass(frozen=True)
class TrustTransaction:
    """A trust document: receipt, disbursement (to a payee), refund (to the client) or transfer between trust
    accounts. Stable id; `version` rises when it is reversed (status 'reversed'), as a future sync needs."""

    id: int
    kind: str  # TrustKind
    client_id: int
    matter_id: int | None
    bank_account_id: int  # the account money comes into (receipt) or goes out of (the others)
    date: str
    amount_minor: int
    memo: str
    to_bank_account_id: int | None = None  # a transfer's destination
    payee: str | None = None
    reference: str | None = None  # cheque number, wire reference
    currency: str = ""
    version: int = 1
    status: str = "posted"  # TrustStatus
    reversal_date: str | None = None
    reversal_reason: str | None = None

    def as_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "client_id": self.client_id, "matter_id": self.matter_id,
                "bank_account_id": self.bank_account_id, "to_bank_account_id": self.to_bank_account_id,
                "date": self.date, "amount_minor": self.amount_minor, "currency": self.currency,
                "payee": self.payee, "reference": self.reference, "memo": self.memo, "version": self.version,
                "status": self.status, "reversal_date": self.reversal_date, "reversal_reason": self.reversal_reason}


class TrustOverdraw(ValidationError):
    """A move that would take a client ledger below zero; the fields say which ledger."""

    def __init__(self, message: str, *, client: str, matter: str | None, account: str, balance_minor: int,
                 amount_minor: int, currency: str):
        super().__init__(message)
        self.client = client
        self.matter = matter
        self.account = account
        self.balance_minor = balance_minor
        self.amount_minor = amount_minor
        self.currency = currency


@dataclass(frozen=True)
class LedgerBalance:
    """One client ledger: client x matter x trust bank account."""

    client_id: int
    client_name: str
    matter_id: int | None
    matter_reference: str | None
    matter_name: str | None
    bank_account_id: int
    bank_account_name: str
    balance_minor: int

    def as_json(self) -> dict:
        return {"client_id": self.client_id, "client": self.client_name, "matter_id": self.matter_id,
                "matter": self.matter_reference, "matter_name": self.matter_name,
                "bank_account_id": self.bank_account_id, "account": self.bank_account_name,
                "balance_minor": self.balance_minor}


@dataclass(frozen=True)
class AccountTotal:
    bank_account_id: int
    name: str
    book_minor: int  # the trust bank GL account's balance
    clients_minor: int  # the sum of the client ledgers of that account

    def as_json(self) -> dict:
        return {"bank_account_id": self.bank_account_id, "account": self.name, "book_minor": self.book_minor,
                "clients_minor": self.clients_minor}


@dataclass(frozen=True)
class ClientLedgers:
    currency: str
    ledgers: tuple[LedgerBalance, ...]  # every non-zero ledger, by client, matter and account
    accounts: tuple[AccountTotal, ...]  # every trust bank account
    entries: tuple["LedgerEntry", ...] = field(default=())  # the postings, when one client was asked for

    def as_json(self) -> dict:
        return {"currency": self.currency, "ledgers": [x.as_json() for x in self.ledgers],
                "accounts": [a.as_json() for a in self.accounts],
                "entries": [e.as_json() for e in self.entries]}


@dataclass(frozen=True)
class LedgerEntry:
    """One posting to a client ledger (a line on a trust bank GL account)."""

    entry_id: int
    date: str
    doc_type: str  # 'trust' | 'payment'
    doc_id: int
    kind: str  # 'post' | 'reversal'
    memo: str
    client_id: int
    matter_id: int | None
    bank_account_id: int
    amount_minor: int  # + into the account, - out of it

    def as_json(self) -> dict:
        return {"entry_id": self.entry_id, "date": self.date, "doc_type": self.doc_type, "doc_id": self.doc_id,
                "kind": self.kind, "memo": self.memo, "client_id": self.client_id, "matter_id": self.matter_id,
                "bank_account_id": self.bank_account_id, "amount_minor": self.amount_minor}
