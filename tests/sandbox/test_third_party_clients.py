"""An independent check that the sandbox speaks the real protocol: Intuit's own `intuit-oauth` and the
community `python-quickbooks` drive it exactly as they would drive QBO (reference section 9)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.batch import batch_create
from quickbooks.exceptions import AuthorizationException, ObjectNotFoundException, QuickbooksException, ValidationException
from quickbooks.objects.account import Account
from quickbooks.objects.base import LinkedTxn, Ref
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment, PaymentLine


def _connect(sb, discovery_path: str = "/.well-known/openid_configuration/") -> AuthClient:
    client = AuthClient(sb.client_id, sb.client_secret, sb.redirect_uri, environment=sb.base_url + discovery_path)
    url = client.get_authorization_url([Scopes.ACCOUNTING, Scopes.OPENID])
    redirect = sb.approve(url, realm_id=sb.realm_ids["US"])
    query = {k: v[0] for k, v in parse_qs(urlsplit(redirect).query).items()}
    assert query["state"] == client.state_token
    client.get_bearer_token(query["code"], realm_id=query["realmId"])
    return client


@pytest.fixture(scope="module", autouse=True)
def _plain_http_oauth():
    """requests-oauthlib refuses http:// unless told it is a local test."""
    import os

    old = os.environ.get("OAUTHLIB_INSECURE_TRANSPORT")
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    yield
    if old is None:
        os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)
    else:
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = old


@pytest.fixture(scope="module")
def qb(sb):
    auth = _connect(sb)

    class LocalQuickBooks(QuickBooks):
        api_url_v3 = sb.base_url + "/v3"
        sandbox_api_url_v3 = sb.base_url + "/v3"

    return LocalQuickBooks(auth_client=auth, refresh_token=auth.refresh_token, company_id=auth.realm_id,
                           minorversion=75, use_decimal=True)


def _line(amount, item_id="1") -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = Decimal(amount)
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = Ref()
    line.SalesItemLineDetail.ItemRef.value = item_id
    return line


def _customer(qb, name=None) -> Customer:
    customer = Customer()
    customer.DisplayName = name or f"PQB {uuid.uuid4().hex[:8]}"
    return customer.save(qb=qb)


def _invoice(qb, customer, amount="150.00") -> Invoice:
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.Line.append(_line(amount))
    return invoice.save(qb=qb)


def test_intuit_oauth_connects_refreshes_reads_userinfo_and_revokes(sb):
    auth = _connect(sb)
    assert auth.access_token and auth.refresh_token and auth.id_token  # id_token passed its RS256 validation
    assert auth.realm_id == sb.realm_ids["US"]
    other = AuthClient(sb.client_id, sb.client_secret, sb.redirect_uri,
                       environment=sb.base_url + "/.well-known/openid_sandbox_configuration/")
    other.refresh(refresh_token=auth.refresh_token)
    assert other.refresh_token != auth.refresh_token
    with pytest.raises(AuthClientError) as stale:
        AuthClient(sb.client_id, sb.client_secret, sb.redirect_uri,
                   environment=sb.discovery_url).refresh(refresh_token=auth.refresh_token)
    assert stale.value.status_code == 400 and b"invalid_grant" in stale.value.content
    assert stale.value.intuit_tid
    info = other.get_user_info().json()
    assert info["email"]
    assert other.revoke(token=other.refresh_token)
    with pytest.raises(AuthClientError):
        other.refresh()


def test_query_paging_past_the_first_hundred_accounts(qb):
    first = Account.all(max_results=100, qb=qb)
    rest = Account.all(start_position=101, max_results=100, qb=qb)
    assert len(first) == 100 and len(rest) >= 20
    assert Account.count(qb=qb) == len(first) + len(rest)
    assert {a.Id for a in first}.isdisjoint({a.Id for a in rest})


def test_customer_with_an_apostrophe_round_trips(qb):
    name = f"Amy's Bird Sanctuary {uuid.uuid4().hex[:4]}"
    created = _customer(qb, name)
    assert created.Id and created.SyncToken == "0"
    found = Customer.filter(DisplayName=name, qb=qb)
    assert [c.Id for c in found] == [created.Id]
    with pytest.raises(ValidationException):
        Customer.filter(qb=qb, max_results=1500)


def test_invoice_create_read_sparse_update_and_stale_token(qb):
    customer = _customer(qb)
    invoice = _invoice(qb, customer, "150.00")
    assert invoice.TotalAmt == Decimal("150.00") and invoice.DocNumber
    read = Invoice.get(invoice.Id, qb=qb)
    assert read.Balance == Decimal("150.00") and read.Line[-1].DetailType == "SubTotalLineDetail"
    read.PrivateNote = "Matter 2024-17"
    updated = read.save(qb=qb)
    assert updated.SyncToken == "1" and updated.PrivateNote == "Matter 2024-17"
    sparse = qb.update_object("Invoice", '{"Id": "%s", "SyncToken": "1", "sparse": true, "CustomerMemo": {"value": "Thanks"}}' % invoice.Id)
    assert sparse["Invoice"]["SyncToken"] == "2" and sparse["Invoice"]["PrivateNote"] == "Matter 2024-17"
    read.PrivateNote = "too late"  # read still carries SyncToken 0
    read.SyncToken = "0"
    with pytest.raises(QuickbooksException) as stale:
        read.save(qb=qb)
    assert stale.value.error_code == 5010


def test_payment_and_credit_memo_reduce_the_balance(qb):
    customer = _customer(qb)
    invoice = _invoice(qb, customer, "200.00")
    payment = Payment()
    payment.CustomerRef = customer.to_ref()
    payment.TotalAmt = Decimal("120.00")
    line = PaymentLine()
    line.Amount = Decimal("120.00")
    link = LinkedTxn()
    link.TxnId = invoice.Id
    link.TxnType = "Invoice"
    line.LinkedTxn.append(link)
    payment.Line.append(line)
    payment.save(qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).Balance == Decimal("80.00")
    memo = CreditMemo()
    memo.CustomerRef = customer.to_ref()
    memo.Line.append(_line("30.00"))
    memo = memo.save(qb=qb)
    assert memo.RemainingCredit == Decimal("30.00")
    with pytest.raises(QuickbooksException) as refused:
        Invoice.get(invoice.Id, qb=qb).delete(qb=qb)
    assert refused.value.error_code == 6000


def test_a_taxed_invoice_comes_back_with_server_computed_totals(qb):
    """python-quickbooks sends `TotalTax: 0` and no TaxLine beside the tax group: QBO computes the tax."""
    from quickbooks.objects.tax import TxnTaxDetail
    from quickbooks.objects.taxcode import TaxCode

    group = next(c for c in TaxCode.all(qb=qb) if c.Name == "Sample State")
    invoice = Invoice()
    invoice.CustomerRef = _customer(qb).to_ref()
    for amount in ("1.20", "1.20", "592.00"):
        line = _line(amount)
        line.SalesItemLineDetail.TaxCodeRef = Ref()
        line.SalesItemLineDetail.TaxCodeRef.value = "TAX"
        invoice.Line.append(line)
    invoice.TxnTaxDetail = TxnTaxDetail()
    invoice.TxnTaxDetail.TxnTaxCodeRef = group.to_ref()
    assert invoice.TxnTaxDetail.TotalTax == 0  # what the library sends
    saved = invoice.save(qb=qb)
    # 6.25% of the taxable subtotal 594.40, rounded once per rate: 37.15
    assert saved.TxnTaxDetail.TotalTax == Decimal("37.15")
    assert saved.TotalAmt == Decimal("631.55") and Invoice.get(saved.Id, qb=qb).Balance == Decimal("631.55")


def test_delete_an_invoice(qb):
    invoice = _invoice(qb, _customer(qb))
    answer = invoice.delete(qb=qb)
    assert answer["Invoice"]["status"] == "Deleted"
    with pytest.raises(ObjectNotFoundException):
        Invoice.get(invoice.Id, qb=qb)


def test_batch_with_one_failing_item(qb):
    good = Customer()
    good.DisplayName = f"Batch {uuid.uuid4().hex[:8]}"
    existing = _customer(qb)
    dup = Customer()
    dup.DisplayName = existing.DisplayName
    results = batch_create([good, dup], qb=qb)
    assert [c.DisplayName for c in results.successes] == [good.DisplayName]
    assert len(results.faults) == 1 and results.faults[0].Error[0].code == "6240"


def test_requestid_replay_creates_once(qb):
    customer = _customer(qb)
    rid = str(uuid.uuid4())
    first = Invoice()
    first.CustomerRef = customer.to_ref()
    first.Line.append(_line("10.00"))
    a = first.save(qb=qb, request_id=rid)
    second = Invoice()
    second.CustomerRef = customer.to_ref()
    second.Line.append(_line("10.00"))
    b = second.save(qb=qb, request_id=rid)
    assert a.Id == b.Id
    assert Invoice.count(f"CustomerRef = '{customer.Id}'", qb=qb) == 1


def test_a_bad_token_gets_401(sb, qb):
    import requests

    saved = qb.session
    broken = requests.Session()
    broken.access_token = "definitely-not-a-token"
    qb.session = broken
    try:
        with pytest.raises(AuthorizationException) as denied:
            Customer.get("1", qb=qb)
    finally:
        qb.session = saved
    assert denied.value.error_code == 401
