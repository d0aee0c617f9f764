"""Intuit OAuth 2.0 / OpenID over real HTTP on 127.0.0.1."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

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
