"""Reference pull and its diff, the three maps (used once, invalid pairs, suggestions, CSV round trip),
the sync settings and the six QBO checklist steps."""

import pytest

from core.errors import Conflict, ImportError_, NotFound, ValidationError
from core.qbo.connect import begin_connect, complete_connect_async
from core.services import qbo as svc
from core.services.setup import checklist
from tests.qbo.fakeqbo import account_id, fake, firm, tax_rate_id  # noqa: F401  (fixtures)


@pytest.fixture
async def pulled(firm, fake):
    app = fake.app()
    pending = begin_connect(firm, app)
    await complete_connect_async(firm, fake.approve(pending.url), app)
    diff = await svc.pull_reference_async(firm, app=app)
    return diff


async def test_first_pull_fills_the_cache(firm, pulled):
    assert dict(pulled.counts) == {"Account": 5, "Item": 4, "TaxCode": 4, "TaxRate": 3, "Customer": 3}
    assert pulled.company_name == "Fake Law Co"
    assert not pulled.changed and pulled.flagged == () and pulled.first_pull
    assert svc.connection(firm).company_name == "Fake Law Co"


async def test_refresh_diff_keeps_maps_and_flags_broken_ones(firm, fake, pulled):
    svc.set_mapping(firm, "sales", account_id(firm, "4100"), "2")
    svc.set_mapping(firm, "sales", account_id(firm, "4020"), "4")
    svc.set_mapping(firm, "sales", account_id(firm, "4000"), "1")
    items = {i["Id"]: i for i in fake.ref["Item"]}
    items["1"]["Name"] = "Litigation Fees"
    items["2"]["Active"] = False
    items["2"]["Name"] = "Reimbursed Client Costs (deleted)"
    fake.ref["Item"] = [i for i in fake.ref["Item"] if i["Id"] != "4"]
    fake.ref["Item"].append({"Id": "9", "Name": "Mediation", "Type": "Service", "Active": True})
    diff = await svc.pull_reference_async(firm, app=fake.app())
    assert not diff.first_pull
    assert [(c.qbo_id, c.old_name, c.name) for c in diff.renamed] == [("1", "Legal Fees - Litigation", "Litigation Fees")]
    assert [c.qbo_id for c in diff.inactive] == ["2"]  # the " (deleted)" suffix is not a rename
    assert [c.qbo_id for c in diff.gone] == ["4"]
    assert [(c.entity, c.qbo_id) for c in diff.new] == [("Item", "9")]
    assert {(f.qbo_id, f.problem) for f in diff.flagged} == {("2", "inactive"), ("4", "gone")}
    rows = {r.ledger_key: r for r in svc.list_map(firm, "sales")}
    assert rows["4000"].status == "mapped" and rows["4000"].qbo_name == "Litigation Fees"
    assert rows["4100"].status == "inactive" and rows["4020"].status == "gone"
    assert "no longer exists" in rows["4020"].message


async def test_a_qbo_reference_is_used_at_most_once(firm, pulled):
    svc.set_mapping(firm, "sales", account_id(firm, "4000"), "1")
    with pytest.raises(Conflict, match="already used by Legal Fees - Litigation"):
        svc.set_mapping(firm, "sales", account_id(firm, "4010"), "1")
    options = {o.qbo_id: o for o in svc.list_options(firm, "sales", account_id(firm, "4010"))}
    assert options["1"].used_by == "Legal Fees - Litigation"  # shown struck through
    assert options["3"].valid is False and "Category" in options["3"].reason
    svc.set_mapping(firm, "sales", account_id(firm, "4000"), "4")  # remapping frees item 1
    svc.set_mapping(firm, "sales", account_id(firm, "4010"), "1")
    assert svc.unset_mapping(firm, "sales", account_id(firm, "4010"))
    assert not svc.unset_mapping(firm, "sales", account_id(firm, "4010"))


async def test_invalid_pairs_are_refused_with_the_reason(firm, pulled):
    with pytest.raises(ValidationError, match="cannot be used on invoice lines"):
        svc.set_mapping(firm, "sales", account_id(firm, "4000"), "3")  # a Category
    with pytest.raises(ValidationError, match="Income account and cannot be mapped to Checking, a QuickBooks Bank"):
        svc.set_mapping(firm, "gl", account_id(firm, "4200"), "35")  # income (discount) to a bank account
    with pytest.raises(ValidationError, match="pick a QuickBooks account of type Bank"):
        svc.set_mapping(firm, "gl", account_id(firm, "1000"), "79")  # bank to income
    zero = tax_rate_id(firm, "No Sales Tax (0%)")
    state = tax_rate_id(firm, "Sample State Sales Tax (6.25%)")
    with pytest.raises(ValidationError, match="0% rate and cannot be mapped to TAX, a taxable code"):
        svc.set_mapping(firm, "tax", zero, "TAX")
    with pytest.raises(ValidationError, match="zero-rate code"):
        svc.set_mapping(firm, "tax", state, "NON")
    with pytest.raises(ValidationError, match="charges 6.25% but California charges 8% in QuickBooks"):
        svc.set_mapping(firm, "tax", state, "2")  # an 8% code for a 6.25% rate: the tax would differ
    assert svc.set_mapping(firm, "tax", zero, "NON").status == "mapped"
    assert svc.set_mapping(firm, "tax", state, "6").status == "mapped"
    with pytest.raises(NotFound, match="refresh"):
        svc.set_mapping(firm, "sales", account_id(firm, "4000"), "999")
    with pytest.raises(NotFound):
        svc.set_mapping(firm, "sales", account_id(firm, "1000"), "1")  # a bank account is not on the sales map
    with pytest.raises(ValidationError, match="Unknown map"):
        svc.list_map(firm, "nope")


async def test_trust_money_maps_only_to_a_qbo_trust_account(firm, fake):
    fake.ref["Account"] += [
        {"Id": "37", "Name": "Payroll Account", "AccountType": "Bank", "AccountSubType": "Checking", "Active": True},
        {"Id": "38", "Name": "Client Funds", "AccountType": "Bank", "AccountSubType": "TrustAccounts", "Active": True},
        {"Id": "39", "Name": "IOLTA Trust", "AccountType": "Bank", "AccountSubType": "Checking", "Active": True},
    ]
    app = fake.app()
    await complete_connect_async(firm, fake.approve(begin_connect(firm, app).url), app)
    await svc.pull_reference_async(firm, app=app)
    trust, operating = account_id(firm, "1100"), account_id(firm, "1000")
    with pytest.raises(ValidationError, match="IOLTA Trust Account holds client money and cannot be mapped to "
                                              "Payroll Account, a QuickBooks operating bank account"):
        svc.set_mapping(firm, "gl", trust, "37")
    with pytest.raises(ValidationError, match="Client Funds holds client money in QuickBooks and cannot take "
                                              "Operating Checking, an operating account"):
        svc.set_mapping(firm, "gl", operating, "38")
    options = {o.qbo_id: o for o in svc.list_options(firm, "gl", trust)}
    assert options["38"].valid and options["39"].valid  # by subtype, and by name
    assert not options["35"].valid and not options["37"].valid
    suggested = svc.suggest(firm, "gl")
    assert any(s.ledger_id == trust for s in suggested)
    for s in suggested:
        assert (s.ledger_id == trust) == (s.qbo_id in {"38", "39"}), s  # never trust to operating, nor back
    assert svc.set_mapping(firm, "gl", trust, "38").status == "mapped"


async def test_suggestions_by_name_and_type(firm, pulled):
    sales = {s.ledger_name: s.qbo_name for s in svc.suggest(firm, "sales")}
    assert sales["Legal Fees - Litigation"] == "Legal Fees - Litigation"
    assert sales["Reimbursed Client Costs"] == "Reimbursed Client Costs"
    assert sales["Legal Fees - Real Estate"] == "Legal Fees - Real Estate"
    assert "Fees" not in sales.values()  # the Category is never suggested
    assert len(set(sales.values())) == len(sales)  # each reference suggested once
    gl = {s.ledger_name: s.qbo_name for s in svc.suggest(firm, "gl")}
    assert gl["Operating Checking"] == "Checking"
    tax = {s.ledger_name: s.qbo_id for s in svc.suggest(firm, "tax")}
    assert tax == {"No Sales Tax (0%)": "NON", "Sample State Sales Tax (6.25%)": "6"}
    applied = svc.apply_suggestions(firm, svc.suggest(firm, "tax"))
    assert all(r.status == "mapped" for r in applied)
    assert svc.suggest(firm, "tax") == ()


async def test_export_import_round_trip_and_all_or_nothing(firm, pulled, tmp_path):
    svc.apply_suggestions(firm, svc.suggest(firm, "sales") + svc.suggest(firm, "gl") + svc.suggest(firm, "tax"))
    before = {k: [(r.ledger_id, r.qbo_id) for r in svc.list_map(firm, k)] for k in svc.KINDS}
    path = tmp_path / "maps.csv"
    written = svc.export_map(firm, path)
    assert written == sum(1 for k in before for _, q in before[k] if q)
    assert path.read_text().splitlines()[0] == "kind,ledger_key,ledger_name,qbo_id,qbo_name"
    for kind in svc.KINDS:
        for row in svc.list_map(firm, kind):
            svc.unset_mapping(firm, kind, row.ledger_id)
    assert svc.import_map(firm, path) == written
    assert {k: [(r.ledger_id, r.qbo_id) for r in svc.list_map(firm, k)] for k in svc.KINDS} == before

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "kind,ledger_key,ledger_name,qbo_id,qbo_name\n"
        "sales,4000,x,3,Fees\n"
        "sales,9999,x,1,\n"
        "banana,4000,x,1,\n"
        "gl,1000,x,35,Checking\n"
    )
    with pytest.raises(ImportError_) as info:
        svc.import_map(firm, bad)
    problems = info.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("row 2:") and "Category" in problems[0]
    assert problems[1].startswith("row 3, column ledger_key") and problems[2].startswith("row 4, column kind")
    assert {k: [(r.ledger_id, r.qbo_id) for r in svc.list_map(firm, k)] for k in svc.KINDS} == before


async def test_sync_settings(firm):
    assert svc.sync_settings(firm) == svc.SyncSettingsInfo(False, None)
    assert svc.set_sync_enabled(firm, True, "2026-01-01") == svc.SyncSettingsInfo(True, "2026-01-01")
    assert svc.set_sync_enabled(firm, False) == svc.SyncSettingsInfo(False, "2026-01-01")
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        svc.set_sync_enabled(firm, True, "1st of May")


def step_map(firm):
    return {s.id: s for s in checklist(firm) if s.id.startswith(("qbo_", "map_", "sync_"))}


async def test_the_six_checks_walk_from_missing_to_done(firm, fake):
    steps = step_map(firm)
    assert list(steps) == ["qbo_connected", "qbo_zero_tax", "map_sales", "map_gl", "map_tax", "sync_enabled"]
    assert not any(s.ok for s in steps.values())
    assert "ledgerlink connect" in steps["qbo_connected"].message

    app = fake.app()
    pending = begin_connect(firm, app)
    await complete_connect_async(firm, fake.approve(pending.url), app)
    assert "not pulled" in step_map(firm)["qbo_connected"].message
    await svc.pull_reference_async(firm, app=app)
    steps = step_map(firm)
    assert steps["qbo_connected"].ok and steps["qbo_zero_tax"].ok and "NON" in steps["qbo_zero_tax"].message

    svc.set_mapping(firm, "sales", account_id(firm, "4000"), "1")
    assert step_map(firm)["map_sales"].message.startswith("9 accounts not mapped")
    svc.set_mapping(firm, "sales", account_id(firm, "4100"), "2")
    # every fee-income and expense-recovery account may be on the next invoice: each unmapped one is named
    step = step_map(firm)["map_sales"]
    assert not step.ok and step.message.startswith("8 accounts not mapped") and "4010 Legal Fees" in step.message
    from core.services.ledger import set_account_active
    for code in ("4010", "4020", "4030", "4040", "4050", "4060", "4110", "4120"):
        set_account_active(firm, account_id(firm, code), False)
    assert step_map(firm)["map_sales"].ok
    assert step_map(firm)["map_sales"].message == ("Every fee-income and expense-recovery account, and every account "
                                                   "a waiting document uses, is mapped (2).")

    assert "Operating Checking" in step_map(firm)["map_gl"].message
    svc.set_mapping(firm, "gl", account_id(firm, "1000"), "35")
    assert step_map(firm)["map_gl"].ok

    assert not step_map(firm)["map_tax"].ok
    svc.apply_suggestions(firm, svc.suggest(firm, "tax"))
    assert step_map(firm)["map_tax"].ok

    svc.set_sync_enabled(firm, True)
    steps = step_map(firm)
    assert all(s.ok and s.state == "done" for s in steps.values()), [s.message for s in steps.values() if not s.ok]

    # a mapped item made inactive in QBO breaks the sales map again, with the reason
    for item in fake.ref["Item"]:
        if item["Id"] == "2":
            item["Active"] = False
    await svc.pull_reference_async(firm, app=app)
    assert not step_map(firm)["map_sales"].ok

    fake.ref["TaxCode"] = [c for c in fake.ref["TaxCode"] if c["Id"] != "NON"]
    fake.ref["TaxRate"] = [r for r in fake.ref["TaxRate"] if r["Id"] != "5"]
    await svc.pull_reference_async(firm, app=app)
    assert "no zero-rate tax code" in step_map(firm)["qbo_zero_tax"].message


async def test_a_combined_rate_maps_only_to_a_code_of_the_same_component_rates(firm, fake):
    from core.services import ledger

    fake.ref["TaxRate"] += [{"Id": "11", "Name": "State 7", "RateValue": 7, "Active": True},
                            {"Id": "12", "Name": "County 1", "RateValue": 1, "Active": True},
                            {"Id": "13", "Name": "State 6", "RateValue": 6, "Active": True},
                            {"Id": "14", "Name": "County 2", "RateValue": 2, "Active": True}]
    fake.ref["TaxCode"] += [
        {"Id": "20", "Name": "Combo", "Taxable": True, "Active": True, "SalesTaxRateList": {"TaxRateDetail": [
            {"TaxRateRef": {"value": "11"}}, {"TaxRateRef": {"value": "12"}}]}},
        {"Id": "21", "Name": "Other Combo", "Taxable": True, "Active": True, "SalesTaxRateList": {"TaxRateDetail": [
            {"TaxRateRef": {"value": "13"}}, {"TaxRateRef": {"value": "14"}}]}}]
    app = fake.app()
    await complete_connect_async(firm, fake.approve(begin_connect(firm, app).url), app)
    await svc.pull_reference_async(firm, app=app)
    gl = account_id(firm, "2200")
    combo = ledger.add_tax_rate(firm, "Combo (8%)", "8", components=[("State", "7", gl), ("County", "1", gl)]).id
    with pytest.raises(ValidationError, match=r"Combo \(8%\) charges 7% \+ 1% but Other Combo charges 6% \+ 2%"):
        svc.set_mapping(firm, "tax", combo, "21")  # same 8% in all, but each rate rounds on its own
    with pytest.raises(ValidationError, match="but California charges 8%"):
        svc.set_mapping(firm, "tax", combo, "2")
    options = {o.qbo_id: o for o in svc.list_options(firm, "tax", combo)}
    assert options["20"].valid and not options["21"].valid and not options["2"].valid
    assert svc.set_mapping(firm, "tax", combo, "20").status == "mapped"

    # QuickBooks changes one rate of the code after mapping: the map and the checklist step refuse it
    next(r for r in fake.ref["TaxRate"] if r["Id"] == "12")["RateValue"] = 1.5
    await svc.pull_reference_async(firm, app=app)
    row = next(r for r in svc.list_map(firm, "tax") if r.ledger_id == combo)
    assert row.status == "mismatch" and "charges 7% + 1% but Combo charges 7% + 1.5%" in row.message
    step = {s.id: s for s in svc.qbo_steps(firm)}["map_tax"]
    assert not step.ok and "Combo (8%)" in step.message
    from core.services.sync import FirmSources

    # the sync parks a document at that rate with the same reason rather than push a tax QBO would compute apart
    assert "7% + 1.5%" in FirmSources(firm).context().map_messages[("tax", combo)]


@pytest.mark.parametrize("country, ok", [("US", True), ("CA", False), ("GB", False)])
async def test_the_connected_company_must_price_tax_as_the_firm_does(firm, fake, country, ok):
    fake.company["Country"] = country
    app = fake.app()
    await complete_connect_async(firm, fake.approve(begin_connect(firm, app).url), app)
    await svc.pull_reference_async(firm, app=app)
    step = {s.id: s for s in svc.qbo_steps(firm)}["qbo_connected"]
    assert step.ok is ok
    if not ok:
        assert f"is a {'UK' if country == 'GB' else country} QuickBooks company, which works out sales tax line by line"\
            in step.message and "this US firm works it out on the taxable subtotal of each rate" in step.message


async def test_client_trust_liability_maps_only_to_its_own_liability_and_is_required_once_client_money_is_held(
        firm, fake):
    from core.ledger import firm as firm_ops
    from core.ledger.trust import trust_receipt

    fake.ref["Account"] += [
        {"Id": "38", "Name": "Client Funds", "AccountType": "Bank", "AccountSubType": "TrustAccounts", "Active": True},
        {"Id": "60", "Name": "Client Trust Liability", "AccountType": "Other Current Liability",
         "AccountSubType": "TrustAccountsLiabilities", "Active": True},
        {"Id": "61", "Name": "Sales Tax Payable", "AccountType": "Other Current Liability",
         "AccountSubType": "GlobalTaxPayable", "Active": True},
        {"Id": "62", "Name": "Retainers Held", "AccountType": "Other Current Liability",
         "AccountSubType": "OtherCurrentLiabilities", "Active": True},
    ]
    app = fake.app()
    await complete_connect_async(firm, fake.approve(begin_connect(firm, app).url), app)
    await svc.pull_reference_async(firm, app=app)
    liability, tax, trust = account_id(firm, "2100"), account_id(firm, "2200"), account_id(firm, "1100")
    with pytest.raises(ValidationError, match="Client Trust Liability \\(IOLTA\\) is what the firm owes its clients "
                                              "and cannot be mapped to Sales Tax Payable"):
        svc.set_mapping(firm, "gl", liability, "61")
    with pytest.raises(ValidationError, match="cannot be mapped to Checking, a QuickBooks Bank account"):
        svc.set_mapping(firm, "gl", liability, "35")
    with pytest.raises(ValidationError, match="Client Trust Liability is the client trust liability in QuickBooks "
                                              "and cannot take Sales Tax Payable"):
        svc.set_mapping(firm, "gl", tax, "60")
    suggested = {s.ledger_id: s.qbo_id for s in svc.suggest(firm, "gl")}
    assert suggested.get(liability) == "60" and suggested.get(tax) != "60"

    svc.set_mapping(firm, "gl", account_id(firm, "1000"), "35")
    assert step_map(firm)["map_gl"].ok  # no client money yet: the trust accounts may wait
    client = firm_ops.add_client(firm, "Jane Doe")
    trust_receipt(firm, client_id=client.id, amount="100.00", date="2026-03-01")
    gl = step_map(firm)["map_gl"]
    assert not gl.ok and "IOLTA Trust Account" in gl.message and "Client Trust Liability (IOLTA)" in gl.message
    svc.set_mapping(firm, "gl", trust, "38")
    svc.set_mapping(firm, "gl", liability, "62")  # a liability of its own, whatever its name
    assert step_map(firm)["map_gl"].ok
