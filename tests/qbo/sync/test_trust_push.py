"""Trust money in QuickBooks, against the sandbox over HTTP: every trust transaction is one JournalEntry, so that
QBO's trust bank balances and client trust liability per customer equal the ledger's; nothing of it touches an
operating account; a second sync sends nothing; a reversal is pushed; a replayed batch makes no second copy."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from core.ledger import billing, queries, trust
from core.ledger.firm import add_bank_account, add_client
from core.qbo import store
from core.services import qbo as qbo_services
from core.services import sync

from .sandboxed import fee_line, in_qbo, small_firm


def _realm(firm) -> str:
    return store.load_connection(firm.db).realm_id


def _qbo_account(firm, ledger_account_id: int) -> str:
    return firm.db.execute("SELECT qbo_id FROM qbo_maps WHERE kind = 'gl' AND ledger_id = ?",
                           [ledger_account_id]).fetchone()[0]


def _customer(firm, client_id: int) -> str:
    return firm.db.execute("SELECT qbo_id FROM sync_customers WHERE client_id = ?", [client_id]).fetchone()[0]


def _minor(value) -> int:
    return int(Decimal(str(value)) * 100)


def _ledger_balance(firm, account_id: int) -> int:
    return firm.db.execute("SELECT coalesce(sum(amount_minor), 0) FROM journal_lines WHERE account_id = ?",
                           [account_id]).fetchone()[0]


def _ledger_by_client(firm, account_id: int) -> dict[int, int]:
    rows = firm.db.execute("SELECT client_id, sum(amount_minor) FROM journal_lines WHERE account_id = ? "
                           "GROUP BY client_id", [account_id]).fetchall()
    return {c: s for c, s in rows if s}


async def _second_trust_account(firm, sb):
    """A second trust bank account in the ledger and in QBO, mapped to each other."""
    linked = {b.gl_account_id for b in queries.list_bank_accounts(firm)}
    spare = [a for a in queries.list_accounts(firm, subtypes=["trust_bank"]) if a.id not in linked][0]
    main = queries.list_bank_accounts(firm, "trust")[0]
    bank = add_bank_account(firm, name="Separate trust", kind="trust", gl_account_id=spare.id,
                            bank_contact_id=queries.get_bank_account(firm, main.id).bank_contact_id)
    made = await in_qbo(firm, lambda client: client.create(
        "Account", {"Name": "Separate Client Trust", "AccountType": "Bank", "AccountSubType": "TrustAccounts"},
        requestid=None))
    await qbo_services.pull_reference_async(firm)
    qbo_services.set_mapping(firm, "gl", spare.id, made["Id"])
    return main, bank


def _trust_gl(firm) -> tuple[dict[str, int], set[str]]:
    """QBO account id -> ledger account id of the trust banks and the liability; and every other mapped account."""
    trust_ids = {r[0] for r in firm.db.execute(
        "SELECT gl_account_id FROM bank_accounts WHERE kind = 'trust' UNION "
        "SELECT id FROM accounts WHERE subtype = 'trust_liability'")}
    mapped = dict(firm.db.execute("SELECT ledger_id, qbo_id FROM qbo_maps WHERE kind = 'gl'").fetchall())
    return ({q: l for l, q in mapped.items() if l in trust_ids}, {q for l, q in mapped.items() if l not in trust_ids})


async def _activity(firm, sb):
    jane, acme = add_client(firm, "Jane Doe").id, add_client(firm, "Acme Ltd").id
    main, separate = await _second_trust_account(firm, sb)
    r1 = trust.trust_receipt(firm, client_id=jane, amount="1000.00", date="2026-03-01", bank_account_id=main.id,
                             reference="WIRE-77")
    trust.trust_receipt(firm, client_id=acme, amount="500.00", date="2026-03-02", bank_account_id=main.id)
    trust.trust_disbursement(firm, client_id=jane, amount="120.50", date="2026-03-05", bank_account_id=main.id,
                             payee="County Court", reference="CHQ 1001")
    trust.trust_refund(firm, client_id=acme, amount="100.00", date="2026-03-06", bank_account_id=main.id)
    trust.trust_transfer(firm, client_id=jane, amount="300.00", date="2026-03-07", from_account_id=main.id,
                         to_account_id=separate.id)
    return jane, acme, main, separate, r1


def _assert_qbo_equals_ledger(firm, sb) -> None:
    realm = _realm(firm)
    liability = queries.list_accounts(firm, subtypes=["trust_liability"])[0].id
    customers = dict(firm.db.execute("SELECT qbo_id, client_id FROM sync_customers WHERE qbo_id IS NOT NULL"))
    for bank in queries.list_bank_accounts(firm, "trust"):
        account = sb.state.entity(realm, "Account", _qbo_account(firm, bank.gl_account_id))
        assert _minor(account["CurrentBalance"]) == _ledger_balance(firm, bank.gl_account_id), bank.name
    by_customer = {customers[c]: _minor(v) for c, v in sb.state.balances(realm, _qbo_account(firm, liability)).items()
                   if _minor(v)}
    assert by_customer == _ledger_by_client(firm, liability)


async def test_trust_activity_reaches_quickbooks_as_journal_entries_equal_to_the_ledger(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        jane, acme, main, separate, _ = await _activity(firm, sandbox)
        invoice = billing.create_invoice(firm, client_id=jane, date="2026-03-08", lines=[fee_line(firm, "100.00")])
        total = f"{invoice.total_minor // 100}.{invoice.total_minor % 100:02d}"
        operating = queries.list_bank_accounts(firm, "operating")[0]
        billing.record_payment(firm, client_id=jane, date="2026-03-09", amount=total, bank_account_id=operating.id,
                               from_trust=True, trust_bank_account_id=main.id, allocations=[(invoice.id, total)])

        summary = await sync.run_sync(firm)
        assert summary.parked == 0 and summary.waiting == 0, summary.as_json()
        entries = sandbox.state.entities(_realm(firm), "JournalEntry")
        numbers = Counter(e["DocNumber"] for e in entries)
        paid = firm.db.execute("SELECT id FROM payments WHERE from_trust = 1").fetchone()[0]
        assert sorted(numbers) == sorted([f"TR-{t.id}" for t in trust.list_trust_transactions(firm)] + [f"TRP-{paid}"])
        assert set(numbers.values()) == {1}
        receipt = next(e for e in entries if "WIRE-77" in e.get("PrivateNote", ""))
        credit = next(line for line in receipt["Line"]
                      if line["JournalEntryLineDetail"]["PostingType"] == "Credit")
        assert credit["JournalEntryLineDetail"]["Entity"]["EntityRef"]["value"] == _customer(firm, jane)
        disbursed = next(e for e in entries if "CHQ 1001" in e.get("PrivateNote", ""))
        assert "County Court" in disbursed["PrivateNote"] and str(disbursed["TxnDate"]) == "2026-03-05"

        # trust and operating never mix: every JournalEntry line is on a trust bank or the trust liability
        trust_qbo, others = _trust_gl(firm)
        for entry in entries:
            for line in entry["Line"]:
                account = line["JournalEntryLineDetail"]["AccountRef"]["value"]
                assert account in trust_qbo and account not in others, (entry["DocNumber"], account)
        [payment] = sandbox.state.entities(_realm(firm), "Payment")
        assert payment["DepositToAccountRef"]["value"] not in trust_qbo  # the invoice payment goes to operating
        _assert_qbo_equals_ledger(firm, sandbox)
        result = await sync.reconcile(firm, full=True)
        assert result.ok and result.as_json()["trust"] == [], result.as_json()

        again = await sync.run_sync(firm)
        assert again.requests == 0 or again.writes == 0, again.as_json()
        assert again.pushed == 0
    finally:
        firm.close()


async def test_a_reversal_is_pushed_and_quickbooks_still_equals_the_ledger(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        jane, acme, main, separate, receipt = await _activity(firm, sandbox)
        assert (await sync.run_sync(firm)).parked == 0
        _assert_qbo_equals_ledger(firm, sandbox)
        late = trust.trust_receipt(firm, client_id=acme, amount="75.00", date="2026-03-10", bank_account_id=main.id)
        assert (await sync.run_sync(firm)).pushed == 1
        trust.reverse_trust(firm, late.id, reason="bounced cheque", date="2026-03-12")

        summary = await sync.run_sync(firm)
        assert summary.pushed == 1 and summary.parked == 0, summary.as_json()
        numbers = {e["DocNumber"] for e in sandbox.state.entities(_realm(firm), "JournalEntry")}
        assert f"TR-{late.id}" not in numbers and f"TR-{receipt.id}" in numbers
        _assert_qbo_equals_ledger(firm, sandbox)
    finally:
        firm.close()


async def test_trust_entries_whose_answers_were_lost_are_replayed_never_duplicated(settings, sandbox, caplog):
    firm = await small_firm(settings, sandbox)
    try:
        await _activity(firm, sandbox)
        # QBO stores each of the next writes but the answer never arrives: the same requestids are sent again
        sandbox.state.set_faults("drop-after@next:8/write")
        first = await sync.run_sync(firm)
        sandbox.state.set_faults(None)
        runs = 1
        while sync.queue_counts(firm).queued + sync.queue_counts(firm).sending and runs < 5:
            await sync.run_sync(firm)
            runs += 1
        counts = sync.queue_counts(firm)
        assert counts.queued == counts.sending == counts.parked == 0, first.as_json()
        # every write lost its answer (two customers, then the batch of five JournalEntries) and was sent again
        assert sum("Could not reach QuickBooks" in r.getMessage() for r in caplog.records) >= 3
        numbers = Counter(e["DocNumber"] for e in sandbox.state.entities(_realm(firm), "JournalEntry"))
        assert len(numbers) == 5 and set(numbers.values()) == {1}, numbers
        _assert_qbo_equals_ledger(firm, sandbox)
    finally:
        firm.close()


async def test_reconcile_lists_every_trust_difference_with_both_figures(settings, sandbox):
    firm = await small_firm(settings, sandbox)
    try:
        jane, acme, main, separate, _ = await _activity(firm, sandbox)
        assert (await sync.run_sync(firm)).parked == 0
        assert (await sync.reconcile(firm, full=True)).as_json()["trust"] == []
        # someone books client money in QuickBooks by hand: Jane's liability and the trust bank move there only
        liability = queries.list_accounts(firm, subtypes=["trust_liability"])[0].id
        bank_qbo, liability_qbo = _qbo_account(firm, main.gl_account_id), _qbo_account(firm, liability)
        await in_qbo(firm, lambda client: client.create("JournalEntry", {"Line": [
            {"Amount": "25.00", "DetailType": "JournalEntryLineDetail",
             "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": bank_qbo}}},
            {"Amount": "25.00", "DetailType": "JournalEntryLineDetail",
             "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": liability_qbo},
                                        "Entity": {"Type": "Customer",
                                                   "EntityRef": {"value": _customer(firm, jane)}}}}]},
            requestid=None))
        result = (await sync.reconcile(firm, full=True)).as_json()
        assert not result["ok"]
        rows = {(r["check"], r.get("client_id")): r for r in result["trust"]}
        bank = rows[("bank", None)]
        assert bank["qbo_minor"] - bank["ledger_minor"] == 2500 and bank["account_id"] == main.gl_account_id
        owed = rows[("liability_customer", jane)]
        assert owed["ledger_minor"] - owed["qbo_minor"] == 2500 and owed["client"] == "Jane Doe"
        assert ("liability", None) in rows and ("liability_customer", acme) not in rows
    finally:
        firm.close()


async def test_a_voided_payment_from_trust_takes_its_trust_entry_out_of_quickbooks(settings, sandbox):
    from core.ledger import voids

    firm = await small_firm(settings, sandbox)
    try:
        jane, acme, main, separate, _ = await _activity(firm, sandbox)
        invoice = billing.create_invoice(firm, client_id=jane, date="2026-03-08", lines=[fee_line(firm, "100.00")])
        total = f"{invoice.total_minor // 100}.{invoice.total_minor % 100:02d}"
        operating = queries.list_bank_accounts(firm, "operating")[0]
        paid = billing.record_payment(firm, client_id=jane, date="2026-03-09", amount=total,
                                      bank_account_id=operating.id, from_trust=True, trust_bank_account_id=main.id,
                                      allocations=[(invoice.id, total)])
        assert (await sync.run_sync(firm)).parked == 0
        numbers = {e["DocNumber"] for e in sandbox.state.entities(_realm(firm), "JournalEntry")}
        assert f"TRP-{paid.id}" in numbers
        voids.void_payment(firm, paid.id)
        summary = await sync.run_sync(firm)
        assert summary.parked == 0 and summary.waiting == 0, summary.as_json()
        numbers = {e["DocNumber"] for e in sandbox.state.entities(_realm(firm), "JournalEntry")}
        assert f"TRP-{paid.id}" not in numbers
        _assert_qbo_equals_ledger(firm, sandbox)
        assert (await sync.reconcile(firm, full=True)).as_json()["trust"] == []
    finally:
        firm.close()


def test_a_trust_posting_that_names_an_operating_account_parks_instead_of_being_sent():
    import pytest

    from core.ledger.models import Account
    from core.qbo import payloads as P
    from core.qbo import trust_push
    from core.qbo.reasons import ParkedFor

    accounts = {1: Account(1, "1000", "Operating", "Bank", "operating_bank", True),
                4: Account(4, "1100", "Trust", "Bank", "trust_bank", True),
                18: Account(18, "2100", "Client trust liability", "Other Current Liability", "trust_liability", True)}
    ctx = P.PushContext(us=False, currency="GBP", gl={a: P.Ref(value=f"7{a}") for a in accounts}, accounts=accounts,
                        client_names={3: "Jane Doe"})

    def doc(*lines):
        return trust_push.TrustDoc(9, "receipt", 3, "2026-03-01", 1000, "GBP", 1, "posted", None, "W-1", "",
                                   tuple(trust_push.TrustLine(a, m, 3) for a, m in lines), frozenset({4, 18}))

    body = trust_push.journal_entry(doc((4, 1000), (18, -1000)), ctx, {3: "58"}).body()
    assert body["DocNumber"] == "TR-9" and [line["JournalEntryLineDetail"].get("Entity") for line in body["Line"]] \
        == [None, {"Type": "Customer", "EntityRef": {"value": "58"}}]
    with pytest.raises(ParkedFor) as caught:
        trust_push.journal_entry(doc((1, 1000), (18, -1000)), ctx, {3: "58"})
    assert caught.value.reason.code == "trust_mixed" and caught.value.reason.fields["accounts"] == "Operating"
    assert "Operating" in caught.value.reason.render()
