"""The local server is still a server: token, Host and Origin checks, safe headers.

* A secret token is in the launch URL. `GET /?token=...` sets it as an HttpOnly, SameSite=Strict
  cookie and redirects to a URL without it (so it leaves the address bar and the history); API
  clients may send it in the `X-Clinlabel-Token` header instead. No token: 401; a wrong one: 403.
* The `Host` header must name this server (127.0.0.1:PORT or localhost:PORT): a page on another
  site that rebinds its DNS name to 127.0.0.1 sends its own name and gets 421 (DNS rebinding).
* The token is the project's (`labelling.server_access`), kept across restarts with the port, so
  a page left open reconnects; its refusals say `X-Clinlabel-Refused: token`.
* State changes only by POST/PUT/DELETE, and only with an `Origin` of this server. A request with
  no `Origin` at all must carry the token in the header, which a cross-site form cannot set.

Written as plain ASGI middleware so every request, static files included, passes through it.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clinlabel.web.config import WebSettings

TOKEN_HEADER = "x-clinlabel-token"
#: Set on the 401 and 403 answers about the token (none, or not this server's): the page keeps
#: its unsent labels and asks for the link, instead of reporting them refused.
REFUSED_HEADER = "x-clinlabel-refused"
SAFE_METHODS = frozenset({"GET", "HEAD"})
STATE_METHODS = frozenset({"POST", "PUT", "DELETE"})

# No CDN, no inline script: everything the page needs comes from this server.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def make_token() -> str:
    """A launch token: 256 bits from the operating system's CSPRNG."""
    return secrets.token_urlsafe(32)


def _same(given: str | None, expected: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


def _token_refusal(text: str, status: int) -> Response:
    return PlainTextResponse(text, status_code=status, headers={REFUSED_HEADER: "token"})


class LocalServerGuard:
    """ASGI middleware applying the checks described in the module docstring."""

    def __init__(self, app: ASGIApp, *, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._check(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(
            scope, receive, self._with_headers(send, api=scope["path"].startswith("/api/"))
        )

    def _check(self, request: Request) -> Response | None:
        settings = self.settings
        if request.headers.get("host", "") not in settings.allowed_hosts:
            return PlainTextResponse("Unknown Host header.", status_code=421)
        method = request.method
        if method not in SAFE_METHODS and method not in STATE_METHODS:
            return PlainTextResponse("Method not allowed.", status_code=405)
        query_token = request.query_params.get("token")
        if query_token is not None and method == "GET" and request.url.path == "/":
            return self._login(request, query_token)
        header_token = request.headers.get(TOKEN_HEADER)
        given = (
            header_token if header_token is not None else request.cookies.get(settings.cookie_name)
        )
        if given is None:
            return _token_refusal(
                "This server needs the link with its token (printed when it started).", 401
            )
        if not _same(given, settings.token):
            return _token_refusal("Wrong token.", 403)
        if method in STATE_METHODS:
            origin = request.headers.get("origin")
            if origin is None and header_token is None:
                return PlainTextResponse("State changes need an Origin header.", status_code=403)
            if origin is not None and origin not in settings.allowed_origins:
                return PlainTextResponse("Foreign origin refused.", status_code=403)
        return None

    def _login(self, request: Request, token: str) -> Response:
        if not _same(token, self.settings.token):
            return _token_refusal("Wrong token.", 403)
        rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        target = "/" + (f"?{urlencode(rest)}" if rest else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            self.settings.cookie_name, token, httponly=True, samesite="strict", path="/"
        )
        return response

    @staticmethod
    def _with_headers(send: Send, *, api: bool) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("referrer-policy", "no-referrer")
                headers.setdefault("x-frame-options", "DENY")
                if api:
                    # Answers about labels must never come from a stale cache; renditions set
                    # their own validators and are not affected.
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        return send_with_headers
