"""One sandbox per module (fast), plus a connected API client for it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from core.sandbox.served import running_sandbox


def exchange(sb, redirect: str) -> dict:
    """Trade the code in a consent redirect for tokens, as a client would."""
    q = {k: v[0] for k, v in parse_qs(urlsplit(redirect).query).items()}
    r = httpx.post(sb.base_url + "/oauth2/v1/tokens/bearer",
                   data={"grant_type": "authorization_code", "code": q["code"], "redirect_uri": sb.redirect_uri},
                   auth=(sb.client_id, sb.client_secret))
    assert r.status_code == 200, r.text
    return {**r.json(), "realmId": q["realmId"]}


def connect(sb, country: str = "US", scope: str = "com.intuit.quickbooks.accounting") -> dict:
    return exchange(sb, sb.approve(sb.authorize_url(scope=scope), realm_id=sb.realm_ids[country]))


class Api:
    """A thin client for /v3/company/{realm}: returns httpx responses."""

    def __init__(self, sb, country: str = "US"):
        self.sb = sb
        self.tokens = connect(sb, country)
        self.realm = self.tokens["realmId"]
        self.http = httpx.Client(base_url=f"{sb.base_url}/v3/company/{self.realm}",
                                 headers={"Authorization": "Bearer " + self.tokens["access_token"],
                                          "Accept": "application/json"}, timeout=10)

    def get(self, path: str, **params) -> httpx.Response:
        return self.http.get(path, params={"minorversion": "75", **params})

    def post(self, path: str, body, **params) -> httpx.Response:
        return self.http.post(path, json=body, params={"minorversion": "75", **params})

    def query(self, text: str) -> httpx.Response:
        return self.get("/query", query=text)

    def ok(self, response: httpx.Response) -> dict:
        assert response.status_code == 200, response.text
        return response.json()

    def create(self, etype: str, body: dict, **params) -> dict:
        return self.ok(self.post("/" + etype.lower(), body, **params))[etype]

    def fault(self, response: httpx.Response, status: int = 400) -> dict:
        assert response.status_code == status, response.text
        return response.json()["Fault"]["Error"][0]

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="module")
def sb(tmp_path_factory):
    with running_sandbox(tmp_path_factory.mktemp("sandbox") / "sandbox.db") as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _clean_controls(request):
    """Faults, limits and company settings set by one test never leak into the next."""
    yield
    if "sb" in request.fixturenames:
        sb = request.getfixturevalue("sb")
        sb.state.set_faults(None)
        sb.state.set_limits(None)
        for company in sb.state.companies.values():
            company.settings.reset()


@pytest.fixture(scope="module")
def us(sb):
    api = Api(sb, "US")
    yield api
    api.close()


@pytest.fixture(scope="module")
def uk(sb):
    api = Api(sb, "UK")
    yield api
    api.close()


@pytest.fixture(scope="module")
def ca(sb):
    api = Api(sb, "CA")
    yield api
    api.close()


def settings_of(api) -> dict:
    """The company settings of the company an Api talks to (a test may change them; reset after each test)."""
    return api.sb.state.company(api.realm).settings
