"""The sandbox's starlette app: OAuth/OpenID routes, the Accounting API, an intuit_tid on every answer."""

from __future__ import annotations

import secrets

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.sandbox import api, oauth
from core.sandbox.company import month_of
from core.sandbox.connection import Dropped
from core.sandbox.store import SandboxState


class IntuitTid:
    """Pure ASGI middleware: adds the `intuit_tid` trace header to every HTTP response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        tid = "1-" + secrets.token_hex(4) + "-" + secrets.token_hex(12)

        async def send_with_tid(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [(b"intuit_tid", tid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_tid)
        except Dropped:
            return


async def metered(request: Request) -> JSONResponse:
    """The sandbox's own counter of CorePlus calls (not a QBO endpoint; for benchmarks in another process):
    `GET /_sandbox/metered/{realm}[?month=YYYY-MM]` -> {"realm_id", "month", "calls"}."""
    state: SandboxState = request.app.state.sandbox
    realm = request.path_params["realm"]
    if state.company(realm) is None:
        return JSONResponse({"error": f"no company {realm}"}, status_code=404)
    month = request.query_params.get("month") or month_of(state.now())
    return JSONResponse({"realm_id": realm, "month": month, "calls": state.metered(realm, month)})


def build_app(state: SandboxState) -> Starlette:
    wk = oauth.discovery_doc
    routes = [
        Route("/.well-known/openid-configuration", wk),
        Route("/.well-known/openid_configuration", wk),
        Route("/.well-known/openid_configuration/", wk),
        Route("/.well-known/openid_sandbox_configuration", wk),
        Route("/.well-known/openid_sandbox_configuration/", wk),
        Route("/.well-known/openid-sandbox-configuration", wk),
        Route(oauth.JWKS_PATH, oauth.jwks),
        Route("/connect/oauth2", oauth.authorize, methods=["GET", "POST"]),
        Route("/oauth2/v1/tokens/bearer", oauth.token, methods=["POST"]),
        Route("/v2/oauth2/tokens/revoke", oauth.revoke, methods=["POST"]),
        Route("/v1/openid_connect/userinfo", oauth.userinfo, methods=["GET"]),
        Route("/v3/company/{realm}/{rest:path}", api.handle, methods=["GET", "POST"]),
        Route("/_sandbox/metered/{realm}", metered, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.sandbox = state
    app.add_middleware(IntuitTid)
    return app
