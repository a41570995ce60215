"""Message catalogs (en, zh_CN) for the web app and the CLI.

Catalogs live as gettext ``.po`` files in ``cxo/locale/<locale>/LC_MESSAGES/messages.po`` and are
compiled in memory on first use, so there is no build step and no binary file in the repository.
Write user-facing strings as ``_("Text with %(name)s", name=value)``; ``make i18n`` extracts them.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = ("en", "zh_CN")
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}


class Translator(Protocol):
    def __call__(self, message: str, /, **params: Any) -> str: ...


@functools.cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog for ``locale`` (English falls back to the source strings)."""
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale not in LOCALES or not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def translator(locale: str) -> Translator:
    """A ``_`` function for one locale that also fills ``%(name)s`` placeholders."""
    gettext: Callable[[str], str] = translations(locale).gettext

    def _(message: str, /, **params: Any) -> str:
        text = gettext(message)
        return text % params if params else text

    return _


def negotiate(accept_language: str | None, default: str = "en") -> str:
    """Pick en or zh_CN from an Accept-Language header."""
    if not accept_language:
        return default
    for part in accept_language.split(","):
        tag = part.split(";", 1)[0].strip().lower().replace("_", "-")
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return default


def normalise_locale(value: str | None) -> str | None:
    """Map user input (zh, zh-CN, zh_cn, en-US, ...) to a supported locale, or None."""
    if not value:
        return None
    v = value.strip().replace("-", "_").lower()
    if v.startswith("zh"):
        return "zh_CN"
    if v.startswith("en"):
        return "en"
    return None
