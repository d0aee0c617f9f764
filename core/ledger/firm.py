"""Firm set-up writes: the firm itself, chart of accounts, contacts, matters, bank accounts, tax rates,
feature previews and user roles. Set-up and firm settings need the admin role; clients and matters
are billing work and need any role.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import Conflict, NotFound, ValidationError
from core.ledger import queries
from core.ledger.base import (
    writes,
    COUNTRY_CURRENCY,
    ROLES,
    audit,
    firm_row,
    get_row,
    inserted_id,
    now,
    parse_rate_percent,
    require_role,
)
from core.ledger.models import BankAccount, ChartTemplate, Contact, Matter, TaxRate, User
from core.ledger.accounts import add_account, set_account_active  # noqa: F401  (they live in accounts)
from core.ledger.tax_rates import check_components, insert_tax_rate
from core.ledger.templates import check_country, load_template
from core.settings import Settings

if TYPE_CHECKING:
    from core.context import Firm

FEATURE_PREVIEWS = ("qbo_integration_upgrade",)


def create_firm(settings: Settings, country: str, *, name: str, fiscal_year_start: int = 1,
                method: str = "accrual", apply_template: bool = True) -> "Firm":
    """Create the firm in `settings.db` from a country template; the creating OS user becomes admin."""
    from core.context import open_firm

    cc = check_country(country)
    name = (name or "").strip()
    problems = []
    if not name:
        problems.append("name: the firm needs a name")
    if not isinstance(fiscal_year_start, int) or not 1 <= fiscal_year_start <= 12:
        problems.append(f"fiscal_year_start: {fiscal_year_start} is not a month number (1-12)")
    if method not in ("accrual", "cash"):
        problems.append(f"method: '{method}' is not 'accrual' or 'cash'")
    if problems:
        raise ValidationError(problems[0], problems)
    firm = open_firm(settings)
    try:
        if firm.db.execute("SELECT count(*) FROM firm").fetchone()[0]:
            raise Conflict(f"{settings.db} already holds a firm ({firm_row(firm)['name']})")
        with firm.db.atomic():
            firm.db.execute(
                "INSERT INTO firm (id, name, country, currency, method, fiscal_year_start, created_at, created_by) "
                "VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
                [name, cc, COUNTRY_CURRENCY[cc], method, fiscal_year_start, now(), firm.user],
            )
            firm.db.execute(
                "INSERT INTO users (name, role, granted_by, granted_at) VALUES (?, 'admin', ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET role = 'admin'",
                [firm.user, firm.user, now()],
            )
            audit(firm, "create_firm", "firm", 1, f"{name} ({cc})")
            if apply_template:
                _apply_template(firm, load_template(cc))
    except BaseException:
        firm.close()
        raise
    return firm


def preview_chart_template(country: str) -> ChartTemplate:
    """The accounts and tax rates a country template would create (nothing is written)."""
    return load_template(country)


def _apply_template(firm: "Firm", template: ChartTemplate) -> int:
    existing = {r[0] for r in firm.db.execute("SELECT code FROM accounts")}
    new = [a for a in template.accounts if a.code not in existing]
    firm.db.conn.executemany(
        "INSERT INTO accounts (code, name, type, subtype, active, from_template) VALUES (?, ?, ?, ?, 1, 1)",
        [(a.code, a.name, a.type, a.subtype) for a in new],
    )
    codes = {r[0]: r[1] for r in firm.db.execute("SELECT code, id FROM accounts")}
    names = {r[0] for r in firm.db.execute("SELECT name FROM tax_rates")}
    for rate in template.tax_rates:
        if rate.name in names:
            continue
        ppm = parse_rate_percent(rate.rate_percent)
        parts = [(c.name, c.rate_percent, codes[c.tax_account_code]) for c in rate.components]
        insert_tax_rate(firm, rate.name, ppm, rate.exempt, check_components(
            firm, rate.name, ppm, rate.exempt, parts, codes[rate.tax_account_code] if rate.tax_account_code else None))
    firm.db.execute("UPDATE firm SET chart_template = ? WHERE id = 1", [template.country])
    audit(firm, "apply_chart_template", "firm", 1, f"{template.country}: {len(new)} accounts")
    return len(new)


@writes
def apply_chart_template(firm: "Firm", country: str | None = None) -> int:
    """Add the template's accounts and tax rates that the firm lacks; returns how many accounts were added."""
    require_role(firm, "admin", "apply a chart of accounts template")
    template = load_template(country or firm_row(firm)["country"])
    with firm.db.atomic():
        return _apply_template(firm, template)


def _set_firm(firm: "Firm", column: str, value, action: str) -> None:
    require_role(firm, "admin", action)
    with firm.db.atomic():
        firm.db.execute(f"UPDATE firm SET {column} = ? WHERE id = 1", [value])
        audit(firm, f"set_{column}", "firm", 1, str(value))


@writes
def set_accounting_system(firm: "Firm", system: str) -> None:
    """'builtin' (Ledgerlink keeps the books; needed for the QBO link) or 'external'."""
    if system not in ("builtin", "external"):
        raise ValidationError(f"accounting system: '{system}' is not 'builtin' or 'external'")
    _set_firm(firm, "accounting_system", system, "change the accounting system")


@writes
def set_accounting_method(firm: "Firm", method: str) -> None:
    if method not in ("accrual", "cash"):
        raise ValidationError(f"accounting method: '{method}' is not 'accrual' or 'cash'")
    _set_firm(firm, "method", method, "change the accounting method")


@writes
def set_fiscal_year_start(firm: "Firm", month: int) -> None:
    if not isinstance(month, int) or not 1 <= month <= 12:
        raise ValidationError(f"fiscal year start: {month} is not a month number (1-12)")
    _set_firm(firm, "fiscal_year_start", month, "change the fiscal year")


@writes
def set_no_client_money(firm: "Firm", no_client_money: bool) -> None:
    """The firm states it holds no client money (then it needs no trust bank account)."""
    _set_firm(firm, "no_client_money", int(bool(no_client_money)), "change trust accounting")


@writes
def set_feature_preview(firm: "Firm", name: str, enabled: bool) -> None:
    if name not in FEATURE_PREVIEWS:
        raise ValidationError(f"feature preview: '{name}' is not one of {', '.join(FEATURE_PREVIEWS)}")
    require_role(firm, "admin", "switch feature previews")
    with firm.db.atomic():
        firm.db.execute(
            "INSERT INTO feature_previews (name, enabled, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at",
            [name, int(bool(enabled)), now()],
        )
        audit(firm, "set_feature_preview", "feature_preview", None, f"{name}={'on' if enabled else 'off'}")


@writes
def add_contact(firm: "Firm", name: str, kind: str = "client", *, email: str | None = None,
                phone: str | None = None, address: str | None = None) -> Contact:
    require_role(firm, "admin" if kind == "bank" else "bookkeeper", f"add a {kind} contact")
    name = (name or "").strip()
    if kind not in ("client", "bank"):
        raise ValidationError(f"kind: '{kind}' is not 'client' or 'bank'")
    if not name:
        raise ValidationError("name: a contact needs a name")
    if firm.db.execute("SELECT 1 FROM contacts WHERE kind = ? AND name = ?", [kind, name]).fetchone():
        raise Conflict(f"There is already a {kind} named '{name}'")
    with firm.db.atomic():
        cur = firm.db.execute(
            "INSERT INTO contacts (name, kind, email, phone, address) VALUES (?, ?, ?, ?, ?)",
            [name, kind, email, phone, address],
        )
        new_id = inserted_id(cur)
        audit(firm, "add_contact", "contact", new_id, f"{kind}: {name}")
    return queries.get_contact(firm, new_id)


@writes
def add_client(firm: "Firm", name: str, *, currency: str | None = None, **details) -> Contact:
    """A client, billed in the firm's home currency (a foreign-currency client is refused for now)."""
    home = firm_row(firm)["currency"]
    if currency is not None and str(currency).strip().upper() != home:
        raise ValidationError(
            f"Client {(name or '').strip() or '(no name)'}: currency {str(currency).strip().upper() or '(none)'} is not "
            f"the firm's home currency {home}; foreign-currency clients are not supported yet, so bill them in {home}")
    return add_contact(firm, name, "client", **details)


@writes
def add_matter(firm: "Firm", client_id: int, name: str, *, reference: str | None = None) -> Matter:
    require_role(firm, "bookkeeper", "open a matter")
    client = get_row(firm, "contacts", client_id, "contact")
    if client["kind"] != "client":
        raise ValidationError(f"{client['name']} is a {client['kind']} contact; matters belong to clients")
    name = (name or "").strip()
    if not name:
        raise ValidationError("name: a matter needs a name")
    if reference is None:
        count = firm.db.execute("SELECT count(*) FROM matters WHERE client_id = ?", [client_id]).fetchone()[0]
        reference = f"{client_id:04d}-{count + 1:03d}"
    if firm.db.execute("SELECT 1 FROM matters WHERE reference = ?", [reference]).fetchone():
        raise Conflict(f"Matter reference {reference} is already used")
    with firm.db.atomic():
        cur = firm.db.execute(
            "INSERT INTO matters (client_id, reference, name) VALUES (?, ?, ?)", [client_id, reference, name]
        )
        new_id = inserted_id(cur)
        audit(firm, "add_matter", "matter", new_id, f"{reference} {name}")
    return queries.get_matter(firm, new_id)


@writes
def add_bank_account(firm: "Firm", *, name: str, kind: str, bank_contact_id: int, gl_account_id: int) -> BankAccount:
    """An operating or trust bank account, linked to a bank contact and a GL Bank account of the right subtype."""
    require_role(firm, "admin", "add bank accounts")
    name = (name or "").strip()
    if kind not in ("operating", "trust"):
        raise ValidationError(f"kind: '{kind}' is not 'operating' or 'trust'")
    if not name:
        raise ValidationError("name: a bank account needs a name")
    bank = get_row(firm, "contacts", bank_contact_id, "contact")
    if bank["kind"] != "bank":
        raise ValidationError(f"{bank['name']} is a {bank['kind']} contact, not a bank")
    gl = get_row(firm, "accounts", gl_account_id, "account")
    label = f"{gl['code']} {gl['name']}"
    if not gl["active"]:
        raise ValidationError(f"Account {label} is inactive")
    if gl["type"] != "Bank":
        raise ValidationError(f"Account {label} is of type {gl['type']}; a bank account needs a GL account of type Bank")
    if kind == "trust" and gl["subtype"] != "trust_bank":
        raise ValidationError(f"Account {label} is not a trust bank account; a trust bank account needs one")
    if kind == "operating" and gl["subtype"] == "trust_bank":
        raise ValidationError(f"Account {label} is a trust bank account; an operating account cannot use it")
    if firm.db.execute("SELECT 1 FROM bank_accounts WHERE gl_account_id = ?", [gl_account_id]).fetchone():
        raise Conflict(f"Account {label} is already linked to a bank account")
    if firm.db.execute("SELECT 1 FROM bank_accounts WHERE name = ?", [name]).fetchone():
        raise Conflict(f"There is already a bank account named '{name}'")
    with firm.db.atomic():
        cur = firm.db.execute(
            "INSERT INTO bank_accounts (name, kind, bank_contact_id, gl_account_id) VALUES (?, ?, ?, ?)",
            [name, kind, bank_contact_id, gl_account_id],
        )
        new_id = inserted_id(cur)
        audit(firm, "add_bank_account", "bank_account", new_id, f"{kind}: {name} -> {label}")
    return queries.get_bank_account(firm, new_id)


@writes
def add_tax_rate(firm: "Firm", name: str, rate_percent: str, *, exempt: bool = False,
                 tax_account_id: int | None = None, components: list | None = None) -> TaxRate:
    """A sales tax rate; a non-zero rate posts to a sales-tax payable account (the first one if not given), or
    to one account per component: components=[(name, percent, tax_account_id), ...] adding up to the rate."""
    require_role(firm, "admin", "add tax rates")
    name = (name or "").strip()
    if not name:
        raise ValidationError("name: a tax rate needs a name")
    ppm = parse_rate_percent(rate_percent)
    if exempt and ppm:
        raise ValidationError(f"An exempt rate must be 0%, not {rate_percent}%")
    if ppm and tax_account_id is None and not components:
        rows = list(firm.db.query("SELECT id FROM accounts WHERE subtype = 'sales_tax' AND active = 1 ORDER BY code"))
        if not rows:
            raise ValidationError("A non-zero rate needs a sales tax payable account: add one in Setup › Accounts")
        tax_account_id = rows[0]["id"]
    if tax_account_id is not None:
        acc = get_row(firm, "accounts", tax_account_id, "account")
        if acc["subtype"] != "sales_tax" or not acc["active"]:
            raise ValidationError(f"Account {acc['code']} {acc['name']} is not an active sales tax payable account")
    parts = check_components(firm, name, ppm, exempt, components or [], tax_account_id)
    if firm.db.execute("SELECT 1 FROM tax_rates WHERE name = ?", [name]).fetchone():
        raise Conflict(f"There is already a tax rate named '{name}'")
    with firm.db.atomic():
        rate_id = insert_tax_rate(firm, name, ppm, exempt, parts)
        audit(firm, "add_tax_rate", "tax_rate", rate_id, f"{name} {rate_percent}%")
    return queries.get_tax_rate(firm, rate_id)


@writes
def grant_role(firm: "Firm", user: str, role: str) -> User:
    """Give an OS user a role ('admin' or 'bookkeeper'); needs an admin."""
    if role not in ROLES:
        raise ValidationError(f"role: '{role}' is not one of {', '.join(ROLES)}")
    user = (user or "").strip()
    if not user:
        raise ValidationError("user: give the operating-system user name")
    require_role(firm, "admin", "grant roles")
    admins = [r[0] for r in firm.db.execute("SELECT name FROM users WHERE role = 'admin'")]
    if role != "admin" and admins == [user]:
        raise Conflict(f"{user} is the only admin; grant admin to someone else first")
    with firm.db.atomic():
        firm.db.execute(
            "INSERT INTO users (name, role, granted_by, granted_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET role = excluded.role, granted_by = excluded.granted_by, "
            "granted_at = excluded.granted_at",
            [user, role, firm.user, now()],
        )
        audit(firm, "grant_role", "user", None, f"{user}={role}")
    for u in queries.list_users(firm):
        if u.name == user:
            return u
    raise NotFound(f"User {user} was not saved")
