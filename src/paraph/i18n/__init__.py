"""The signer's language: which one (:func:`choose`), its strings (gettext catalogs read with Babel) and its
dates and numbers.

The catalogs are the ``.po`` files under ``locales/`` (``make i18n`` extracts the strings and updates them);
each is read once, the first time its language is asked for, and compiled in memory (ADR 0017): no ``.mo``
is built or committed. English is the source language and the fallback of every string.
"""

from __future__ import annotations

import datetime as dt
import gettext as _gettext
import re
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from markupsafe import Markup

LOCALES_DIR = Path(__file__).parent / "locales"

#: Every ``user_culture`` Dropbox Sign lists (hellosign-embedded's LOCALES; es_MX is deprecated, still taken).
SUPPORTED = (
    "cs_CZ",
    "da_DK",
    "de_DE",
    "en_GB",
    "en_US",
    "es_ES",
    "es_LA",
    "es_MX",
    "fr_FR",
    "id_ID",
    "it_IT",
    "ja_JP",
    "ko_KR",
    "ms_MY",
    "nb_NO",
    "nl_NL",
    "pl_PL",
    "pt_BR",
    "ru_RU",
    "sv_SE",
    "th_TH",
    "uk_UA",
    "zh_CN",
    "zh_TW",
)
DEFAULT = "en_US"
#: The catalog of each culture (English has none: its strings are the source); Latin American Spanish is
#: ``es_419`` (``es_LA`` is no CLDR locale), which the deprecated ``es_MX`` shares.
_CATALOG = {"en_US": None, "en_GB": None, "es_LA": "es_419", "es_MX": "es_419"}
#: The CLDR locale dates and numbers are formatted for.
_CLDR = {"es_LA": "es_419"}
_BY_KEY = {code.lower(): code for code in SUPPORTED}
#: A bare language (Accept-Language ``fr``, ``zh``) goes to its first culture here, else to the list's first.
_BY_LANGUAGE = {"es": "es_ES", "zh": "zh_CN", "en": "en_US", "pt": "pt_BR", "no": "nb_NO", "nn": "nb_NO"}
for _code in SUPPORTED:
    _BY_LANGUAGE.setdefault(_code.split("_")[0].lower(), _code)
_ACCEPT_ITEM = re.compile(r"\s*([A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]{1,5}))?\s*")
#: Accept-Language items looked at (a header is client input: bounded).
_MAX_ACCEPT_ITEMS = 20


def N_(message: str) -> str:
    """Mark ``message`` for extraction only; it is translated where it is shown."""
    return message


class Message(str):
    """A message with values in it: its English text, which it is (an API answer stays English), and the msgid
    and values it was made of, so that a page can show it in the reader's language (:func:`translate`)."""

    msgid: str
    values: dict[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Message:
        made = super().__new__(cls, msgid.format(**values))
        made.msgid, made.values = msgid, values
        return made


def translate(code: str, message: str) -> str:
    """``message`` (a marked msgid, or a :class:`Message` with values) in ``code``'s language."""
    if isinstance(message, Message):
        return gettext(code, message.msgid, **message.values)
    return gettext(code, message)


def normalize(value: str | None) -> str | None:
    """The supported culture ``value`` names (``fr-FR``, ``fr_fr``, ``FR_FR``), or None."""
    if not value:
        return None
    return _BY_KEY.get(value.strip().replace("-", "_").lower()[:16])


def from_accept_language(header: str | None) -> str | None:
    """The supported culture that best matches an ``Accept-Language`` header, or None: the highest quality
    first (earlier wins a tie), a full tag before its bare language."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for i, item in enumerate(header.split(",")[:_MAX_ACCEPT_ITEMS]):
        m = _ACCEPT_ITEM.fullmatch(item)
        if m is None or m.group(1) == "*":
            continue
        try:
            q = float(m.group(2)) if m.group(2) else 1.0
        except ValueError:
            continue
        if q > 0:
            ranked.append((-q, i, m.group(1)))
    for _q, _i, tag in sorted(ranked):
        found = normalize(tag) or _BY_LANGUAGE.get(tag.replace("-", "_").split("_")[0].lower())
        if found:
            return found
    return None


def choose(user_culture: str | None, account_locale: str | None, accept_language: str | None) -> str:
    """The signing page's language: ``user_culture`` if it is a supported one, else the browser's best match
    (as Dropbox Sign does: "else app uses browser language"), else the sender account's ``locale``, else
    English (US)."""
    return normalize(user_culture) or from_accept_language(accept_language) or normalize(account_locale) or DEFAULT


def html_lang(code: str) -> str:
    """The BCP 47 tag of ``<html lang>`` (``fr-FR``; Latin American Spanish is ``es-419``)."""
    return _CLDR.get(code, code).replace("_", "-")


@cache
def translations(code: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``code`` (read and compiled once per process); English: no translation."""
    name = _CATALOG.get(code, code)
    if name is None or code not in SUPPORTED:
        return _gettext.NullTranslations()
    with (LOCALES_DIR / name / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=name)
    buf = BytesIO()
    write_mo(buf, catalog)  # fuzzy entries are left out: they fall back to English
    buf.seek(0)
    return Translations(buf)


def gettext(code: str, message: str, **values: Any) -> str:
    """``message`` in ``code``'s language, its ``{name}`` placeholders filled from ``values``."""
    if not message:
        return message  # gettext("") is the catalog's header
    text = translations(code).gettext(message)
    return text.format(**values) if values else text


def template_gettext(code: str) -> Any:
    """The ``_`` of the signing page's template: ``_("… {name} …", name=value)``, values HTML-escaped."""
    t = translations(code)

    def _(message: str, **values: Any) -> Markup:
        text = Markup(t.gettext(message))  # noqa: S704 - our own catalogs' text; Markup.format escapes values
        return text.format(**values) if values else text

    return _


@cache
def page_strings(code: str) -> dict[str, str]:
    """What the signing page's script translates (``tr``): the catalog's strings found in ``sign.js`` or in
    the signing domain's Python (the messages its endpoints answer), msgid -> translation."""
    name = _CATALOG.get(code, code)
    if name is None or code not in SUPPORTED:
        return {}
    with (LOCALES_DIR / name / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=name)
    out: dict[str, str] = {}
    for message in catalog:
        if not message.id or not isinstance(message.id, str) or message.fuzzy or not message.string:
            continue
        if any(path.endswith(".js") or "/signing/" in path for path, _line in message.locations):
            out[message.id] = str(message.string)
    return out


def cldr(code: str) -> Locale:
    try:
        return Locale.parse(_CLDR.get(code, code))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_US")


def format_date(value: dt.date | dt.datetime, code: str) -> str:
    """A date as the signer's language writes it in full (``6 décembre 2026``, ``2026年12月6日``)."""
    return _format_date(value, format="long", locale=cldr(code))


def format_number(value: float, code: str) -> str:
    return format_decimal(value, locale=cldr(code))
