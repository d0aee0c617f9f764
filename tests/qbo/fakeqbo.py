"""A small in-memory Intuit OAuth + QBO API served through httpx.MockTransport, for fast tests of the
connect, token and reference logic (the real local sandbox is exercised over HTTP in test_sandbox_*.py)."""

from __future__ import annotations

import base64
import json
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from core.qbo.oauth import AppConfig
from core.settings import Endpoints
from tests.fixtures import sample

AUTH_401 = sample("Fault-401-3200-auth.json")
BASE = "http://fake.qbo"


def default_reference():
    return {
        "Account": [
            {"Id": "35", "Name": "Checking", "AccountType": "Bank", "AccountSubType": "Checking", "Active": True},
            {"Id": "36", "Name": "Savings", "AccountType": "Bank", "AccountSubType": "Savings", "Active": True},
            {"Id": "4", "Name": "Undeposited Funds", "AccountType": "Other Current Asset", "Active": True},
            {"Id": "79", "Name": "Legal Fees", "AccountType": "Income", "AccountSubType": "ServiceFeeIncome", "Active": True},
            {"Id": "84", "Name": "Accounts Receivable (A/R)", "AccountType": "Accounts Receivable", "Active": True},
        ],
        "Item": [
            {"Id": "1", "Name": "Legal Fees - Litigation", "Type": "Service", "IncomeAccountRef": {"value": "79"}, "Active": True},
            {"Id": "2", "Name": "Reimbursed Client Costs", "Type": "Service", "IncomeAccountRef": {"value": "79"}, "Active": True},
            {"Id": "3", "Name": "Fees", "Type": "Category", "Active": True},
            {"Id": "4", "Name": "Legal Fees - Real Estate", "Type": "NonInventory", "IncomeAccountRef": {"value": "79"}, "Active": True},
        ],
        "TaxRate": [
            {"Id": "3", "Name": "California", "RateValue": 8, "Active": True},
            {"Id": "5", "Name": "Zero", "RateValue": 0, "Active": True},
            {"Id": "7", "Name": "State 6.25", "RateValue": 6.25, "Active": True},
        ],
        "TaxCode": [
            {"Id": "TAX", "Name": "TAX", "Taxable": True},
            {"Id": "NON", "Name": "NON", "Taxable": False},
            {"Id": "2", "Name": "California", "Taxable": True, "Active": True,
             "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": "3"}}]}},
            {"Id": "6", "Name": "State Sales Tax", "Taxable": True, "Active": True,
             "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": "7"}}]}},
        ],
        "Customer": [{"Id": str(i), "DisplayName": f"Client {i}", "Active": True} for i in range(1, 4)],
    }


class FakeQBO:
    client_id = "fake-client"
    client_secret = "fake-client-secret-xyz"
    redirect_uri = "http://127.0.0.1:8765/callback"

    def __init__(self, realm: str = "9130357"):
        self.realm = realm
        self.codes: set[str] = set()
        self.refresh_tokens: dict[str, bool] = {}
        self.access_tokens: set[str] = set()
        self.issued: list[str] = []
        self.token_calls: list[str] = []
        self.revoked: list[str] = []
        self.api_calls: list[str] = []
        self.forbidden: set[str] = set()
        self.ref = default_reference()
        self.company = {"CompanyName": "Fake Law Co", "Country": "US", "Id": "1"}

    def app(self) -> AppConfig:
        return AppConfig(
            environment="sandbox",
            endpoints=Endpoints(BASE, BASE + "/connect/oauth2", BASE + "/oauth2/v1/tokens/bearer",
                                BASE + "/v2/oauth2/tokens/revoke", BASE + "/v1/openid_connect/userinfo"),
            client_id=self.client_id, client_secret=self.client_secret, redirect_uri=self.redirect_uri,
            transport=httpx.MockTransport(self.handle),
        )

    def approve(self, auth_url: str, realm: str | None = None) -> str:
        q = parse_qs(urlsplit(auth_url).query)
        code = "code-" + secrets.token_hex(8)
        self.codes.add(code)
        return q["redirect_uri"][0] + "?" + urlencode({"code": code, "state": q["state"][0], "realmId": realm or self.realm})

    def _issue(self) -> dict:
        access, refresh = "at-" + secrets.token_hex(16), "rt-" + secrets.token_hex(16)
        self.access_tokens.add(access)
        self.refresh_tokens[refresh] = True
        self.issued += [access, refresh]
        return {"token_type": "bearer", "expires_in": 3600, "access_token": access, "refresh_token": refresh,
                "x_refresh_token_expires_in": 8640000}

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oauth2/v1/tokens/bearer":
            return self._token(request)
        if path == "/v2/oauth2/tokens/revoke":
            token = json.loads(request.content)["token"]
            self.refresh_tokens[token] = False
            self.revoked.append(token)
            return httpx.Response(200)
        return self._api(request)

    def _token(self, request):
        auth = request.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if auth != expected:
            return httpx.Response(401, json={"error": "invalid_client"})
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.token_calls.append(form["grant_type"])
        if form["grant_type"] == "authorization_code":
            if form.get("code") not in self.codes or form.get("redirect_uri") != self.redirect_uri:
                return httpx.Response(400, json={"error": "invalid_grant"})
            self.codes.discard(form["code"])
            return httpx.Response(200, json=self._issue())
        if form["grant_type"] == "refresh_token":
            if not self.refresh_tokens.get(form.get("refresh_token")):
                return httpx.Response(400, json={"error_description": "Incorrect or invalid refresh token", "error": "invalid_grant"})
            self.refresh_tokens[form["refresh_token"]] = False  # rotation: the old one stops working
            return httpx.Response(200, json=self._issue())
        return httpx.Response(400, json={"error": "unsupported_grant_type"})

    def _api(self, request):
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.access_tokens:
            return httpx.Response(401, text=AUTH_401)
        tail = request.url.path.split(f"/v3/company/{self.realm}/", 1)[-1]
        self.api_calls.append(tail)
        if tail.split("/")[0] in self.forbidden or (tail == "query" and _entity(request) in self.forbidden):
            return httpx.Response(403, text=sample("Fault-403-3100-authorization.json"))
        if tail == f"companyinfo/{self.realm}":
            return httpx.Response(200, json={"CompanyInfo": self.company})
        if tail == "preferences":
            return httpx.Response(200, json={"Preferences": {"Id": "1", "TaxPrefs": {"UsingSalesTax": True}}})
        if tail == "query":
            statement = request.url.params["query"]
            entity = _entity(request)
            rows = self.ref.get(entity, [])
            if "Active IN" not in statement:
                rows = [r for r in rows if r.get("Active", True)]
            start = int(re.search(r"STARTPOSITION (\d+)", statement).group(1)) if "STARTPOSITION" in statement else 1
            size = int(re.search(r"MAXRESULTS (\d+)", statement).group(1)) if "MAXRESULTS" in statement else 100
            page = rows[start - 1 : start - 1 + size]
            return httpx.Response(200, json={"QueryResponse": {entity: page, "startPosition": start, "maxResults": len(page)}
                                             if page else {}})
        return httpx.Response(400, json={"Fault": {"Error": [{"Message": "Unsupported Operation", "code": "500"}],
                                                   "type": "ValidationFault"}})


def _entity(request) -> str:
    match = re.search(r"FROM (\w+)", request.url.params.get("query", ""), re.I)
    return match.group(1) if match else ""


def make_firm(settings):
    """A US firm from the template, with the ledger-side setup done (one operating bank account)."""
    from core.ledger.demo import ensure_ready
    from core.ledger.firm import create_firm

    firm = create_firm(settings, "US", name="Quinn Test LLP")
    ensure_ready(firm)
    return firm


def account_id(firm, code: str) -> int:
    return firm.db.execute("SELECT id FROM accounts WHERE code = ?", [code]).fetchone()[0]


def tax_rate_id(firm, name: str) -> int:
    return firm.db.execute("SELECT id FROM tax_rates WHERE name = ?", [name]).fetchone()[0]


@pytest.fixture
def firm(settings):
    """A US firm ready for QBO (see make_firm), closed after the test."""
    f = make_firm(settings)
    yield f
    f.close()


@pytest.fixture
def fake():
    return FakeQBO()
