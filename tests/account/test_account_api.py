"""The account endpoints through the official SDK, over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import dropbox_sign
import pytest
from dropbox_sign import models

from tests.client import request
from tests.conftest import AccountInfo, Server


def test_it_returns_the_account_to_the_sdk(sdk: Any, account: AccountInfo) -> None:
    got = dropbox_sign.AccountApi(sdk).account_get()
    assert got.account.account_id == account.account_id
    assert got.account.email_address == account.email
    assert got.account.callback_url is None
    assert got.account.locale == "en-US"


def test_it_updates_callback_url_and_locale(sdk: Any, receiver: Any) -> None:
    api = dropbox_sign.AccountApi(sdk)
    url = receiver.url + "/hook"
    updated = api.account_update(models.AccountUpdateRequest(callback_url=url, locale="fr-FR"))
    assert updated.account.callback_url == url
    assert updated.account.locale == "fr-FR"
    assert api.account_get().account.callback_url == url


def test_it_verifies_accounts_by_email(sdk: Any, account: AccountInfo) -> None:
    api = dropbox_sign.AccountApi(sdk)
    found = api.account_verify(models.AccountVerifyRequest(email_address=account.email))
    assert found.account.email_address == account.email
    missing = api.account_verify(models.AccountVerifyRequest(email_address="nobody@example.com"))
    assert missing.account is None


def test_it_creates_accounts(sdk: Any) -> None:
    api = dropbox_sign.AccountApi(sdk)
    created = api.account_create(models.AccountCreateRequest(email_address="new.user@example.com"))
    assert created.account.email_address == "new.user@example.com"
    assert len(created.account.account_id) == 40
    with pytest.raises(dropbox_sign.ApiException) as err:
        api.account_create(models.AccountCreateRequest(email_address="new.user@example.com"))
    assert err.value.status == 400


def test_it_refuses_a_missing_or_wrong_key_with_the_envelope(server: Server) -> None:
    for key in (None, "0" * 64):
        resp = request(server.api, "GET", "/account", key)
        assert resp.status == 401
        assert resp.headers["content-type"].startswith("application/json")
        body = json.loads(resp.data)
        assert body["error"]["error_name"] == "unauthorized"
        assert body["error"]["error_msg"]


def test_it_answers_unknown_paths_and_methods_with_the_envelope(server: Server, account: AccountInfo) -> None:
    resp = request(server.api, "GET", "/no/such/thing", account.api_key)
    assert resp.status == 404
    assert json.loads(resp.data)["error"]["error_name"] == "not_found"
    resp = request(server.api, "DELETE", "/account", account.api_key)
    assert resp.status == 405
    assert json.loads(resp.data)["error"]["error_name"] == "method_not_supported"


def test_it_sends_rate_limit_headers_on_every_response(server: Server, account: AccountInfo) -> None:
    for key in (account.api_key, None):
        resp = request(server.api, "GET", "/account", key)
        assert int(resp.headers["X-RateLimit-Limit"]) > 0
        assert int(resp.headers["X-RateLimit-Remaining"]) >= 0
        assert int(resp.headers["X-Ratelimit-Reset"]) > 0


def test_it_accepts_the_legacy_post_with_bracket_style_form(server: Server, account: AccountInfo) -> None:
    resp = request(
        server.api,
        "POST",
        "/account",
        account.api_key,
        body="callback_url=http%3A%2F%2F127.0.0.1%3A9%2Flegacy&locale=de-DE",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 200, resp.data
    assert json.loads(resp.data)["account"]["locale"] == "de-DE"


def test_it_refuses_private_callback_urls_unless_allowed(server: Server, account: AccountInfo) -> None:
    server.runtime.settings.callback_allow_private = False
    for url in (
        "http://127.0.0.1:9/x",
        "https://localhost/x",
        "https://10.1.2.3/x",
        "https://private.example.com/",
    ):
        resp = request(server.api, "PUT", "/account", account.api_key, json={"callback_url": url})
        assert resp.status == 400, url
        assert json.loads(resp.data)["error"]["error_path"] == "callback_url"
    resp = request(
        server.api, "PUT", "/account", account.api_key, json={"callback_url": "https://public.example.com/cb"}
    )
    assert resp.status == 200, resp.data


def test_it_answers_bad_json_with_400_not_500(server: Server, account: AccountInfo) -> None:
    for body in (b"{not json", b"[1,2]", b"\xff\xfe"):
        resp = request(
            server.api,
            "PUT",
            "/account",
            account.api_key,
            body=body,
            headers={"Content-Type": "application/json"},
        )
        assert resp.status == 400, body
        assert json.loads(resp.data)["error"]["error_name"] == "bad_request"
