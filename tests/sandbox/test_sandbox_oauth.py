"""Intuit OAuth 2.0 / OpenID over real HTTP on 127.0.0.1, with token-endpoint faults, token lifetimes,
rotation and the hard expiry."""

from __future__ import annotations

import contextlib
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from core.sandbox.injection import SpecError, parse_faults
from core.sandbox.oauth import configure
from tests.sandbox.conftest import connect, exchange


def _token(sb, **data) -> httpx.Response:
    return httpx.post(sb.base_url + "/oauth2/v1/tokens/bearer", data=data, auth=(sb.client_id, sb.client_secret))


def test_discovery_lists_every_endpoint_on_all_paths(sb):
    for path in ("/.well-known/openid-configuration", "/.well-known/openid_configuration/",
                 "/.well-known/openid_sandbox_configuration/"):
        doc = httpx.get(sb.base_url + path).json()
        assert doc["token_endpoint"] == sb.base_url + "/oauth2/v1/tokens/bearer"
        assert doc["authorization_endpoint"] == sb.base_url + "/connect/oauth2"
        assert doc["revocation_endpoint"] == sb.base_url + "/v2/oauth2/tokens/revoke"
        assert doc["userinfo_endpoint"] == sb.base_url + "/v1/openid_connect/userinfo"
        assert doc["id_token_signing_alg_values_supported"] == ["RS256"]


def test_consent_page_lists_companies_and_redirects_with_code_state_realm(sb):
    page = httpx.get(sb.authorize_url(state="xyz"))
    assert page.status_code == 200
    for realm in sb.realm_ids.values():
        assert realm in page.text
    assert "Approve" in page.text and "Deny" in page.text
    redirect = sb.approve(sb.authorize_url(state="xyz"), realm_id=sb.realm_ids["UK"])
    q = parse_qs(urlsplit(redirect).query)
    assert redirect.startswith(sb.redirect_uri + "?")
    assert q["state"] == ["xyz"] and q["realmId"] == [sb.realm_ids["UK"]] and q["code"][0]


def test_deny_redirects_with_access_denied(sb):
    redirect = sb.approve(sb.authorize_url(state="s1"), deny=True)
    q = parse_qs(urlsplit(redirect).query)
    assert q == {"error": ["access_denied"], "state": ["s1"]}


def test_wrong_redirect_uri_is_refused_on_the_page(sb):
    url = sb.authorize_url().replace("callback", "elsewhere")
    assert httpx.get(url).status_code == 400


def test_code_is_single_use_and_reuse_revokes_its_tokens(sb):
    redirect = sb.approve(sb.authorize_url())
    tokens = exchange(sb, redirect)
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    again = _token(sb, grant_type="authorization_code", code=code, redirect_uri=sb.redirect_uri)
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}
    assert again.headers["intuit_tid"]
    r = httpx.get(f"{sb.base_url}/v3/company/{tokens['realmId']}/companyinfo/{tokens['realmId']}",
                  headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert r.status_code == 401


def test_token_response_shape_and_lifetimes(sb):
    tokens = connect(sb, scope="com.intuit.quickbooks.accounting openid")
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["x_refresh_token_expires_in"] == 100 * 24 * 3600
    jwks = httpx.get(httpx.get(sb.discovery_url).json()["jwks_uri"]).json()
    key = jwt.PyJWKSet.from_dict(jwks)["sandbox1"].key
    claims = jwt.decode(tokens["id_token"], key, audience=sb.client_id, algorithms=["RS256"])
    assert claims["realmid"] == sb.realm_ids["US"]
    assert claims["iss"] == sb.base_url + "/op/v1"


def test_refresh_rotates_and_old_refresh_token_gets_invalid_grant(sb):
    tokens = connect(sb)
    first = _token(sb, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert first.status_code == 200
    assert first.json()["refresh_token"] != tokens["refresh_token"]
    stale = _token(sb, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"
    newer = _token(sb, grant_type="refresh_token", refresh_token=first.json()["refresh_token"])
    assert newer.status_code == 200


def test_bad_client_secret_is_refused(sb):
    r = httpx.post(sb.base_url + "/oauth2/v1/tokens/bearer", data={"grant_type": "refresh_token", "refresh_token": "x"},
                   auth=(sb.client_id, "wrong"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_client_secret_post_is_accepted(sb):
    tokens = connect(sb)
    r = httpx.post(sb.base_url + "/oauth2/v1/tokens/bearer",
                   data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                         "client_id": sb.client_id, "client_secret": sb.client_secret})
    assert r.status_code == 200


def test_revoke_ends_access_and_refresh(sb):
    tokens = connect(sb)
    r = httpx.post(sb.base_url + "/v2/oauth2/tokens/revoke", json={"token": tokens["refresh_token"]},
                   auth=(sb.client_id, sb.client_secret))
    assert r.status_code == 200
    api = httpx.get(f"{sb.base_url}/v3/company/{tokens['realmId']}/preferences",
                    headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert api.status_code == 401
    assert _token(sb, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 400


def test_userinfo_needs_openid_and_a_live_token(sb):
    tokens = connect(sb, scope="com.intuit.quickbooks.accounting openid email profile")
    r = httpx.get(sb.base_url + "/v1/openid_connect/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert r.status_code == 200 and r.json()["email"] and r.json()["sub"]
    r = httpx.get(sb.base_url + "/v1/openid_connect/userinfo", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_access_token_expires_after_its_lifetime(sb):
    tokens = connect(sb)
    url = f"{sb.base_url}/v3/company/{tokens['realmId']}/preferences"
    headers = {"Authorization": "Bearer " + tokens["access_token"]}
    assert httpx.get(url, headers=headers).status_code == 200
    sb.state.advance(3601)
    try:
        r = httpx.get(url, headers=headers)
    finally:
        sb.state.advance(-3601)
    assert r.status_code == 401
    assert r.json()["fault"]["error"][0]["code"] == "3200"
    assert r.headers["www-authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'
    refreshed = _token(sb, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200


def test_token_for_one_company_is_refused_by_another(sb):
    tokens = connect(sb, "US")
    r = httpx.get(f"{sb.base_url}/v3/company/{sb.realm_ids['UK']}/preferences",
                  headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert r.status_code == 403
    assert r.json()["fault"]["error"][0]["code"] == "3100"


# -- token-endpoint faults, lifetimes, rotation and the hard expiry ---------------------------------------------
@contextlib.contextmanager
def faulted(sb, spec: str | None = None, **options):
    sb.state.set_faults(spec)
    configure(sb.state, **options)
    try:
        yield
    finally:
        sb.state.set_faults(None)
        configure(sb.state, access_token_lifetime=3600, refresh_rotation="always", refresh_hard_lifetime=5 * 365 * 86400)


def _refresh(sb, token: str) -> httpx.Response:
    return _token(sb, grant_type="refresh_token", refresh_token=token)


@pytest.mark.parametrize("spec, status", [("500@next:1/oauth", 500), ("503@next:1/oauth", 503),
                                          ("429@next:1/oauth", 429), ("garbled@next:1/oauth", 200)])
def test_a_faulted_token_answer_issues_nothing_and_the_refresh_token_still_works(sb, spec, status):
    tokens = connect(sb)
    with faulted(sb, spec):
        r = _refresh(sb, tokens["refresh_token"])
        assert r.status_code == status
        with pytest.raises(ValueError):
            r.json()  # a gateway page, a throttle document or a body cut short: no token in it
        again = _refresh(sb, tokens["refresh_token"])
    assert again.status_code == 200 and again.json()["refresh_token"] != tokens["refresh_token"]


def test_drop_before_closes_without_using_the_grant(sb):
    tokens = connect(sb)
    with faulted(sb, "drop-before@next:1/oauth"):
        with pytest.raises(httpx.RemoteProtocolError):
            _refresh(sb, tokens["refresh_token"])
        assert _refresh(sb, tokens["refresh_token"]).status_code == 200


def test_drop_after_rotates_unseen_so_the_used_token_is_dead_when_rotation_is_always(sb):
    tokens = connect(sb)
    with faulted(sb, "drop-after@next:1/oauth"):
        with pytest.raises(httpx.RemoteProtocolError):
            _refresh(sb, tokens["refresh_token"])
        stale = _refresh(sb, tokens["refresh_token"])
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"


def test_daily_rotation_returns_the_same_refresh_token_so_a_drop_after_is_survivable(sb):
    tokens = connect(sb)
    with faulted(sb, "drop-after@next:1/oauth", refresh_rotation="daily"):
        with pytest.raises(httpx.RemoteProtocolError):
            _refresh(sb, tokens["refresh_token"])
        again = _refresh(sb, tokens["refresh_token"])
        assert again.status_code == 200 and again.json()["refresh_token"] == tokens["refresh_token"]
        assert again.json()["access_token"] != tokens["access_token"]
        sb.state.advance(25 * 3600)  # a day on, the next refresh rotates and the old one dies
        try:
            rotated = _refresh(sb, tokens["refresh_token"])
            stale = _refresh(sb, tokens["refresh_token"])
        finally:
            sb.state.advance(-25 * 3600)
    assert rotated.status_code == 200 and rotated.json()["refresh_token"] != tokens["refresh_token"]
    assert stale.status_code == 400


def test_rotation_can_be_set_per_company(sb):
    us, uk = connect(sb, "US"), connect(sb, "UK")
    with faulted(sb):
        configure(sb.state, refresh_rotation="daily", realm=sb.realm_ids["UK"])
        assert _refresh(sb, uk["refresh_token"]).json()["refresh_token"] == uk["refresh_token"]
        assert _refresh(sb, us["refresh_token"]).json()["refresh_token"] != us["refresh_token"]


def test_oauth_rules_never_fault_the_api_and_api_rules_never_fault_oauth(sb):
    tokens = connect(sb)
    url = f"{sb.base_url}/v3/company/{tokens['realmId']}/preferences"
    with faulted(sb, "500@1/oauth"):
        assert httpx.get(url, headers={"Authorization": "Bearer " + tokens["access_token"]}).status_code == 200
    with faulted(sb, "500@1,drop-before@1/write"):
        assert _refresh(sb, tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize("spec, message", [("garbled@1", "token endpoint only"),
                                           ("expire-token@1/oauth", "does not apply to the token endpoint"),
                                           ("500@1/oauth:invoice", "takes no :ENTITY")])
def test_oauth_fault_specs_that_make_no_sense_are_refused(spec, message):
    with pytest.raises(SpecError, match=message):
        parse_faults(spec)


@pytest.mark.parametrize("lifetime", [5, 30, 3600])
def test_access_token_lifetime_is_configurable(sb, lifetime):
    with faulted(sb, access_token_lifetime=lifetime):
        tokens = connect(sb)
        assert tokens["expires_in"] == lifetime
        url = f"{sb.base_url}/v3/company/{tokens['realmId']}/preferences"
        headers = {"Authorization": "Bearer " + tokens["access_token"]}
        sb.state.advance(lifetime - 1)
        try:
            alive = httpx.get(url, headers=headers).status_code
            sb.state.advance(2)
            dead = httpx.get(url, headers=headers).status_code
        finally:
            sb.state.advance(-lifetime - 1)
    assert (alive, dead) == (200, 401)


def test_the_hard_expiry_is_served_when_asked_counts_down_and_ends_the_grant(sb):
    with faulted(sb, refresh_hard_lifetime=1000):
        tokens = connect(sb)
        assert "x_refresh_token_hard_expires_in" not in tokens  # only when asked for
        asked = httpx.post(sb.base_url + "/oauth2/v1/tokens/bearer",
                           data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                           auth=(sb.client_id, sb.client_secret),
                           headers={"x-include-refresh-token-hard-expires-in": "true"}).json()
        assert 990 <= asked["x_refresh_token_hard_expires_in"] <= 1000
        assert asked["x_refresh_token_expires_in"] <= asked["x_refresh_token_hard_expires_in"]  # capped
        sb.state.advance(1001)
        try:
            late = _refresh(sb, asked["refresh_token"])
        finally:
            sb.state.advance(-1001)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_bad_token_settings_are_refused(sb):
    with pytest.raises(ValueError, match="always, daily"):
        configure(sb.state, refresh_rotation="weekly")
    with pytest.raises(ValueError, match="at least 1 second"):
        configure(sb.state, access_token_lifetime=0)
