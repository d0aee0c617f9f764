"""Realistic, deterministic demo data of any size (`ledgerlink demo`).

The same seed and sizes give the same firm. A demo firm completes every ledger-side checklist step
(accrual, operating and trust bank accounts, income accounts, a 0% rate, the feature preview), so it can
be connected to QuickBooks at once. Invoices and payments go through the bulk posting paths.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.ledger import billing, firm as firm_ops, queries, trust
from core.ledger.base import firm_row
from core.money import format_minor
from core.settings import Settings

if TYPE_CHECKING:
    from core.context import Firm

FIRST = ("Olivia", "Liam", "Amelia", "Noah", "Isla", "Jack", "Mia", "Oliver", "Ava", "Lucas", "Grace", "Ethan",
         "Chloe", "Mason", "Zoe", "Harper", "Leo", "Ruby", "Henry", "Sophie", "Aroha", "Priya", "Wei", "Fatima")
LAST = ("Nguyen", "Smith", "Patel", "Williams", "Brown", "Taylor", "Wilson", "Martin", "Thompson", "Walker",
        "Kowalski", "Singh", "O'Brien", "Tane", "Chen", "Garcia", "MacLeod", "Dubois", "Rossi", "Murphy")
COMPANY = ("Harbour", "Summit", "Kauri", "Maple", "Redgum", "Bluewater", "Ironbark", "Granite", "Northwind",
           "Silverfern", "Lakeside", "Meridian", "Copperleaf", "Thistle", "Pinecrest", "Wattle")
SUFFIX = ("Holdings", "Builders", "Logistics", "Dental Group", "Software", "Farms", "Properties", "Hospitality")
MATTERS = ("Purchase of {}", "Sale of business", "Employment dispute", "Lease review", "Estate of the late {}",
           "Shareholder agreement", "Debt recovery", "Custody application", "Contract review", "Planning appeal")
STREETS = ("Rose Street", "Queen Street", "Harbour Road", "Station Lane", "High Street", "Elm Avenue")
FEE_WORK = ("Attendance on client", "Drafting and settling documents", "Research and advice", "Court appearance",
            "Correspondence", "Negotiation with other side", "Review of disclosure", "Preparation for hearing")
RECOVERY = ("Court filing fee", "Courier", "Title search", "Process server", "Travel", "Photocopying")
BASE_DATE = dt.date(2026, 1, 5)


@dataclass(frozen=True)
class DemoSummary:
    clients: int
    matters: int
    invoices: int
    payments: int
    credit_notes: int
    trust_moves: int
    edits: int
    deletions: int
    trust_statements: tuple = ()  # (trust account name, statement CSV path) written next to the database
    statement_as_of: str = ""  # the day those statements run to: reconcile them as of it


def ensure_ready(firm: "Firm") -> None:
    """Complete the ledger-side setup steps the firm lacks (bank, trust, accrual, feature preview)."""
    info = queries.get_firm_info(firm)
    if info.method != "accrual":
        firm_ops.set_accounting_method(firm, "accrual")
    if info.accounting_system != "builtin":
        firm_ops.set_accounting_system(firm, "builtin")
    if not info.chart_template:
        firm_ops.apply_chart_template(firm)
    banks = queries.list_contacts(firm, "bank")
    bank = banks[0] if banks else firm_ops.add_contact(firm, _bank_name(info.country), "bank")
    kinds = {b.kind for b in queries.list_bank_accounts(firm)}
    linked = {b.gl_account_id for b in queries.list_bank_accounts(firm)}
    for kind, subtype, label in (("operating", "operating_bank", "Operating"), ("trust", "trust_bank", "Trust")):
        if kind in kinds:
            continue
        gl = next(a for a in queries.list_accounts(firm, subtypes=[subtype], active_only=True) if a.id not in linked)
        firm_ops.add_bank_account(firm, name=f"{label} account ({bank.name})", kind=kind,
                                  bank_contact_id=bank.id, gl_account_id=gl.id)
    if not info.feature_previews.get("qbo_integration_upgrade"):
        firm_ops.set_feature_preview(firm, "qbo_integration_upgrade", True)


SEPARATE_TRUST = "Separate trust account"


def _trust_extras(firm: "Firm", trust_left: dict[int, int], money) -> int:
    """Transfers to a second trust account (added when the chart has a second trust bank account) and a refund,
    dated after every other trust move of the demo so that no client ledger is below zero on any day."""
    banks = queries.list_bank_accounts(firm, "trust")
    if not banks or not trust_left:
        return 0
    main, moves = banks[0], 0
    if len(banks) == 1:
        linked = {b.gl_account_id for b in queries.list_bank_accounts(firm)}
        spare = [a for a in queries.list_accounts(firm, subtypes=["trust_bank"], active_only=True) if a.id not in linked]
        if spare:
            bank_contact = queries.get_bank_account(firm, main.id).bank_contact_id
            banks.append(firm_ops.add_bank_account(firm, name=SEPARATE_TRUST, kind="trust",
                                                   bank_contact_id=bank_contact, gl_account_id=spare[0].id))
    holders = [(cid, left) for cid, left in sorted(trust_left.items()) if left >= 20000]
    if len(banks) > 1:
        for cid, left in holders[::2]:
            trust.trust_transfer(firm, client_id=cid, amount=money(left // 5), date="2026-10-20",
                                 from_account_id=main.id, to_account_id=banks[1].id, memo="To interest-bearing account",
                                 reference=f"TRF-{cid:05d}")
            trust_left[cid] -= left // 5
            moves += 1
    for cid, left in holders[1::3]:
        trust.trust_refund(firm, client_id=cid, amount=money(trust_left[cid] // 10), date="2026-10-22",
                           memo="Unused retainer returned", reference=f"CHQ {2000 + cid}")
        moves += 1
    return moves


def statement_as_of(today: dt.date | None = None) -> str:
    """The day the demo's bank statements run to: the last day of the month before `today`, as a bank's
    monthly statement does, so the printed reconciliation can be run on the day the demo is made."""
    today = today or dt.date.today()
    return (today.replace(day=1) - dt.timedelta(days=1)).isoformat()


def write_trust_statements(firm: "Firm", directory: Path, stem: str, seed: int = 1,
                           as_of: str | None = None) -> list[tuple[str, Path]]:
    """A bank statement CSV per trust account with activity, as the bank would export it up to `as_of`: every
    ledger movement cleared one to four days later, except the last few (outstanding deposits and cheques).
    Returns [(account name, file)]."""
    from core.ledger import trust_statement

    as_of = as_of or statement_as_of()
    rng = random.Random(seed + 1)
    cur = firm_row(firm)["currency"]
    out = []
    for bank in queries.list_bank_accounts(firm, "trust"):
        items = trust_statement.ledger_items(firm, bank.id, as_of)
        if not items:
            continue
        keep_out = {i.entry_id for i in items[len(items) - min(3, len(items) // 4):]}
        rows = []
        for item in items:
            cleared = dt.date.fromisoformat(item.date) + dt.timedelta(days=rng.randint(1, 4))
            if item.entry_id in keep_out or cleared.isoformat() > as_of:
                continue
            what = ("Deposit" if item.amount_minor > 0 else "Cheque" if item.reference and "CHQ" in item.reference
                    else "Transfer" if item.doc_type == "trust" else "Payment to office account")
            rows.append((cleared.isoformat(), item.entry_id, what, format_minor(item.amount_minor, cur, grouping=False),
                         item.reference or ""))
        rows.sort()
        slug = re.sub(r"[^a-z0-9]+", "-", bank.name.lower()).strip("-")
        path = directory / f"{stem}.{slug}.statement.csv"
        lines = ["date,description,amount,reference"] + [f"{d},{what},{amount},{ref}" for d, _e, what, amount, ref
                                                         in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out.append((bank.name, path))
    return out


def _bank_name(country: str) -> str:
    return {"US": "First National Bank", "CA": "Royal Bank of Canada", "UK": "Barclays Bank",
            "AU": "Commonwealth Bank", "NZ": "ANZ Bank New Zealand"}[country]


def build_demo(settings: Settings, *, country: str = "US", name: str = "Hartley & Quinn Legal", clients: int = 20,
               invoices: int = 200, payments: int = 120, credits: int = 20, seed: int = 1) -> DemoSummary:
    """Create (if needed) and fill the firm at settings.db with demo data."""
    from core.context import open_firm

    firm = open_firm(settings)
    try:
        if not queries.firm_exists(firm):
            firm.close()
            firm = firm_ops.create_firm(settings, country, name=name)
        ensure_ready(firm)
        summary = fill(firm, clients=clients, invoices=invoices, payments=payments, credits=credits, seed=seed)
        db = Path(settings.db).expanduser()
        as_of = statement_as_of()
        statements = tuple(write_trust_statements(firm, db.parent, db.stem, seed, as_of))
        return dataclasses.replace(summary, trust_statements=statements, statement_as_of=as_of)
    finally:
        firm.close()


def fill(firm: "Firm", *, clients: int, invoices: int, payments: int, credits: int, seed: int) -> DemoSummary:
    rng = random.Random(seed)
    cur = firm_row(firm)["currency"]
    money = lambda minor: format_minor(minor, cur, grouping=False)  # noqa: E731
    # Clients and matters.
    client_ids: list[int] = []
    matters_of: dict[int, list[int]] = {}
    existing = {c.name for c in queries.list_clients(firm)}
    n_matters = 0
    for k in range(clients):
        if rng.random() < 0.6:
            cname = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        else:
            cname = f"{rng.choice(COMPANY)} {rng.choice(SUFFIX)}"
        base, i = cname, 2
        while cname in existing:
            cname, i = f"{base} ({i})", i + 1
        existing.add(cname)
        client = firm_ops.add_client(firm, cname, email=f"client{k + 1}@example.com",
                                     address=f"{rng.randint(1, 250)} {rng.choice(STREETS)}")
        client_ids.append(client.id)
        matters_of[client.id] = []
        for _ in range(rng.randint(1, 3)):
            title = rng.choice(MATTERS)
            if title.startswith("Purchase"):
                title = title.format(f"{rng.randint(1, 250)} {rng.choice(STREETS)}")
            elif "{}" in title:
                title = title.format(f"{rng.choice(FIRST)} {rng.choice(LAST)}")
            matters_of[client.id].append(firm_ops.add_matter(firm, client.id, title).id)
            n_matters += 1
    if not client_ids:
        client_ids = [c.id for c in queries.list_clients(firm)]
        for cid in client_ids:
            matters_of[cid] = [m.id for m in queries.list_matters(firm, cid)]
    fees = [a.id for a in queries.list_accounts(firm, subtypes=["fee_income"], active_only=True)]
    recoveries = [a.id for a in queries.list_accounts(firm, subtypes=["expense_recovery"], active_only=True)]
    rates = queries.list_tax_rates(firm, active_only=True)
    weights = [3 if r.rate_ppm else 1 for r in rates]
    zero = next(r.id for r in rates if r.rate_ppm == 0)
    # Invoices, in one bulk posting.
    specs = []
    made: list[tuple[int, str, int | None]] = []  # client, date and matter of each spec
    for _ in range(invoices if client_ids else 0):
        cid = rng.choice(client_ids)
        date = BASE_DATE + dt.timedelta(days=rng.randint(0, 300))
        rate = rng.choices(rates, weights)[0].id
        lines = [dict(description=rng.choice(FEE_WORK), account_id=rng.choice(fees),
                      quantity=f"{rng.randint(1, 80) / 4:g}", unit_price=f"{rng.choice((185, 250, 320, 395, 450, 575))}.00",
                      tax_rate_id=rate) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.4:
            lines.append(dict(description=rng.choice(RECOVERY), account_id=rng.choice(recoveries), quantity=1,
                              unit_price=money(rng.randint(1500, 45000)), tax_rate_id=rng.choice((rate, zero))))
        matter = rng.choice(matters_of[cid]) if matters_of[cid] else None
        made.append((cid, date.isoformat(), matter))
        specs.append(dict(client_id=cid, matter_id=matter,
                          date=date.isoformat(), due_date=(date + dt.timedelta(days=rng.choice((14, 30, 30, 45)))).isoformat(),
                          lines=lines))
    invoice_ids = billing.post_invoices(firm, specs) if specs else []
    totals = dict(firm.db.execute(
        "SELECT invoice_id, sum(amount_minor + tax_minor) FROM invoice_lines GROUP BY invoice_id").fetchall())
    info = dict(zip(invoice_ids, made))
    # Trust receipts for about a third of the clients.
    trust_moves = 0
    trust_left: dict[int, int] = {}
    for cid in client_ids:
        if rng.random() < 0.33:
            amount = rng.randint(50, 400) * 1000
            trust.trust_receipt(firm, client_id=cid, amount=money(amount), date=BASE_DATE.isoformat(),
                                matter_id=matters_of[cid][0] if matters_of[cid] else None, memo="Retainer",
                                reference=f"WIRE-{cid:05d}")
            trust_left[cid] = amount
            trust_moves += 1
    # Payments, in one bulk posting: full or part payments of distinct invoices.
    pay_specs: list[dict] = []
    paid: set[int] = set()
    operating = queries.list_bank_accounts(firm, "operating")[0].id
    for inv_id in rng.sample(invoice_ids, min(payments, len(invoice_ids))):
        cid, issued, _m = info[inv_id]
        total = totals[inv_id]
        amount = total if rng.random() < 0.75 else max(1, total * rng.randint(20, 80) // 100)
        from_trust = trust_left.get(cid, 0) >= amount and rng.random() < 0.5
        if from_trust:
            trust_left[cid] -= amount
        pay_date = dt.date.fromisoformat(issued) + dt.timedelta(days=rng.randint(3, 60))
        pay_specs.append(dict(client_id=cid, date=pay_date.isoformat(), amount=money(amount), bank_account_id=operating,
                              allocations=[(inv_id, money(amount))], from_trust=from_trust,
                              reference=f"DEP-{len(pay_specs) + 1:05d}"))
        paid.add(inv_id)
    payment_ids = billing.post_payments(firm, pay_specs) if pay_specs else []
    # Credit notes and write-offs against unpaid invoices.
    unpaid = [i for i in invoice_ids if i not in paid]
    credit_ids = []
    for inv_id in rng.sample(unpaid, min(credits, len(unpaid))):
        kind = "writeoff" if rng.random() < 0.3 else "credit"
        total = totals[inv_id]
        when = (dt.date.fromisoformat(info[inv_id][1]) + dt.timedelta(days=rng.randint(10, 90))).isoformat()
        if kind == "writeoff":
            cn = billing.issue_credit_note(firm, invoice_id=inv_id, kind=kind, amount=money(total), date=when)
        else:
            cn = billing.issue_credit_note(firm, invoice_id=inv_id, amount=money(max(1, total // 10)), date=when)
        credit_ids.append(cn.id)
    # Some trust disbursements, edits and deletions.
    for cid, left in sorted(trust_left.items()):
        if left > 10000 and rng.random() < 0.5:
            trust.trust_disbursement(firm, client_id=cid, amount=money(left // 4), date="2026-06-30",
                                     memo="Settlement funds to vendor", payee="Vendor's solicitors",
                                     reference=f"CHQ {1000 + cid}")
            trust_left[cid] -= left // 4
            trust_moves += 1
    trust_moves += _trust_extras(firm, trust_left, money)
    untouched = [i for i in unpaid if not firm.db.execute(
        "SELECT 1 FROM credit_notes WHERE invoice_id = ?", [i]).fetchone()]
    edits = deletions = 0
    for inv_id in untouched[: max(1, len(invoice_ids) // 50)] if untouched else []:
        inv = queries.get_invoice(firm, inv_id)
        billing.edit_invoice(firm, inv_id, due_date=(dt.date.fromisoformat(inv.due_date) + dt.timedelta(days=14)).isoformat())
        edits += 1
    for inv_id in untouched[-max(1, len(invoice_ids) // 100):] if len(untouched) > 2 else []:
        billing.delete_invoice(firm, inv_id)
        deletions += 1
    if payment_ids:
        billing.delete_payment(firm, payment_ids[-1])
        deletions += 1
    return DemoSummary(len(client_ids), n_matters, len(invoice_ids), len(payment_ids), len(credit_ids), trust_moves,
                       edits, deletions)
