"""The signing page in the signer's language, in Chromium: opened by hellosign-embedded with ``locale``
(``user_culture``), the PIN step, the page, its script's messages and the signature dialog are in French, then
in Japanese through to the signature, with the date the request was sent written as each language writes it.
SQLite only, as test_browser.py."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from tests.conftest import AccountInfo, Server
from tests.signing.conftest import Host, screenshot
from tests.signing.helpers import create, f, new_app, sign_url
from tests.signing.test_browser import by_testid, open_sign, wait_js_event

pytestmark = pytest.mark.browser
PIN = "4321"
WITH_PIN: dict[str, Any] = {"signers[0][pin]": PIN}


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    path = tmp_path / "paraph.sqlite3"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


def try_pin(frame: Any, pin: str, error: str) -> None:
    by_testid(frame, "pin-input").fill(pin)
    by_testid(frame, "pin-submit").click()
    expect(frame.locator("#pp-pin-error")).to_have_text(error)


def pass_pin(frame: Any) -> None:
    by_testid(frame, "pin-input").fill(PIN)
    by_testid(frame, "pin-submit").click()
    by_testid(frame, "next-field").wait_for()


def test_the_page_speaks_french_then_japanese_and_signs(
    server: Server, account: AccountInfo, host: Host, browser_page: Any
) -> None:
    client_id = new_app(server, account, ["localhost"])
    sr = create(
        server,
        account,
        client_id=client_id,
        signers=[("Jacques Martin", "jacques@example.com")],
        fields=[f("name", "text", 0, 72, 380, 220, 24, name="Nom"), f("sig", "signature", 0, 72, 420, 200, 40)],
        title="Contrat",
        **WITH_PIN,
    )
    sid = sr["signatures"][0]["signature_id"]
    sent = dt.datetime.fromtimestamp(sr["created_at"], dt.UTC)
    url = sign_url(server, account, sid)
    page = browser_page

    frame = open_sign(page, host, url, client_id, {"testMode": True, "locale": "fr_FR"})
    expect(frame.locator("#pp-pin-title")).to_have_text("Saisissez votre code d\u2019accès")
    try_pin(frame, "0000", "Ce code d\u2019accès est incorrect. Essais restants : 4.")
    pass_pin(frame)
    expect(frame.locator("html")).to_have_attribute("lang", "fr-FR")
    expect(frame.locator("#pp-header")).to_contain_text(f"Envoyé le {format_date(sent, 'long', locale='fr_FR')}")
    expect(by_testid(frame, "next-field")).to_have_text("Champ suivant")
    expect(by_testid(frame, "sign-submit")).to_have_text("J\u2019accepte")
    expect(frame.locator("#pp-progress")).to_have_text("Champs à compléter : 2")
    by_testid(frame, "sign-submit").click()
    expect(frame.locator("#pp-status")).to_have_text("Nom : Ce champ est obligatoire.")
    by_testid(frame, "field-sig").click()
    expect(frame.locator("#pp-sig-title")).to_have_text("Votre signature")
    expect(by_testid(frame, "signature-adopt")).to_have_text("Adopter et signer")
    expect(frame.locator("#pp-tab-draw")).to_have_text("Dessiner")
    screenshot(page, "signing-i18n-fr-dialog")
    frame.locator("#pp-sig-cancel").click()
    page.evaluate("window.client.close()")

    frame = open_sign(page, host, url, client_id, {"testMode": True, "locale": "ja_JP"})
    expect(frame.locator("#pp-pin-title")).to_have_text("アクセスコードを入力")
    try_pin(frame, "1111", "アクセスコードが正しくありません。残りの試行回数: 4。")
    pass_pin(frame)
    expect(frame.locator("#pp-header")).to_contain_text(f"送信日: {format_date(sent, 'long', locale='ja_JP')}")
    expect(by_testid(frame, "next-field")).to_have_text("次の項目")
    by_testid(frame, "field-name").fill("山田太郎")
    by_testid(frame, "field-sig").click()
    by_testid(frame, "signature-typed-input").fill("山田")
    by_testid(frame, "signature-adopt").click()
    expect(frame.locator("#pp-progress")).to_contain_text("必須項目はすべて入力されました。")
    screenshot(page, "signing-i18n-ja")
    # What the server answers is shown in the page's language too (no font here draws these characters).
    by_testid(frame, "sign-submit").click()
    expect(frame.locator("#pp-status")).to_have_text(
        "インストールされているフォントではこの署名を表示できません。手書きするかアップロードしてください。"
    )
    by_testid(frame, "field-sig").click()
    by_testid(frame, "signature-typed-input").fill("Taro Yamada")
    by_testid(frame, "signature-adopt").click()
    by_testid(frame, "sign-submit").click()
    expect(frame.locator("#pp-done-title")).to_have_text("署名済み")
    expect(frame.locator("#pp-done-text")).to_contain_text("「Contrat」に署名しました。")
    assert wait_js_event(page, "sign")[0]["payload"] == {"signatureId": sid}
