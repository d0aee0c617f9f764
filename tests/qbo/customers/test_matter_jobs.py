"""Matters as QBO sub-customers (a firm setting, off by default): a firm with two matters per client synced with
the setting on has parents and jobs in QBO, each document under its matter's job, each client's receivable the
sum of its jobs' and equal to the ledger's, and reconciles clean; with the setting off nothing changes. The
sandbox enforces QBO's rules for jobs, and the setting is refused once documents are in QBO."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sync.sandboxed import fee_line, in_qbo, small_firm
from sync.test_sandbox_sync import qbo_objects

from core.cli import main
from core.errors import Conflict, PermanentError, PermissionDenied
from core.ledger import billing, queries
from core.ledger.firm import add_client, add_matter, grant_role
from core.qbo import store
from core.services import customers, sync


def _realm(firm) -> str:
    return store.load_connection(firm.db).realm_id


def _two_clients_two_matters(firm):
    """Two clients, two matters each, an invoice per matter (one with a credit note, one paid), and one invoice
    with no matter. Returns {matter id: [invoice numbers]}, the no-matter invoice's number and the client ids."""
    bank = queries.list_bank_accounts(firm, "operating")[0].id
    made, clients = {}, []
    for n, name in enumerate(("Harper Holdings", "Iris Ng"), 1):
        client = add_client(firm, name).id
        clients.append(client)
        for k, what in enumerate(("Sale of 2 Mill Lane", "Lease: Unit 4"), 1):
            matter = add_matter(firm, client, what, reference=f"M-{n}{k}")
            inv = billing.create_invoice(firm, client_id=client, matter_id=matter.id, date="2026-10-01",
                                         lines=[fee_line(firm, f"{100 * n + 10 * k}.00")])
            made[matter.id] = [inv.number]
            if k == 1:
                billing.issue_credit_note(firm, invoice_id=inv.id, date="2026-10-02", amount="10.00")
            else:
                billing.record_payment(firm, client_id=client, date="2026-10-03", amount="50.00",
                                       bank_account_id=bank, allocations=[(inv.id, "50.00")])
    loose = billing.create_invoice(firm, client_id=clients[0], date="2026-10-01", lines=[fee_line(firm, "70.00")])
    return made, loose.number, clients


@pytest.mark.parametrize("job_payments", ["same_customer", "parent_or_job"])
async def test_matters_become_jobs_with_their_documents_and_ar_per_parent_equals_the_ledger(settings, sandbox,
                                                                                            job_payments):
    firm = await small_firm(settings, sandbox)
    try:
        sandbox.state.set_company_setting(_realm(firm), "job_payments", job_payments)
        assert customers.set_matters_as_jobs(firm, True) is True
        made, loose, clients = _two_clients_two_matters(firm)
        summary = await sync.run_sync(firm)
        assert summary.ok and summary.parked == 0 and summary.waiting == 0, summary.as_json()

        people = {c["Id"]: c for c in qbo_objects(sandbox, firm, "Customer")}
        parents = {c["DisplayName"]: c for c in people.values() if c["DisplayName"] in ("Harper Holdings", "Iris Ng")}
        assert all(not p.get("Job") for p in parents.values())
        jobs = {j["matter_id"]: j for j in customers.jobs(firm)}
        assert len(jobs) == 4 and all(j["qbo_id"] for j in jobs.values())
        for job in jobs.values():
            theirs = people[job["qbo_id"]]
            parent = next(p for p in parents.values() if p["Id"] == theirs["ParentRef"]["value"])
            assert theirs["Job"] is True and theirs["Level"] == 1 and theirs["BillWithParent"] is True
            assert theirs["FullyQualifiedName"] == f"{parent['DisplayName']}:{job['display_name']}"
        assert {j["display_name"] for j in jobs.values()} == {
            "M-11 Sale of 2 Mill Lane", "M-12 Lease- Unit 4", "M-21 Sale of 2 Mill Lane", "M-22 Lease- Unit 4"}

        invoices = {i["DocNumber"]: i for i in qbo_objects(sandbox, firm, "Invoice")}
        for matter_id, numbers in made.items():
            for number in numbers:
                assert invoices[number]["CustomerRef"]["value"] == jobs[matter_id]["qbo_id"]
        assert invoices[loose]["CustomerRef"]["value"] == parents["Harper Holdings"]["Id"]  # no matter: the client
        job_ids = {j["qbo_id"] for j in jobs.values()}
        assert {m["CustomerRef"]["value"] for m in qbo_objects(sandbox, firm, "CreditMemo")} <= job_ids
        assert {p["CustomerRef"]["value"] for p in qbo_objects(sandbox, firm, "Payment")} <= job_ids

        # AR per parent (the sum of its jobs and its own documents) equals the ledger's per client
        rendered = {c["Id"]: c for c in await in_qbo(firm, lambda c: c.query_all("Customer"))}
        for client_id, name in zip(clients, ("Harper Holdings", "Iris Ng")):
            ledger_ar = sum(i.open_balance_minor for i in queries.list_invoices(firm, status="posted")
                            if i.client_id == client_id)
            qbo_ar = Decimal(str(rendered[parents[name]["Id"]]["BalanceWithJobs"]))
            assert int(qbo_ar * 100) == ledger_ar > 0

        result = await sync.reconcile(firm, full=True)
        assert result.ok, result.as_json() if hasattr(result, "as_json") else result
    finally:
        firm.close()


async def test_with_the_setting_off_matters_change_nothing(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        assert customers.matters_as_jobs(firm) is False
        made, _, _ = _two_clients_two_matters(firm)
        assert (await sync.run_sync(firm)).ok
        assert not [c for c in qbo_objects(sandbox, firm, "Customer") if c.get("Job")]
        parents = {c["Id"] for c in qbo_objects(sandbox, firm, "Customer") if c["DisplayName"] in
                   ("Harper Holdings", "Iris Ng")}
        assert {i["CustomerRef"]["value"] for i in qbo_objects(sandbox, firm, "Invoice")} == parents
        assert customers.jobs(firm) == []
        assert (await sync.reconcile(firm, full=True)).ok
    finally:
        firm.close()


async def test_a_payment_over_two_matters_parks_with_a_reason_naming_the_fix(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        customers.set_matters_as_jobs(firm, True)
        client = add_client(firm, "Two Matters Ltd").id
        a = billing.create_invoice(firm, client_id=client, matter_id=add_matter(firm, client, "One").id,
                                   date="2026-10-01", lines=[fee_line(firm, "100.00")])
        b = billing.create_invoice(firm, client_id=client, matter_id=add_matter(firm, client, "Two").id,
                                   date="2026-10-01", lines=[fee_line(firm, "100.00")])
        bank = queries.list_bank_accounts(firm, "operating")[0].id
        pay = billing.record_payment(firm, client_id=client, date="2026-10-03", amount="150.00",
                                     bank_account_id=bank, allocations=[(a.id, "100.00"), (b.id, "50.00")])
        summary = await sync.run_sync(firm)
        assert summary.pushed == 2 and summary.parked == 1
        [parked] = sync.parked(firm)
        assert (parked.doc_type, parked.doc_id, parked.code) == ("payment", pay.id, "payment_spans_matters")
        assert "record one payment per matter" in parked.reason and parked.fix.screen == "billing"
        assert not qbo_objects(sandbox, firm, "Payment")
    finally:
        firm.close()


async def test_the_setting_is_admin_only_and_refused_once_documents_are_in_qbo(settings, sandbox, monkeypatch):
    firm = await small_firm(settings, sandbox)
    try:
        grant_role(firm, "clerk", "bookkeeper")
        admin = firm.user
        firm.user = "clerk"
        with pytest.raises(PermissionDenied, match="Only an admin"):
            customers.set_matters_as_jobs(firm, True)
        firm.user = admin
        client = add_client(firm, "Early Ltd").id
        billing.create_invoice(firm, client_id=client, date="2026-10-01", lines=[fee_line(firm)])
        assert (await sync.run_sync(firm)).ok
        with pytest.raises(Conflict, match=r"matters_as_jobs: 1 document\(s\) are already in QuickBooks"):
            customers.set_matters_as_jobs(firm, True)
        assert customers.matters_as_jobs(firm) is False
        assert customers.set_matters_as_jobs(firm, False) is False  # no change asked: no refusal
    finally:
        firm.close()


def test_the_cli_switches_and_shows_the_setting_and_lists_sub_customers(settings, capsys, monkeypatch):
    from core.ledger import demo
    from core.ledger.firm import create_firm

    firm = create_firm(settings, "UK", name="Cli & Co")
    demo.ensure_ready(firm)
    firm.close()
    db = ["--db", str(settings.db)]
    assert main([*db, "customers", "jobs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"matters_as_jobs": False}
    assert main([*db, "customers", "jobs", "on"]) == 0
    assert "Matters as sub-customers: on" in capsys.readouterr().out
    assert main([*db, "customers", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["matters_as_jobs"] is True and listed["jobs"] == []


# -- the sandbox's rules for jobs -------------------------------------------------------------------------------

async def test_the_sandbox_enforces_qbo_rules_for_jobs(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        async def create(body):
            return await in_qbo(firm, lambda c: c.create("Customer", body, requestid=None))

        parent = await create({"DisplayName": "Parent Co"})
        job = await create({"DisplayName": "Matter A", "Job": True, "ParentRef": {"value": parent["Id"]}})
        assert (job["Job"], job["Level"], job["FullyQualifiedName"]) == (True, 1, "Parent Co:Matter A")
        deeper = await create({"DisplayName": "Matter A1", "ParentRef": {"value": job["Id"]}})
        assert (deeper["Level"], deeper["FullyQualifiedName"]) == (2, "Parent Co:Matter A:Matter A1")

        with pytest.raises(PermanentError) as missing:
            await create({"DisplayName": "Orphan", "Job": True})
        assert missing.value.code == "2020"
        with pytest.raises(PermanentError) as unknown:
            await create({"DisplayName": "Lost", "Job": True, "ParentRef": {"value": "99999"}})
        assert unknown.value.code == "2500"
        with pytest.raises(PermanentError) as alone:
            await create({"DisplayName": "Alone", "BillWithParent": True})
        assert alone.value.code == "6000"
        with pytest.raises(PermanentError) as taken:  # unique across the company, not per parent
            await create({"DisplayName": "Matter A", "Job": True, "ParentRef": {"value": parent["Id"]}})
        assert taken.value.code == "6240"

        sleeping = await create({"DisplayName": "Gone Co"})
        await in_qbo(firm, lambda c: c.sparse_update("Customer", {"Id": sleeping["Id"], "SyncToken":
                                                                   sleeping["SyncToken"], "Active": False},
                                                     requestid=None))
        with pytest.raises(PermanentError) as inactive:
            await create({"DisplayName": "Under Gone", "Job": True, "ParentRef": {"value": sleeping["Id"]}})
        assert inactive.value.code == "610"

        current = await in_qbo(firm, lambda c: c.read("Customer", parent["Id"]))
        with pytest.raises(PermanentError) as cycle:
            await in_qbo(firm, lambda c: c.sparse_update("Customer", {
                "Id": parent["Id"], "SyncToken": current["SyncToken"], "ParentRef": {"value": deeper["Id"]}},
                requestid=None))
        assert cycle.value.code == "6000"
    finally:
        firm.close()


@pytest.mark.parametrize("reading", ["same_customer", "parent_or_job"])
async def test_a_parents_payment_links_its_jobs_invoices_only_under_the_lenient_reading(settings, sandbox, reading):
    firm = await small_firm(settings, sandbox)
    try:
        sandbox.state.set_company_setting(_realm(firm), "job_payments", reading)
        customers.set_matters_as_jobs(firm, True)
        client = add_client(firm, "Parent Pays Ltd").id
        inv = billing.create_invoice(firm, client_id=client, matter_id=add_matter(firm, client, "Job").id,
                                     date="2026-10-01", lines=[fee_line(firm, "100.00")])
        assert (await sync.run_sync(firm)).ok
        job_invoice = next(i for i in qbo_objects(sandbox, firm, "Invoice") if i["DocNumber"] == inv.number)
        parent = next(c for c in qbo_objects(sandbox, firm, "Customer") if c["DisplayName"] == "Parent Pays Ltd")
        body = {"CustomerRef": {"value": parent["Id"]}, "TotalAmt": 10,
                "Line": [{"Amount": 10, "LinkedTxn": [{"TxnId": job_invoice["Id"], "TxnType": "Invoice"}]}]}
        if reading == "same_customer":
            with pytest.raises(PermanentError, match="belongs to another customer"):
                await in_qbo(firm, lambda c: c.create("Payment", body, requestid=None))
        else:
            paid = await in_qbo(firm, lambda c: c.create("Payment", body, requestid=None))
            assert paid["CustomerRef"]["value"] == parent["Id"]
    finally:
        firm.close()


# -- the schema step --------------------------------------------------------------------------------------------

def test_a_firm_of_the_previous_release_upgrades_with_the_setting_off_and_every_document_kept(tmp_path, capsys):
    import sqlite3
    from pathlib import Path

    from core.services.context import open_firm
    from core.services.ledger import trial_balance
    from core.settings import Settings

    legacy = Path(__file__).parents[2] / "fixtures" / "firm_schema0.sql"
    db = tmp_path / "firm.db"
    conn = sqlite3.connect(db)
    conn.executescript(legacy.read_text())
    tables = ("invoices", "payments", "credit_notes", "matters", "journal_lines", "sync_links", "sync_customers")
    before = {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
    balances = conn.execute("SELECT account_id, sum(amount_minor) FROM journal_lines GROUP BY account_id").fetchall()
    conn.close()
    assert before["invoices"] and before["sync_links"] and before["matters"]

    assert main(["--db", str(db), "migrate"]) == 0
    capsys.readouterr()
    firm = open_firm(Settings(_env_file=None, db=db), readonly=True)
    try:
        for table, rows in before.items():
            assert [r[: len(rows[0])] for r in firm.db.execute(f"SELECT * FROM {table} ORDER BY rowid")] == rows
        assert firm.db.execute("SELECT account_id, sum(amount_minor) FROM journal_lines GROUP BY account_id"
                               ).fetchall() == balances
        assert customers.matters_as_jobs(firm) is False  # the previous release sent every document to the client
        assert customers.jobs(firm) == []
        trial = trial_balance(firm)
        assert trial.total_debit_minor == trial.total_credit_minor > 0
    finally:
        firm.close()
    assert main(["--db", str(db), "customers", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["matters_as_jobs"] is False and listed["customers"]


# -- identity and crashes ---------------------------------------------------------------------------------------

async def test_a_lost_answer_to_a_job_create_is_replayed_and_never_makes_a_second_job(settings, sandbox):
    from core.errors import TransientError
    from core.qbo.connect import open_client

    firm = await small_firm(settings, sandbox)
    try:
        customers.set_matters_as_jobs(firm, True)
        client = add_client(firm, "Crash Co").id
        matter = add_matter(firm, client, "Estate", reference="M-7")
        inv = billing.create_invoice(firm, client_id=client, matter_id=matter.id, date="2026-10-01",
                                     lines=[fee_line(firm)])
        qbo = await open_client(firm)
        real = qbo.create
        dropped = []

        async def drop_after_the_job_is_made(entity, body, *, requestid):
            answer = await real(entity, body, requestid=requestid)
            if entity == "Customer" and body.get("Job") and not dropped:
                dropped.append(requestid)
                raise TransientError("the connection dropped after QuickBooks made the job")
            return answer

        qbo.create = drop_after_the_job_is_made
        try:
            first = await sync.run_sync(firm, client=qbo)
        finally:
            await qbo.aclose()
        assert first.pushed == 0 and "Nothing was lost" in first.message, first.as_json()
        assert [j["qbo_id"] for j in customers.jobs(firm)] == [None]  # the name is kept for the replay

        again = await sync.run_sync(firm)
        assert again.ok and again.pushed == 1, again.as_json()
        made = [c for c in qbo_objects(sandbox, firm, "Customer") if c["DisplayName"] == "M-7 Estate"]
        assert len(made) == 1 and made[0]["Job"] is True  # the replay got QBO's stored answer: one job
        [job] = customers.jobs(firm)
        assert job["qbo_id"] == made[0]["Id"]
        [pushed] = [i for i in qbo_objects(sandbox, firm, "Invoice") if i["DocNumber"] == inv.number]
        assert pushed["CustomerRef"]["value"] == made[0]["Id"]
    finally:
        firm.close()


async def test_a_job_name_another_qbo_customer_uses_is_numbered_never_linked(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        theirs = await in_qbo(firm, lambda c: c.create("Customer", {"DisplayName": "M-8 Probate"}, requestid=None))
        customers.set_matters_as_jobs(firm, True)
        client = add_client(firm, "Named Ltd").id
        matter = add_matter(firm, client, "Probate", reference="M-8")
        billing.create_invoice(firm, client_id=client, matter_id=matter.id, date="2026-10-01", lines=[fee_line(firm)])
        # a client whose customer took the next number first: the job is told apart from it too
        twin = add_client(firm, "M-8 Probate (2)").id
        billing.create_invoice(firm, client_id=twin, date="2026-10-01", lines=[fee_line(firm, "20.00")])
        summary = await sync.run_sync(firm)
        assert summary.ok and summary.parked == 0, summary.as_json()
        [job] = customers.jobs(firm)
        assert job["display_name"] == "M-8 Probate (3)" and job["qbo_id"] != theirs["Id"]
        people = {c["DisplayName"]: c for c in qbo_objects(sandbox, firm, "Customer")}
        assert people["M-8 Probate (3)"]["Job"] and not people["M-8 Probate (2)"].get("Job")
        assert [i for i in customers.list_customers(firm) if i.client_id == twin][0].qbo_id == \
            people["M-8 Probate (2)"]["Id"]
    finally:
        firm.close()


async def test_the_dry_run_shows_the_job_a_matters_document_will_go_to(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        customers.set_matters_as_jobs(firm, True)
        client = add_client(firm, "Preview Ltd").id
        matter = add_matter(firm, client, "Lease")
        billing.create_invoice(firm, client_id=client, matter_id=matter.id, date="2026-10-01", lines=[fee_line(firm)])
        [preview] = await sync.dry_run(firm)
        assert preview.body["CustomerRef"]["value"] == f"QBO-Job-{matter.id}"
        assert (await sync.run_sync(firm)).ok
        [job] = customers.jobs(firm)
        billing.create_invoice(firm, client_id=client, matter_id=matter.id, date="2026-10-02", lines=[fee_line(firm)])
        [preview] = await sync.dry_run(firm)
        assert preview.body["CustomerRef"]["value"] == job["qbo_id"]
    finally:
        firm.close()


async def test_a_job_name_a_vendor_holds_parks_once_then_goes_under_the_next_number(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        await in_qbo(firm, lambda c: c.create("Vendor", {"DisplayName": "M-9 Will"}, requestid=None))
        customers.set_matters_as_jobs(firm, True)
        client = add_client(firm, "Testator Ltd").id
        matter = add_matter(firm, client, "Will", reference="M-9")
        inv = billing.create_invoice(firm, client_id=client, matter_id=matter.id, date="2026-10-01",
                                     lines=[fee_line(firm)])
        first = await sync.run_sync(firm)
        assert first.pushed == 0 and first.parked == 1, first.as_json()
        [parked] = sync.parked(firm)
        assert parked.code == "customer_job_refused" and "M-9 Will" in parked.reason
        assert "the next sync tries again" in parked.reason

        again = await sync.run_sync(firm)
        assert again.ok and again.pushed == 1, again.as_json()
        [job] = customers.jobs(firm)
        assert job["display_name"] == "M-9 Will (2)" and job["qbo_id"]
        [pushed] = [i for i in qbo_objects(sandbox, firm, "Invoice") if i["DocNumber"] == inv.number]
        assert pushed["CustomerRef"]["value"] == job["qbo_id"]
    finally:
        firm.close()
