"""gettext catalogues (Babel): Simplified Chinese by default, English on request.

Message ids are English; ``core/locale/<lang>/LC_MESSAGES/messages.po`` holds the
translations. ``make`` compiles them to ``.mo``; a missing ``.mo`` is compiled in memory
from its ``.po`` so a checkout without a build still speaks Chinese.
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SUPPORTED = ("zh", "en")
DEFAULT_LOCALE = "zh"

_current: ContextVar[str] = ContextVar("seedbed_locale", default=DEFAULT_LOCALE)


@lru_cache(maxsize=8)
def translations(locale: str) -> _gettext.NullTranslations:
    base = LOCALE_DIR / locale / "LC_MESSAGES"
    mo, po = base / "messages.mo", base / "messages.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp)
    if po.exists():
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(buffer)
    return _gettext.NullTranslations()


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    _current.set(locale if locale in SUPPORTED else DEFAULT_LOCALE)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(locale if locale in SUPPORTED else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """A short word that means different things in different places ("Due": a tranche waiting
    to be paid, or a review's deadline) gets a context, and so a translation of its own."""
    return translations(_current.get()).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).npgettext(context, singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Mark a string for extraction; translate it later with ``_()`` where it is shown."""
    return message


def negotiate(accept_language: str | None, preferred: str | None = None) -> str:
    """Pick the user's language: their saved preference, then Accept-Language, then Chinese."""
    if preferred in SUPPORTED:
        return preferred
    if accept_language:
        weighted: list[tuple[float, str]] = []
        for part in accept_language.split(",")[:20]:
            piece = part.strip()
            if not piece:
                continue
            lang, _sep, params = piece.partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    quality = 0.0
            weighted.append((quality, lang.strip().lower()))
        for _q, lang in sorted(weighted, key=lambda item: -item[0]):
            primary = lang.split("-")[0]
            if primary in SUPPORTED:
                return primary
    return DEFAULT_LOCALE
