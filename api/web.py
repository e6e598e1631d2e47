"""Jinja2 environment for pages: gettext, the CSRF token, the principal, role navigation."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, TemplateSyntaxError, select_autoescape
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from api.deps import CSRF_COOKIE, PRESESSION_COOKIE, csrf_binding, session_binding
from api.pages.activity import audit_link, audit_words, link_label
from core.i18n import SUPPORTED, current_locale, gettext, ngettext, npgettext, pgettext, translations
from core.identity.models import ROLE_LABELS, Role
from core.identity.principal import Principal
from core.money import format_money
from core.security import csrf_token_valid, make_csrf_token
from core.settings import PROJECT_ROOT, Settings

TEMPLATE_DIR = PROJECT_ROOT / "templates"
SHANGHAI = ZoneInfo("Asia/Shanghai")


MINUTE = "%Y-%m-%d %H:%M"


def local_time(value: dt.datetime | None, fmt: str = MINUTE) -> str:
    """An instant as Shanghai's clock shows it (to the minute unless ``fmt`` says otherwise)."""
    if value is None:
        return ""
    local = value.astimezone(SHANGHAI)
    if fmt == MINUTE and local.year >= 1000:
        # What strftime writes, at half its cost: a list prints one per row.
        return local.isoformat(" ", "minutes")[:16]
    return local.strftime(fmt)


class TranslatedAtCompile(Extension):
    """Each ``_("a constant")`` of a template is translated once, when the template is
    compiled for its environment's language (``build_environment(locale)``), instead of at
    every render: a page calls ``_`` about ninety times, each through the template
    context's call, a catalogue lookup and an escape of the result. The text is the one
    ``gettext`` would return in that language, and it is printed, filtered, concatenated or
    %-formatted exactly as the call's result was. A call with anything but one string
    literal (a variable, an expression, more arguments) is left to run at render time.
    ``_`` is the translation function in every template: a template that binds the name
    (``set``, ``for``, a macro's parameter) or uses it other than by calling it is refused."""

    def filter_stream(self, stream: TokenStream) -> Any:
        translate = translations(self.environment.seedbed_locale).gettext  # type: ignore[attr-defined]
        tokens = list(stream)
        previous: Token | None = None
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.type == "name" and token.value == "_" and (previous is None or previous.type != "dot"):
                if i + 1 >= len(tokens) or tokens[i + 1].type != "lparen":
                    raise TemplateSyntaxError(
                        "'_' is the translation function; call it, do not bind or pass it",
                        token.lineno,
                        stream.name,
                        stream.filename,
                    )
                call = tokens[i + 1 : i + 4]
                if len(call) == 3 and call[1].type == "string" and call[2].type == "rparen":
                    previous = Token(token.lineno, "string", translate(call[1].value))
                    yield previous
                    i += 4
                    continue
            yield token
            previous = token
            i += 1


def build_environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n", TranslatedAtCompile],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.extend(seedbed_locale=locale)
    # Not "newstyle": its %-formatting would break on translations that contain "%".
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=False, pgettext=pgettext, npgettext=npgettext
    )
    # ``_`` straight to gettext (a call that is not folded at compile time): the extension's
    # alias resolves and calls ``gettext`` through the template context a second time.
    env.globals["_"] = gettext
    env.filters["local_time"] = local_time
    env.filters["money"] = format_money
    env.globals["role_label"] = lambda role: gettext(ROLE_LABELS[Role(role)])
    env.globals["audit_words"] = audit_words
    env.globals["audit_link"] = audit_link
    env.globals["link_label"] = link_label
    return env


ENVIRONMENTS = {locale: build_environment(locale) for locale in SUPPORTED}
"""One environment per language: each compiles its templates with their texts translated."""


def environment() -> Environment:
    """The environment of the request's language."""
    return ENVIRONMENTS[current_locale()]


# Navigation by role: (path, label, roles that see it). Domains add their entries.
NAVIGATION: list[tuple[str, str, frozenset[Role]]] = []


def register_nav(path: str, label: str, roles: set[Role]) -> None:
    if all(entry[0] != path for entry in NAVIGATION):
        NAVIGATION.append((path, label, frozenset(roles)))


def safe_next(target: str | None, default: str = "/dashboard") -> str:
    """Where to go after logging in: a path on this site only (with its query), never another
    host (``//evil``, ``/\\evil``, ``https:``, control characters), else ``default``."""
    if not target or len(target) > 2000:
        return default
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return default
    parsed = urlsplit(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    path = unquote(parsed.path)
    if path.startswith("//") or "\\" in path or any(ord(ch) < 0x20 for ch in path):
        return default
    return target


def login_url(request: Request) -> str:
    """The login page that brings the user back to this page, with its parameters."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?" + urlencode({"next": safe_next(here)})


def csrf_token_for(request: Request) -> str:
    """The CSRF token of this browser's session (the cookie's, while it is still bound to it).

    A browser with neither a session nor a pre-session cookie gets a pre-session value, so
    that an anonymous form's token is bound to something only this browser holds.
    """
    token: str | None = getattr(request.state, "csrf_token", None)
    if token is not None:
        return token
    settings: Settings = request.app.state.settings
    binding = csrf_binding(request)
    if binding is None:
        request.state.new_presession = secrets.token_urlsafe(32)
        binding = csrf_binding(request)
        assert binding is not None
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and csrf_token_valid(settings.secret_key, existing, binding):
        token = existing
    else:
        token = request.state.new_csrf = make_csrf_token(settings.secret_key, binding)
    request.state.csrf_token = token
    return token


def set_csrf_cookies(request: Request, response: Response) -> None:
    """Send the cookies ``csrf_token_for`` minted for this request, if any."""
    settings: Settings = request.app.state.settings
    for name, attribute in ((PRESESSION_COOKIE, "new_presession"), (CSRF_COOKIE, "new_csrf")):
        value = getattr(request.state, attribute, None)
        if value:
            response.set_cookie(
                name, value, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
            )


def rotate_csrf_for_session(request: Request, response: Response, session_token: str) -> None:
    """On login: the CSRF cookie is re-issued for the new session (the old one no longer fits)."""
    settings: Settings = request.app.state.settings
    request.state.new_csrf = make_csrf_token(settings.secret_key, session_binding(session_token))
    set_csrf_cookies(request, response)


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    principal: Principal | None = getattr(request.state, "principal", None)
    current_path = request.url.path
    # (path, label, whether the page is under it): the template calls nothing per entry.
    nav = [
        (path, gettext(label), current_path.startswith(path))
        for path, label, roles in NAVIGATION
        if principal is not None and (principal.roles & roles)
    ]
    values = {
        "request": request,
        "principal": principal,
        "csrf_token": csrf_token_for(request),
        "locale": current_locale(),
        "nav": nav,
        "current_path": current_path,
    }
    values.update(context or {})
    html = environment().get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    set_csrf_cookies(request, response)
    return response
