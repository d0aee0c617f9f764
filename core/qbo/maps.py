"""The three maps between the ledger and QBO, each one ledger item to one QBO reference, and a QBO
reference used at most once per map:

  sales  ledger income and expense-recovery accounts  ->  QBO Products/Services (Item)
  gl     ledger accounts (operating bank accounts...)  ->  QBO accounts of a compatible type
  tax    ledger tax rates                              ->  QBO tax codes (the 0% rate to a zero-rate code)

Invalid pairs are refused with the reason; suggestions match by name and type; a CSV export/import
round-trips a map. Ledger tables are only read here.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from core.csvfile import CSVRefused, decode
from core.errors import Conflict, ImportError_, NotFound, ValidationError
from core.qbo import store
from core.qbo.reference import MAP_TABLE, is_zero_rate
from core.text import counted, safe_cell, unsafe_cell

KINDS = store.MAP_KINDS
KIND_TITLES = {"sales": "Sales invoice account map", "gl": "GL account map", "tax": "Sales tax map"}

SALES_ITEM_TYPES = frozenset({"Service", "NonInventory", "Other Charge"})
SALES_SUBTYPES = {"fee_income": "income", "expense_recovery": "expense"}
TRUST_SUBTYPES = frozenset({"TrustAccounts", "RentsHeldInTrust"})
GL_SUBTYPES = ("operating_bank", "trust_bank", "trust_liability", "receivable", "sales_tax", "bad_debt", "discount")
# QBO liability accounts client money must not be booked to (tax, payroll and borrowing), and the one made for it.
NOT_TRUST_LIABILITY = frozenset({"GlobalTaxPayable", "GlobalTaxSuspense", "SalesTaxPayable", "PayrollTaxPayable",
                                 "PayrollClearing", "LineOfCredit", "LoansToOfficers", "LoansToOthers"})
TRUST_LIABILITY_SUBTYPES = frozenset({"TrustAccountsLiabilities"})
# Ledger account type -> QBO account types it may be mapped to.
GL_COMPATIBLE = {
    "Bank": frozenset({"Bank"}),
    "Accounts Receivable": frozenset({"Accounts Receivable"}),
    "Other Current Liability": frozenset({"Other Current Liability"}),
    "Income": frozenset({"Income", "Other Income"}),
    "Other Income": frozenset({"Income", "Other Income"}),
    "Expense": frozenset({"Expense", "Other Expense"}),
    "Other Expense": frozenset({"Expense", "Other Expense"}),
}


@dataclass(frozen=True)
class LedgerItem:
    kind: str
    ledger_id: int
    key: str
    """Account code, or tax rate name: what a CSV names."""
    name: str
    detail: str
    """Account type, or the rate ('8%')."""
    role: str
    """sales: income|expense; gl: the account's subtype; tax: zero|rate."""
    required: bool
    components: tuple[Decimal, ...] = ()
    """tax: the percent of each component of the rate (GST 5 and PST 7 for 12%)."""


@dataclass(frozen=True)
class QBORef:
    qbo_id: str
    name: str
    type: str
    active: bool
    present: bool
    rate: str | None
    taxable: int | None
    subtype: str = ""
    components: tuple[Decimal, ...] | None = None
    """tax: the percent of each rate of the code's SalesTaxRateList; None when QBO gives none (US TAX)."""

    @property
    def holds_client_money(self) -> bool:
        """A QBO bank account for trust money: its subtype says so, or its name does (many firms use Checking)."""
        return self.type == "Bank" and (self.subtype in TRUST_SUBTYPES or "trust" in self.name.lower())


@dataclass(frozen=True)
class MapRow:
    kind: str
    ledger_id: int
    ledger_key: str
    ledger_name: str
    ledger_detail: str
    role: str
    required: bool
    qbo_id: str | None
    qbo_name: str | None
    status: str
    """'mapped', 'unmapped', 'inactive' (the QBO reference was made inactive), 'gone' (deleted in QBO) or
    'mismatch' (tax: the QBO code's rates no longer match the ledger rate's components)."""
    message: str


@dataclass(frozen=True)
class QBOOption:
    qbo_id: str
    name: str
    type: str
    used_by: str | None
    """The ledger item already mapped to it (the TUI strikes it through), else None."""
    valid: bool
    reason: str


@dataclass(frozen=True)
class Suggestion:
    kind: str
    ledger_id: int
    ledger_name: str
    qbo_id: str
    qbo_name: str
    score: float


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValidationError(f"Unknown map {kind!r}: use one of {', '.join(KINDS)}")


def percent(rate_ppm: int) -> str:
    text = format(Decimal(rate_ppm) / Decimal(10000), "f")
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


def _table_exists(db, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None


def ledger_items(db, kind: str) -> list[LedgerItem]:
    """The ledger side of a map: what can be mapped, and whether each one must be."""
    _check_kind(kind)
    if kind == "tax":
        if not _table_exists(db, "tax_rates"):
            return []
        rows = db.execute("SELECT id, name, rate_ppm FROM tax_rates WHERE active = 1 ORDER BY rate_ppm, name").fetchall()
        parts: dict[int, list[Decimal]] = {}
        if _table_exists(db, "tax_rate_components"):
            for rate_id, ppm in db.execute("SELECT tax_rate_id, rate_ppm FROM tax_rate_components ORDER BY seq"):
                parts.setdefault(rate_id, []).append(Decimal(ppm) / Decimal(10000))
        return [LedgerItem(kind, i, n, n, percent(r), "zero" if r == 0 else "rate", True,
                           tuple(parts.get(i, [Decimal(r) / Decimal(10000)] if r else [])))
                for i, n, r in rows]
    if not _table_exists(db, "accounts"):
        return []
    if kind == "sales":
        rows = db.execute(
            "SELECT id, code, name, type, subtype FROM accounts WHERE active = 1 AND type IN ('Income','Other Income')"
            " ORDER BY code"
        ).fetchall()
        return [
            LedgerItem(kind, i, c, n, t, SALES_SUBTYPES.get(s, "other"), False)
            for i, c, n, t, s in rows
        ]
    required = set()
    if _table_exists(db, "bank_accounts"):
        required = {r[0] for r in db.execute("SELECT gl_account_id FROM bank_accounts WHERE kind = 'operating'")}
        if holds_client_money(db):  # trust money is pushed: its bank accounts and the liability must be mapped
            required |= {r[0] for r in db.execute(
                "SELECT gl_account_id FROM bank_accounts WHERE kind = 'trust' UNION "
                "SELECT id FROM accounts WHERE subtype = 'trust_liability' AND active = 1")}
    marks = ", ".join("?" for _ in GL_SUBTYPES)
    rows = db.execute(
        f"SELECT id, code, name, type, subtype FROM accounts WHERE active = 1 AND subtype IN ({marks}) ORDER BY code",
        list(GL_SUBTYPES),
    ).fetchall()
    return [LedgerItem(kind, i, c, n, t, s, i in required) for i, c, n, t, s in rows]


def holds_client_money(db) -> bool:
    """Whether the ledger has ever posted client money (a trust transaction or a payment from trust)."""
    if not _table_exists(db, "journal_lines"):
        return False
    return db.execute("SELECT 1 FROM journal_lines l JOIN accounts a ON a.id = l.account_id "
                      "WHERE a.subtype = 'trust_liability' LIMIT 1").fetchone() is not None


def qbo_refs(db, kind: str) -> list[QBORef]:
    _check_kind(kind)
    rows = db.execute(
        f"SELECT id, name, type, active, present, rate, taxable, subtype, json FROM {MAP_TABLE[kind]} ORDER BY name"
    ).fetchall()
    rates = _qbo_rate_values(db) if kind == "tax" else {}
    return [QBORef(i, n, t, bool(a), bool(p), r, tx, st, _code_components(js, rates) if kind == "tax" else None)
            for i, n, t, a, p, r, tx, st, js in rows]


def _qbo_rate_values(db) -> dict[str, Decimal]:
    return {str(i): Decimal(r) for i, r in db.execute("SELECT id, rate FROM qbo_tax_rates") if r is not None}


def _code_components(text: str, rates: dict[str, Decimal]) -> tuple[Decimal, ...] | None:
    """The non-zero sales rates of a QBO tax code, from its SalesTaxRateList; None when they are not known."""
    try:
        code = json.loads(text or "{}")
    except ValueError:
        return None
    details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail")
    details = [details] if isinstance(details, dict) else (details or [])
    if not details:
        return None
    out = []
    for detail in details:
        ref = str((detail.get("TaxRateRef") or {}).get("value"))
        if ref not in rates:
            return None
        if rates[ref]:
            out.append(rates[ref])
    return tuple(out)


def _pct(value: Decimal) -> str:
    text = format(value, "f")
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


def component_problem(item: LedgerItem, ref: QBORef) -> str | None:
    """Why a taxed ledger rate cannot be mapped to a QBO code whose component rates differ (QBO computes each rate
    of a combined code on its own, so even equal sums round differently); None when they agree or are unknown."""
    if item.role != "rate" or ref.components is None:
        return None
    if sorted(item.components) == sorted(ref.components):
        return None
    ours = " + ".join(_pct(c) for c in item.components)
    theirs = " + ".join(_pct(c) for c in ref.components) or "0%"
    return (f"{item.name} charges {ours} but {ref.name} charges {theirs} in QuickBooks, which works out each rate "
            "on its own: the tax would differ. Pick a code with the same rates, or give the ledger rate those "
            "components (`ledgerlink setup tax-rate ... --component`)")


def pair_problem(kind: str, item: LedgerItem, ref: QBORef) -> str | None:
    """Why `item` cannot be mapped to `ref`, in words for the admin; None when the pair is valid."""
    if not ref.present:
        return f"{ref.name} no longer exists in QuickBooks"
    if not ref.active:
        return f"{ref.name} is inactive in QuickBooks"
    if kind == "sales":
        if ref.type not in SALES_ITEM_TYPES:
            return (
                f"{ref.name} is a QuickBooks {ref.type or 'item'}, which cannot be used on invoice lines: "
                "pick a Service or Non-inventory product"
            )
        return None
    if kind == "gl":
        allowed = GL_COMPATIBLE.get(item.detail, frozenset({item.detail}))
        if ref.type not in allowed:
            return (
                f"{item.name} is a ledger {item.detail} account and cannot be mapped to {ref.name}, a QuickBooks "
                f"{ref.type} account: pick a QuickBooks account of type {' or '.join(sorted(allowed))}"
            )
        if item.role == "trust_bank" and not ref.holds_client_money:
            return (
                f"{item.name} holds client money and cannot be mapped to {ref.name}, a QuickBooks operating bank "
                "account: trust money stays apart, so pick a QuickBooks bank account for trust money (subtype "
                "Trust accounts, or with Trust in its name)"
            )
        if item.role == "trust_liability" and ref.subtype in NOT_TRUST_LIABILITY:
            return (
                f"{item.name} is what the firm owes its clients and cannot be mapped to {ref.name}, a QuickBooks "
                f"{ref.subtype} account: pick the liability account for client trust money (subtype Trust "
                "accounts - liabilities, or an Other Current Liability of its own)"
            )
        if item.role != "trust_liability" and ref.subtype in TRUST_LIABILITY_SUBTYPES:
            return (
                f"{ref.name} is the client trust liability in QuickBooks and cannot take {item.name}: map it to "
                "the ledger's client trust liability account"
            )
        if item.role != "trust_bank" and ref.holds_client_money:
            return (
                f"{ref.name} holds client money in QuickBooks and cannot take {item.name}, an operating account: "
                "map it to a trust bank account of the ledger"
            )
        return None
    zero_code = is_zero_rate(ref.taxable, ref.rate)
    if item.role == "zero" and not zero_code:
        return f"{item.name} is a 0% rate and cannot be mapped to {ref.name}, a taxable code: pick a zero-rate code"
    if item.role == "rate" and zero_code:
        return f"{item.name} charges {item.detail} and cannot be mapped to {ref.name}, a zero-rate code"
    return component_problem(item, ref)


def pair_note(kind: str, item: LedgerItem, ref: QBORef | None) -> str | None:
    """A valid pair that still deserves the admin's attention: a tax code whose rate differs from the ledger's."""
    if kind != "tax" or ref is None or ref.rate is None or item.role != "rate":
        return None
    if Decimal(ref.rate) == Decimal(item.detail.rstrip("%")):
        return None
    return (
        f"{item.name} charges {item.detail} but {ref.name} charges {format(Decimal(ref.rate).normalize(), 'f')}% in "
        "QuickBooks: the tax totals will differ (the sync reports each difference)"
    )


def _mapped(db, kind: str) -> dict[int, str]:
    return dict(db.execute("SELECT ledger_id, qbo_id FROM qbo_maps WHERE kind = ?", [kind]).fetchall())


def list_map(db, kind: str) -> tuple[MapRow, ...]:
    """Every ledger item of a map with its QBO reference and status."""
    items = ledger_items(db, kind)
    refs = {r.qbo_id: r for r in qbo_refs(db, kind)}
    mapped = _mapped(db, kind)
    rows = []
    for item in items:
        qbo_id = mapped.get(item.ledger_id)
        ref = refs.get(qbo_id) if qbo_id else None
        if qbo_id is None:
            status = "unmapped"
            message = f"{item.name} is not mapped: open Mapping › {KIND_TITLES[kind]}"
        elif ref is None or not ref.present:
            status = "gone"
            message = f"{item.name} is mapped to a QuickBooks reference that no longer exists: map it again"
        elif not ref.active:
            status = "inactive"
            message = f"{item.name} is mapped to {ref.name}, which is inactive in QuickBooks: map it again"
        elif kind == "tax" and (problem := component_problem(item, ref)):
            status = "mismatch"
            message = problem
        else:
            status = "mapped"
            message = pair_note(kind, item, ref) or f"{item.name} → {ref.name}"
        rows.append(
            MapRow(kind, item.ledger_id, item.key, item.name, item.detail, item.role, item.required, qbo_id,
                   ref.name if ref else None, status, message)
        )
    return tuple(rows)


def _item(db, kind: str, ledger_id: int) -> LedgerItem:
    for item in ledger_items(db, kind):
        if item.ledger_id == ledger_id:
            return item
    what = "tax rate" if kind == "tax" else "account"
    raise NotFound(f"There is no active ledger {what} with id {ledger_id} in the {KIND_TITLES[kind]}")


def _ref(db, kind: str, qbo_id: str) -> QBORef:
    for ref in qbo_refs(db, kind):
        if ref.qbo_id == str(qbo_id):
            return ref
    raise NotFound(f"QuickBooks reference {qbo_id} is not in the cached reference data: refresh it (`ledgerlink pull`)")


def list_options(db, kind: str, ledger_id: int | None = None) -> tuple[QBOOption, ...]:
    """The QBO references of a map (for a picker): which are used and by whom, which are valid for `ledger_id`."""
    item = _item(db, kind, ledger_id) if ledger_id is not None else None
    names = {i.ledger_id: i.name for i in ledger_items(db, kind)}
    used = {q: names.get(l, f"#{l}") for l, q in _mapped(db, kind).items()}
    options = []
    for ref in qbo_refs(db, kind):
        if not ref.present:
            continue
        problem = pair_problem(kind, item, ref) if item else (None if ref.active else f"{ref.name} is inactive")
        options.append(QBOOption(ref.qbo_id, ref.name, ref.type, used.get(ref.qbo_id), problem is None, problem or ""))
    return tuple(options)


def set_mapping(db, kind: str, ledger_id: int, qbo_id: str, user: str) -> MapRow:
    """Map one ledger item to one QBO reference, refusing invalid pairs and a reference already used."""
    item = _item(db, kind, ledger_id)
    ref = _ref(db, kind, qbo_id)
    problem = pair_problem(kind, item, ref)
    if problem:
        raise ValidationError(problem)
    with db.atomic():
        holder = db.execute(
            "SELECT ledger_id FROM qbo_maps WHERE kind = ? AND qbo_id = ? AND ledger_id != ?",
            [kind, ref.qbo_id, ledger_id],
        ).fetchone()
        if holder:
            other = next((i.name for i in ledger_items(db, kind) if i.ledger_id == holder[0]), f"#{holder[0]}")
            raise Conflict(f"{ref.name} is already used by {other} in the {KIND_TITLES[kind]}: unmap that first")
        db.execute(
            "INSERT OR REPLACE INTO qbo_maps (kind, ledger_id, qbo_id, set_at, set_by) VALUES (?, ?, ?, ?, ?)",
            [kind, ledger_id, ref.qbo_id, store.now_iso(), user],
        )
    return next(r for r in list_map(db, kind) if r.ledger_id == ledger_id)


def unset_mapping(db, kind: str, ledger_id: int) -> bool:
    _check_kind(kind)
    cursor = db.execute("DELETE FROM qbo_maps WHERE kind = ? AND ledger_id = ?", [kind, ledger_id])
    return cursor.rowcount > 0


_WORDS = re.compile(r"[^a-z0-9%.]+")


def _norm(name: str) -> str:
    return " ".join(_WORDS.split(name.lower())).strip()


def similarity(a: str, b: str) -> float:
    a, b = _norm(a), _norm(b)
    if not a or not b:
        return 0.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    words_a, words_b = set(a.split()), set(b.split())
    overlap = len(words_a & words_b) / max(len(words_a | words_b), 1)
    return max(ratio, overlap)


def _score(kind: str, item: LedgerItem, ref: QBORef) -> float:
    score = similarity(item.name, ref.name)
    if kind == "tax" and ref.rate is not None:
        same_rate = Decimal(ref.rate) == Decimal(item.detail.rstrip("%"))
        score = score / 2 + (0.5 if same_rate else 0.0)
    if kind == "gl" and ref.type == item.detail:
        score += 0.1
    return min(score, 1.0)


def suggest(db, kind: str, threshold: float = 0.5) -> tuple[Suggestion, ...]:
    """For each unmapped ledger item, the best valid unused QBO reference by name and type (greedy, best first)."""
    mapped = _mapped(db, kind)
    used = set(mapped.values())
    items = [i for i in ledger_items(db, kind) if i.ledger_id not in mapped]
    refs = [r for r in qbo_refs(db, kind) if r.qbo_id not in used]
    candidates = []
    for item in items:
        for ref in refs:
            if pair_problem(kind, item, ref) is None:
                score = _score(kind, item, ref)
                if score >= threshold:
                    candidates.append((score, item, ref))
    candidates.sort(key=lambda c: (-c[0], c[1].ledger_id, c[2].qbo_id))
    taken_items, taken_refs, out = set(), set(), []
    for score, item, ref in candidates:
        if item.ledger_id in taken_items or ref.qbo_id in taken_refs:
            continue
        taken_items.add(item.ledger_id)
        taken_refs.add(ref.qbo_id)
        out.append(Suggestion(kind, item.ledger_id, item.name, ref.qbo_id, ref.name, round(score, 3)))
    return tuple(sorted(out, key=lambda s: s.ledger_id))


CSV_COLUMNS = ("kind", "ledger_key", "ledger_name", "qbo_id", "qbo_name")


def export_map(db, path: Path, kinds: tuple[str, ...] = KINDS) -> int:
    """Write the mapped rows of `kinds` to a CSV file; returns the number of rows written."""
    rows = [r for kind in kinds for r in list_map(db, kind) if r.qbo_id]
    try:
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for r in rows:
                writer.writerow([safe_cell(c) for c in (r.kind, r.ledger_key, r.ledger_name, r.qbo_id, r.qbo_name or "")])
    except OSError as exc:
        raise ValidationError(f"Cannot write {path}: {exc.strerror}: pick a file in a folder you can write to") from None
    return len(rows)


def import_map(db, path: Path, user: str) -> int:
    """Read a CSV written by export_map (or by hand) and apply it as a whole, or refuse it with every problem.

    Each map named in the file is replaced by the file's rows; maps not named are left alone.
    A qbo_id unknown in this company falls back to the qbo_name (moving a map between companies)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportError_(f"Cannot read {path}: {exc.strerror}") from None
    text, undecodable = decode(data)
    if undecodable:
        raise CSVRefused(path, [undecodable])
    with_cells = list(csv.DictReader(io.StringIO(text, newline="")))
    records = [{k: unsafe_cell(v) if isinstance(v, str) else v for k, v in r.items()} for r in with_cells]
    header = set(records[0].keys()) if records else set()
    missing_columns = sorted({"kind", "ledger_key", "qbo_id"} - header)
    if not records:
        raise ImportError_(f"{path.name} has no rows: expected a header {','.join(CSV_COLUMNS)} and a row per "
                           "mapping (as `ledgerlink map export` writes them)")
    if missing_columns:
        raise ImportError_(f"{path.name}: the header has no {' or '.join(missing_columns)} column: expected "
                           f"{','.join(CSV_COLUMNS)}, comma-separated (as `ledgerlink map export` writes them)")
    problems, plan = [], []
    seen: dict[tuple[str, str], int] = {}
    for number, rec in enumerate(records, start=2):
        kind = (rec.get("kind") or "").strip()
        if kind not in KINDS:
            problems.append(f"row {number}, column kind: {kind!r} is not one of {', '.join(KINDS)}")
            continue
        key = (rec.get("ledger_key") or "").strip()
        item = next((i for i in ledger_items(db, kind) if i.key == key), None)
        if item is None:
            problems.append(f"row {number}, column ledger_key: no ledger item {key!r} in the {KIND_TITLES[kind]}")
            continue
        qbo_id = (rec.get("qbo_id") or "").strip()
        refs = qbo_refs(db, kind)
        ref = next((r for r in refs if r.qbo_id == qbo_id and r.present), None)
        if ref is None and rec.get("qbo_name"):
            ref = next((r for r in refs if r.name == rec["qbo_name"].strip() and r.present), None)
        if ref is None:
            problems.append(f"row {number}, column qbo_id: QuickBooks reference {qbo_id!r} is not in the cached data")
            continue
        problem = pair_problem(kind, item, ref)
        if problem:
            problems.append(f"row {number}: {problem}")
            continue
        if (kind, ref.qbo_id) in seen:
            problems.append(f"row {number}: {ref.name} is already used on row {seen[(kind, ref.qbo_id)]}")
            continue
        seen[(kind, ref.qbo_id)] = number
        plan.append((kind, item.ledger_id, ref.qbo_id))
    if problems:
        raise ImportError_(f"{path.name} was not imported ({counted(len(problems), 'problem')})", problems)
    with db.atomic():
        for kind in {k for k, _, _ in plan}:
            db.execute("DELETE FROM qbo_maps WHERE kind = ?", [kind])
        for kind, ledger_id, qbo_id in plan:
            db.execute(
                "INSERT INTO qbo_maps (kind, ledger_id, qbo_id, set_at, set_by) VALUES (?, ?, ?, ?, ?)",
                [kind, ledger_id, qbo_id, store.now_iso(), user],
            )
    return len(plan)
