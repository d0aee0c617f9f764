"""Intuit OAuth 2.0 and OpenID Connect, as the sandbox serves them (reference section 2).

Consent page with a company picker and Approve/Deny; single-use authorization codes; a refresh grant
that rotates the refresh token (the previous one then gets invalid_grant; or, with rotation `daily`,
the same one for 24 h), the rolling 100-day expiry capped by the five-year hard expiry (served as
x_refresh_token_hard_expires_in when asked for); injected token-endpoint faults (scope `oauth` of the
fault SPEC: 5xx, 429, a body cut short, a drop before or after the grant is used); revoke; userinfo;
the discovery document and a JWKS for the RS256 id_token (both made by joserfc, the JOSE library authlib uses).
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import secrets
import threading
import time
from urllib.parse import parse_qsl, urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from core.sandbox.store import SandboxState

ISSUER_PATH = "/op/v1"
KID = "sandbox1"
JWKS_PATH = "/op/v1/jwks"
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
KNOWN_SCOPES = {
    ACCOUNTING_SCOPE, "com.intuit.quickbooks.payment", "openid", "profile", "email", "phone", "address",
    "intuit_name",
}
SANDBOX_USER = {
    "sub": "5a2f0f51-7c3e-4a4b-9d55-2f1b1c0e9a11",
    "email": "admin@sandbox.example",
    "emailVerified": True,
    "givenName": "Sandra",
    "familyName": "Box",
    "phoneNumber": "+1 6505550100",
    "phoneNumberVerified": False,
    "address": {"streetAddress": "1 Sandbox Plaza", "locality": "san mateo", "region": "CA",
                "postalCode": "94403", "country": "US"},
}

_key_lock = threading.Lock()
_signing_key: RSAKey | None = None


def _key() -> RSAKey:
    """One RSA key per process, made the first time an id_token is issued or the JWKS is read."""
    global _signing_key
    with _key_lock:
        if _signing_key is None:
            _signing_key = RSAKey.generate_key(2048, parameters={"kid": KID, "use": "sig", "alg": "RS256"},
                                               private=True)
        return _signing_key


def discovery(base: str) -> dict:
    return {
        "issuer": base + ISSUER_PATH,
        "authorization_endpoint": base + "/connect/oauth2",
        "token_endpoint": base + "/oauth2/v1/tokens/bearer",
        "userinfo_endpoint": base + "/v1/openid_connect/userinfo",
        "revocation_endpoint": base + "/v2/oauth2/tokens/revoke",
        "jwks_uri": base + JWKS_PATH,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "phone"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
    }


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def id_token(issuer: str, client_id: str, realm: str, now: float) -> str:
    """An RS256 id_token whose header and claims segments use no '-' or '_' (intuit-oauth decodes them
    with the standard base64 alphabet, as Intuit's own tokens allow)."""
    header = {"kid": KID, "alg": "RS256"}
    for attempt in range(200):
        claims = {"sub": SANDBOX_USER["sub"], "aud": [client_id], "realmid": realm, "auth_time": int(now),
                  "iss": issuer, "exp": int(now) + 3600, "iat": int(now), "n": attempt}
        token = jwt.encode(header, claims, _key(), algorithms=["RS256"], default_type=None)
        if not any(c in "-_" for c in token.rsplit(".", 1)[0]):
            break
    return token


def jwks(request: Request) -> Response:
    return JSONResponse(KeySet([_key()]).as_dict(private=False))


async def _form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (no multipart: Intuit's endpoints take none)."""
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))


def _error_page(message: str, status: int = 400) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><title>Sandbox sign-in error</title><h1>Something's not quite right</h1>"
        f"<p id='error'>{html.escape(message)}</p>",
        status_code=status,
    )


def _check_authorize(state: SandboxState, params) -> str | None:
    if params.get("client_id") != state.client_id:
        return "The client_id is not a registered app of this sandbox."
    if params.get("redirect_uri") != state.redirect_uri:
        return "The redirect_uri does not match the app's registered redirect URI."
    if params.get("response_type") != "code":
        return "response_type must be code."
    scopes = set((params.get("scope") or "").split())
    if not scopes or not scopes <= KNOWN_SCOPES:
        return "The scope is missing or not one Intuit knows."
    return None


async def authorize(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    if request.method == "GET":
        params = request.query_params
        problem = _check_authorize(state, params)
        if problem:
            return _error_page(problem)
        hidden = "".join(
            f"<input type='hidden' name='{k}' value='{html.escape(params.get(k) or '', quote=True)}'>"
            for k in ("client_id", "redirect_uri", "response_type", "scope", "state")
        )
        options = "".join(
            f"<option value='{c.realm}'>{html.escape(c.name)} ({c.country}, {c.realm})</option>"
            for c in state.companies.values()
        )
        page = (
            "<!doctype html><html><head><title>Ledgerlink sandbox: connect an app</title></head><body>"
            "<h1>Connect to the Ledgerlink sandbox</h1>"
            f"<p>The app <b>{html.escape(state.client_id)}</b> asks to use your QuickBooks company data.</p>"
            f"<form method='post' action='/connect/oauth2'>{hidden}"
            f"<label for='realmId'>Company</label> <select id='realmId' name='realmId'>{options}</select>"
            "<button type='submit' name='action' value='approve'>Approve</button>"
            "<button type='submit' name='action' value='deny'>Deny</button>"
            "</form></body></html>"
        )
        return HTMLResponse(page)
    form = await _form(request)
    problem = _check_authorize(state, form)
    if problem:
        return _error_page(problem)
    redirect = form["redirect_uri"]
    joiner = "&" if "?" in redirect else "?"
    extra = {"state": form["state"]} if form.get("state") else {}
    if form.get("action") != "approve":
        return RedirectResponse(redirect + joiner + urlencode({"error": "access_denied", **extra}), status_code=302)
    realm = form.get("realmId") or ""
    if realm not in state.companies:
        return _error_page("Pick one of the sandbox's companies.")
    code = state.issue_code(realm, form["scope"], redirect)
    query = {"code": code, **extra, "realmId": realm}
    return RedirectResponse(redirect + joiner + urlencode(query), status_code=302)


def _oauth_error(error: str, description: str | None = None, status: int = 400) -> JSONResponse:
    body = {"error_description": description, "error": error} if description else {"error": error}
    return JSONResponse(body, status_code=status)


def _client_ok(state: SandboxState, request: Request, form) -> bool:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            cid, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
    else:
        cid, secret = form.get("client_id", ""), form.get("client_secret", "")
    return secrets.compare_digest(cid, state.client_id) and secrets.compare_digest(secret, state.client_secret)


ROTATIONS = ("always", "daily")
"""How a refresh treats the refresh token it was given (reference 2.5): `always` (the default, stricter) issues a
new one and the one used is dead at once; `daily` returns the same one, still valid, until it is 24 h old."""
ROTATION_AGE = 24 * 3600


def configure(state: SandboxState, *, access_token_lifetime: int | None = None, refresh_rotation: str | None = None,
              refresh_hard_lifetime: int | None = None, realm: str | None = None) -> None:
    """Token lifetimes and rotation, at start-up or at run time: for every company, or the rotation of one
    company (`realm`; a company without its own follows the sandbox's)."""
    if refresh_rotation is not None and refresh_rotation not in ROTATIONS:
        raise ValueError(f"refresh rotation must be one of {', '.join(ROTATIONS)}, not {refresh_rotation!r}")
    for name, value in (("access_token_lifetime", access_token_lifetime), ("refresh_hard_lifetime", refresh_hard_lifetime)):
        if value is not None and int(value) < 1:
            raise ValueError(f"{name.replace('_', ' ')} must be at least 1 second")
    with state.lock:
        if access_token_lifetime is not None:
            state.access_token_lifetime = int(access_token_lifetime)
        if refresh_rotation is not None and realm is not None:
            state.refresh_rotation_of = {**state.refresh_rotation_of, str(realm): refresh_rotation}
        elif refresh_rotation is not None:
            state.refresh_rotation = refresh_rotation
            state.refresh_rotation_of = {}
        if refresh_hard_lifetime is not None:
            state.refresh_hard_lifetime = int(refresh_hard_lifetime)


def _rotation(state: SandboxState, realm: str) -> str:
    return state.refresh_rotation_of.get(realm) or state.refresh_rotation


def _hard_expires(state: SandboxState, grant_id: str) -> float:
    """A grant's hard expiry: its authorization's consent time plus five years (however often it is refreshed)."""
    from core.sandbox.store import CODE_LIFETIME

    row = state.db.execute("SELECT expires FROM grants WHERE grant_id = ? AND kind = 'code'", (grant_id,)).fetchone()
    consented = (row[0] - CODE_LIFETIME) if row else state.now()
    return consented + state.refresh_hard_lifetime


def _fault_answer(state: SandboxState, rule) -> Response | None:
    if rule.kind in ("500", "503"):
        return HTMLResponse("<html><body><h1>Service Unavailable</h1></body></html>", status_code=int(rule.kind))
    if rule.kind == "429":
        from core.sandbox.faults import throttle_xml

        headers = {"Retry-After": str(state.limits.retry_after)} if state.limits.retry_after is not None else {}
        return Response(throttle_xml(), status_code=429, headers={"Content-Type": "application/xml", **headers})
    if rule.kind == "garbled":
        return Response('{"token_type":"bearer","expires_in":36', status_code=200,
                        headers={"Content-Type": "application/json;charset=UTF-8"})
    return None


async def token(request: Request) -> Response:
    from core.sandbox.connection import drop
    from core.sandbox.injection import oauth_faults

    state: SandboxState = request.app.state.sandbox
    form = await _form(request)
    with state.lock:
        fired = oauth_faults(state.faults, state.rng)
    for rule in fired:
        if rule.kind == "latency":
            await asyncio.sleep(rule.value)
    for rule in fired:
        answer = _fault_answer(state, rule)
        if answer is not None:
            return answer
        if rule.kind == "drop-before":
            await drop()
    response = _token_answer(state, request, form)
    if any(rule.kind == "drop-after" for rule in fired):
        await drop()
    return response


def _token_answer(state: SandboxState, request: Request, form: dict[str, str]) -> Response:
    if not _client_ok(state, request, form):
        return _oauth_error("invalid_client", status=401)
    grant_type = form.get("grant_type")
    now = state.now()
    with state.atomic():
        if grant_type == "authorization_code":
            code = state.grant(form.get("code") or "")
            if code is None or code["kind"] != "code":
                return _oauth_error("invalid_grant")
            if code["state"] != "live":
                # A code used twice also revokes what it was exchanged for.
                state.revoke_grant(code["grant_id"])
                return _oauth_error("invalid_grant")
            if code["expires"] < now or form.get("redirect_uri") != code["redirect_uri"]:
                return _oauth_error("invalid_grant")
            state.mark(code["token"], "used")
            grant = code
        elif grant_type == "refresh_token":
            old = state.grant(form.get("refresh_token") or "")
            if old is None or old["kind"] != "refresh" or old["state"] != "live" or old["expires"] < now:
                return _oauth_error("invalid_grant", "Incorrect or invalid refresh token")
            grant = old
        else:
            return _oauth_error("unsupported_grant_type")
        hard = _hard_expires(state, grant["grant_id"])
        if hard <= now:
            state.revoke_grant(grant["grant_id"])
            return _oauth_error("invalid_grant", "Incorrect or invalid refresh token")
        refresh_expires = min(now + state.refresh_token_lifetime, hard)  # rolling, within the hard cap
        keep = (grant["kind"] == "refresh" and _rotation(state, grant["realm"]) == "daily"
                and now - (grant["expires"] - state.refresh_token_lifetime) < ROTATION_AGE)
        if grant["kind"] == "refresh" and not keep:
            state.mark(grant["token"], "rotated")
        access, refresh = state.issue_tokens(grant["grant_id"], grant["realm"], grant["scope"],
                                             grant["redirect_uri"], refresh_expires)
        if keep:  # the same refresh token again (the one just made is never handed out)
            state.mark(refresh, "rotated")
            refresh, refresh_expires = grant["token"], grant["expires"]
    body = {
        "token_type": "bearer",
        "expires_in": state.access_token_lifetime,
        "refresh_token": refresh,
        "x_refresh_token_expires_in": int(refresh_expires - now),
        "access_token": access,
    }
    if request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true":
        body["x_refresh_token_hard_expires_in"] = int(hard - now)
    if "openid" in grant["scope"].split():
        body["id_token"] = id_token(base_url(request) + ISSUER_PATH, state.client_id, grant["realm"], time.time())
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def revoke(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    raw = await request.body()
    form = {}
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            form = json.loads(raw or b"{}")
        except ValueError:
            return _oauth_error("invalid_request")
    else:
        form = await _form(request)
    if not _client_ok(state, request, form):
        return _oauth_error("invalid_client", status=401)
    grant = state.grant(str(form.get("token") or ""))
    if grant is not None:
        with state.atomic():
            state.revoke_grant(grant["grant_id"])
    return Response(status_code=200)


def bearer(state: SandboxState, request: Request) -> dict | None:
    """The live access-token grant a request carries, or None."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    grant = state.grant(header[7:].strip())
    if grant is None or grant["kind"] != "access" or grant["state"] != "live" or grant["expires"] < state.now():
        return None
    return grant


async def userinfo(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    grant = bearer(state, request)
    if grant is None:
        return JSONResponse({"error": "invalid_token"}, status_code=401,
                            headers={"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'})
    if "openid" not in grant["scope"].split():
        return JSONResponse({"error": "insufficient_scope"}, status_code=403)
    return JSONResponse(SANDBOX_USER)


async def discovery_doc(request: Request) -> Response:
    return JSONResponse(discovery(base_url(request)))
