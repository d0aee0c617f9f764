"""The firm factory, country templates, set-up writes and the ledger-side checklist."""

from __future__ import annotations

import os
import stat

import pytest

from core.checks import LEDGER_STEPS, STEP_IDS
from core.errors import Conflict, ValidationError
from core.ledger.templates import COUNTRIES, load_template
from core.services import ledger as L
from core.services.context import open_firm
from core.services.setup import checklist, status_json

RATES = {
    "US": {"0", "6.25"},
    "CA": {"0", "5", "13", "15", "7", "12", "11", "14.975"},  # 12, 11, 14.975: GST/PST and GST/QST combined
    "UK": {"20", "5", "0"},
    "AU": {"10", "0"},
    "NZ": {"15", "0"},
}


@pytest.mark.parametrize("country", COUNTRIES)
def test_every_template_is_a_usable_law_firm_chart(country):
    t = load_template(country)
    codes = [a.code for a in t.accounts]
    assert 40 <= len(codes) <= 70 and len(set(codes)) == len(codes)
    subtypes = {a.subtype for a in t.accounts}
    assert {"operating_bank", "trust_bank", "receivable", "trust_liability", "fee_income", "expense_recovery",
            "sales_tax", "bad_debt", "discount"} <= subtypes
    assert len([a for a in t.accounts if a.subtype == "fee_income"]) >= 3
    assert {a.type for a in t.accounts} >= {"Equity", "Expense"}
    assert {r.rate_percent for r in t.tax_rates} == RATES[country]
    assert any(r.rate_percent == "0" and not r.exempt for r in t.tax_rates)


def test_open_firm_makes_a_private_wal_database_and_is_idempotent(settings, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_USER", "carol")
    firm = open_firm(settings)
    assert firm.user == "carol"
    assert stat.S_IMODE(os.stat(settings.db).st_mode) == 0o600
    assert firm.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert firm.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    firm.close()
    again = open_firm(settings)
    assert {"sync_queue", "journal_lines", "audit_log"} <= set(again.db.table_names())
    assert not L.firm_exists(again)
    again.close()


def test_create_firm_makes_creator_admin_and_refuses_a_second_firm(settings):
    firm = L.create_firm(settings, "uk", name="Byrne & Co Solicitors", fiscal_year_start=4)
    info = L.get_firm_info(firm)
    assert (info.country, info.currency, info.method, info.fiscal_year_start, info.chart_template) == (
        "UK", "GBP", "accrual", 4, "UK")
    assert [(u.name, u.role) for u in L.list_users(firm)] == [("alice", "admin")]
    assert L.preview_chart_template("UK").accounts[0].code == L.list_accounts(firm)[0].code
    firm.close()
    with pytest.raises(Conflict, match="already holds a firm"):
        L.create_firm(settings, "US", name="Other")
    with pytest.raises(ValidationError, match="Country 'FR' has no template"):
        L.create_firm(settings, "FR", name="Other")


def test_fresh_firm_checklist_says_what_is_missing_and_where(settings):
    firm = L.create_firm(settings, "AU", name="Wattle Lawyers")
    steps = checklist(firm)
    assert [s.id for s in steps] == list(STEP_IDS)
    state = {s.id: s for s in steps[: len(LEDGER_STEPS)]}
    assert [k for k, s in state.items() if not s.ok] == ["bank_account", "trust_accounting", "feature_preview"]
    assert "Setup › Bank accounts" in state["bank_account"].message
    L.set_accounting_method(firm, "cash")
    L.set_no_client_money(firm, True)
    state = {s.id: s for s in checklist(firm)}
    assert not state["accrual_method"].ok
    assert "invoices are posted when created, not when paid" in state["accrual_method"].message
    assert state["trust_accounting"].ok and "no client money" in state["trust_accounting"].message
    firm.close()


def test_ready_firm_passes_every_ledger_step_and_status_has_the_design_shape(firm):
    status = status_json(firm)
    assert set(status) == {"firm", "steps", "connection", "metered_reads", "queue", "lock_date", "customers_waiting",
                           "restore", "waits"}
    assert status["firm"]["name"] == "Hartley & Quinn LLP" and status["firm"]["currency"] == "USD"
    assert [s["id"] for s in status["steps"]] == list(STEP_IDS)
    assert all(s["ok"] for s in status["steps"][: len(LEDGER_STEPS)])
    assert all(set(s) >= {"id", "ok", "message"} for s in status["steps"])
    assert status["queue"] == {"queued": 0, "sending": 0, "done": 0, "parked": 0}
    assert status["waits"] == []
    assert (status["lock_date"], status["customers_waiting"], status["restore"]) == (None, 0, None)


def test_bank_accounts_need_the_right_gl_subtype(ready):
    bank = L.list_contacts(ready.firm, "bank")[0].id
    other_trust = L.get_account_by_code(ready.firm, "1110").id
    with pytest.raises(ValidationError, match="is a trust bank account; an operating account cannot use it"):
        L.add_bank_account(ready.firm, name="Ops 2", kind="operating", bank_contact_id=bank, gl_account_id=other_trust)
    with pytest.raises(ValidationError, match="is of type Income; a bank account needs a GL account of type Bank"):
        L.add_bank_account(ready.firm, name="X", kind="trust", bank_contact_id=bank, gl_account_id=ready.fees)
    with pytest.raises(ValidationError, match="is a client contact, not a bank"):
        L.add_bank_account(ready.firm, name="X", kind="trust", bank_contact_id=ready.client, gl_account_id=other_trust)
    assert L.add_bank_account(ready.firm, name="Trust 2", kind="trust", bank_contact_id=bank,
                              gl_account_id=other_trust).kind == "trust"


def test_accounts_and_tax_rates_can_be_added(ready):
    acc = L.add_account(ready.firm, code="4070", name="Legal Fees - Immigration", type="Income", subtype="fee_income")
    assert L.list_accounts(ready.firm, subtypes=["fee_income"])[-1] == acc
    with pytest.raises(ValidationError, match="a fee income account must be of type Income, not Expense"):
        L.add_account(ready.firm, code="4080", name="Bad", type="Expense", subtype="fee_income")
    with pytest.raises(Conflict, match="Account code 4070 is already used"):
        L.add_account(ready.firm, code="4070", name="Again", type="Income")
    rate = L.add_tax_rate(ready.firm, "City tax (8.875%)", "8.875")
    assert (rate.rate_percent, rate.rate_ppm, rate.tax_account_id) == ("8.875", 88750, ready.tax_gl)
    inv = ready.invoice(dict(description="x", account_id=acc.id, quantity=1, unit_price="100", tax_rate_id=rate.id))
    assert inv.tax_minor == 888
