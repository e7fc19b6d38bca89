"""The catalogs: every string of the signing page (template, script, the messages its endpoints answer) and of
the signer mails, extracted as `make i18n` extracts them, has a translation in every language's catalog, with
the same placeholders; a missing one fails here rather than showing English (or a key) to a signer. And the
choice of a language: ``user_culture``, else Accept-Language, else the account's locale, else English."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from paraph import i18n

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDERS = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)s|</?[a-z]+>")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    # The Makefile's i18n extraction, into a file of the test's own.
    subprocess.run(
        [
            *(sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg")),
            *("-k", "N_", "-k", "tr", "--add-location=file", "--omit-header", "-o", str(pot), "."),
        ],
        cwd=ROOT / "src",
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        ids = [str(m.id) for m in read_po(f) if m.id]
    assert len(ids) > 150  # the page, its script, its endpoints and the mails were all read
    return ids


def catalogs() -> list[str]:
    return sorted({name for code in i18n.SUPPORTED if (name := i18n._CATALOG.get(code, code)) is not None})


def test_there_is_a_catalog_for_every_culture_dropbox_sign_lists_besides_english() -> None:
    assert len(i18n.SUPPORTED) == 24  # 23 cultures, and the deprecated es_MX
    on_disk = sorted(p.name for p in i18n.LOCALES_DIR.iterdir() if p.is_dir())
    assert on_disk == catalogs()
    assert len(on_disk) == 21  # en_US and en_GB are the source strings; es_LA and es_MX share es_419


@pytest.mark.parametrize("name", catalogs())
def test_every_string_is_translated_with_its_placeholders(name: str, extracted: list[str]) -> None:
    path = i18n.LOCALES_DIR / name / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=name)
    problems = []
    for msgid in extracted:
        message = catalog.get(msgid)
        if message is None or not message.string or message.fuzzy:
            problems.append(f"missing: {msgid!r}")
        elif sorted(PLACEHOLDERS.findall(msgid)) != sorted(PLACEHOLDERS.findall(str(message.string))):
            problems.append(f"placeholders differ: {msgid!r} -> {message.string!r}")
    assert not problems, f"{path}: run `make i18n` and translate:\n" + "\n".join(problems)


def test_the_page_language_is_user_culture_then_the_browser_then_the_account_then_english() -> None:
    assert i18n.choose("fr-FR", "de_DE", "ja") == "fr_FR"
    assert i18n.choose("xx_YY", "de-de", None) == "de_DE"
    assert i18n.choose(None, "fr-FR", "ja") == "ja_JP"  # the browser's language comes before the account's
    assert i18n.choose(None, "fr-FR", "sw, tlh") == "fr_FR"  # ...when it is one Paraph speaks
    assert i18n.choose(None, None, "da, en;q=0.8") == "da_DK"
    assert i18n.choose(None, "tlh", "en-AU;q=0.2, pt;q=0.9, *;q=0.1") == "pt_BR"
    assert i18n.choose(None, None, "zh-TW,zh;q=0.9") == "zh_TW"
    assert i18n.choose(None, None, "sw, ;q=x, de;q=0") == "en_US"
    assert i18n.choose(None, None, None) == "en_US"
    assert (i18n.normalize("es_MX"), i18n.html_lang("es_LA"), i18n.html_lang("ja_JP")) == ("es_MX", "es-419", "ja-JP")


def test_strings_dates_and_numbers_come_in_the_signers_language() -> None:
    assert i18n.gettext("fr_FR", "Next field") == "Champ suivant"
    assert i18n.gettext("es_MX", "Next field") == i18n.gettext("es_LA", "Next field") == "Campo siguiente"
    assert i18n.gettext("en_GB", "Next field") == i18n.gettext("xx", "Next field") == "Next field"
    assert i18n.gettext("de_DE", "Page {page} of {count}", page=2, count=3) == "Seite 2 von 3"
    day = dt.date(2026, 12, 6)
    assert i18n.format_date(day, "fr_FR") == "6 décembre 2026"
    assert i18n.format_date(day, "ja_JP") == "2026年12月6日"
    assert i18n.format_date(day, "en_US") == "December 6, 2026"
    assert (i18n.format_number(1234.5, "de_DE"), i18n.format_number(1234.5, "en_US")) == ("1.234,5", "1,234.5")
    # The script gets the page's strings and the messages its endpoints answer, not the mails'.
    strings = i18n.page_strings("fr_FR")
    assert strings["Fields that need your attention: {count}"] == "Champs à compléter : {count}"
    assert strings["This field is required."] == "Ce champ est obligatoire."
    assert "Sent by Paraph" not in strings and i18n.page_strings("en_US") == {}
