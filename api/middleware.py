"""Pure ASGI middleware: request language, request size limit and security headers."""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from core.i18n import _, negotiate, use_locale


class LocaleMiddleware:
    """Language from the ``seedbed_lang`` cookie, else Accept-Language, else Chinese.

    A logged-in user's saved preference overrides this once the principal is known.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept_language = cookie = None
        for key, value in scope.get("headers", []):
            if key == b"accept-language":
                accept_language = value.decode("latin-1")
            elif key == b"cookie":
                cookie = value.decode("latin-1")
        cookie_lang = None
        if cookie and "seedbed_lang" in cookie:  # parse the cookies only when one is ours
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(cookie)
            except Exception:
                jar = SimpleCookie()
            if "seedbed_lang" in jar:
                cookie_lang = jar["seedbed_lang"].value
        with use_locale(negotiate(accept_language, cookie_lang)):
            await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse bodies larger than the limit, whether announced or streamed.

    The answer is the one error shape (an error page for pages) in the request's language:
    an announced size is refused before the app runs; a streamed body that grows past the
    limit raises a 413 ``HTTPException`` where the app reads it, which FastAPI's body
    parsing passes through to the error handlers (any other exception it turns into a 400).
    Runs inside ``LocaleMiddleware``.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = True
                if too_big:
                    await _too_large_response(scope)(scope, receive, send)
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except TooLarge:
            if started:
                raise
            await _too_large_response(scope)(scope, receive, send)


class TooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413)


def _too_large_response(scope: Scope) -> Response:
    return error_response(Request(scope), 413, "payload_too_large", _("The request is too large"))


# Pages load only their own scripts, styles and images (charts are ``data:`` SVG images);
# no inline script or style, no plugin, no framing, forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's Swagger UI is a page of its own: its bundle and stylesheet come from a CDN and
# it starts with an inline script. It shows only the public schema and holds no form of ours.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
SESSION_COOKIE_NAME = b"seedbed_session="


class SecurityHeadersMiddleware:
    """Security headers on every response.

    ``Cache-Control: no-store`` goes on every answer to a signed-in caller (a session cookie
    or a bearer token: pages, API, files), on every page (each one carries a CSRF token of
    its caller's session, so a cached login or sign-up page would hand out a stale one) and
    on every answer that sets a cookie. Static assets are the same for everyone and keep
    their validators. HSTS only in production, where the site is served over HTTPS.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool, docs_path: str | None = None) -> None:
        self.app = app
        self.hsts = hsts
        self.docs_path = docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        signed_in = not path.startswith("/static/") and any(
            (key == b"authorization" and value) or (key == b"cookie" and SESSION_COOKIE_NAME in value)
            for key, value in scope.get("headers", [])
        )
        policy = DOCS_CONTENT_SECURITY_POLICY if path == self.docs_path else CONTENT_SECURITY_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers["X-Frame-Options"] = "DENY"
                if self.hsts:
                    headers["Strict-Transport-Security"] = HSTS
                is_page = headers.get("content-type", "").startswith("text/html")
                if signed_in or is_page or "set-cookie" in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
