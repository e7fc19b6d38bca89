"""The Dropbox Sign callback contract, end to end: Paraph's worker POSTs to a real loopback receiver and the
official SDK accepts what arrives."""

from __future__ import annotations

import json
from typing import Any

import dropbox_sign
from dropbox_sign import EventCallbackHelper, models
from dropbox_sign.models import EventCallbackRequest
from standardwebhooks.webhooks import Webhook

from tests.callbacks.helpers import call, events, set_callback
from tests.conftest import AccountInfo, Server
from tests.factories import emit_events
from tests.receiver import Receiver


def parse(rec: Any) -> EventCallbackRequest:
    return EventCallbackRequest.init(json.loads(rec.form["json"]))


def test_it_posts_multipart_with_one_json_field_the_sdk_accepts(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    set_callback(server.url, account, receiver.url + "/account")
    emit_events(server.runtime, account, 1)
    (rec,) = receiver.wait_for(1)
    assert rec.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert list(rec.form) == ["json"]
    cb = parse(rec)
    assert cb.event.event_type == "signature_request_sent"
    assert isinstance(json.loads(rec.form["json"])["event"]["event_time"], str)
    assert EventCallbackHelper.is_valid(account.api_key, cb)
    assert not EventCallbackHelper.is_valid("0" * 64, cb)
    assert EventCallbackHelper.get_callback_type(cb) == "account_callback"
    assert cb.event.event_metadata.reported_for_account_id == account.account_id
    assert cb.signature_request.title == "Request 0"
    assert json.loads(rec.form["json"])["account_guid"] == account.account_id


def test_it_signs_every_callback_with_standard_webhooks(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    set_callback(server.url, account, receiver.url + "/sw")
    emit_events(server.runtime, account, 1)
    (rec,) = receiver.wait_for(1)
    status, body = call(server.url, "GET", "/paraph/v1/callbacks/endpoints", account.api_key)
    assert status == 200
    secret = body["endpoints"][0]["secret"]
    assert secret.startswith("whsec_")
    headers = {k.lower(): v for k, v in rec.headers.items()}
    Webhook(secret).verify(rec.body, headers, json_parse=False)  # raises if body or signature were altered
    assert headers["webhook-id"].startswith("evt_")


def test_it_sends_to_the_account_and_the_app_each_with_its_own_metadata(
    server: Server, account: AccountInfo, receiver: Receiver, sdk: Any
) -> None:
    set_callback(server.url, account, receiver.url + "/account")
    app = (
        dropbox_sign.ApiAppApi(sdk)
        .api_app_create(
            models.ApiAppCreateRequest(name="App", domains=["example.com"], callback_url=receiver.url + "/app")
        )
        .api_app
    )
    from paraph.account import repository as accounts
    from paraph.api_app import repository as apps
    from paraph.callbacks.events import EventType
    from paraph.callbacks.service import emit

    with server.runtime.unit_of_work() as session:
        acct = accounts.by_account_id(session, account.account_id)
        assert acct is not None
        emit(
            session,
            server.runtime.keys,
            acct,
            EventType.SIGNATURE_REQUEST_SIGNED,
            api_app=apps.by_client_id(session, app.client_id),
            object_kind="signature_request",
            object_json={"signature_request_id": "a" * 40},
            related_signature_id="b" * 32,
        )
    to_account = parse(receiver.wait_for(1, path="/account")[0])
    to_app = parse(receiver.wait_for(1, path="/app")[0])
    assert to_account.event.event_metadata.reported_for_app_id is None
    assert to_app.event.event_metadata.reported_for_app_id == app.client_id
    assert EventCallbackHelper.get_callback_type(to_app) == "app_callback"
    assert EventCallbackHelper.get_callback_type(to_account) == "account_callback"
    for cb in (to_account, to_app):
        assert EventCallbackHelper.is_valid(account.api_key, cb)
        assert cb.event.event_metadata.related_signature_id == "b" * 32
    assert to_account.event.event_time == to_app.event.event_time


def test_it_reports_account_confirmed_to_the_app(
    server: Server, account: AccountInfo, receiver: Receiver, sdk: Any
) -> None:
    app = (
        dropbox_sign.ApiAppApi(sdk)
        .api_app_create(
            models.ApiAppCreateRequest(name="App", domains=["example.com"], callback_url=receiver.url + "/app")
        )
        .api_app
    )
    set_callback(server.url, account, receiver.url + "/account")
    dropbox_sign.AccountApi(sdk).account_create(
        models.AccountCreateRequest(
            email_address="partner.user@example.com",
            client_id=app.client_id,
            client_secret=_secret_of(server, app.client_id),
        )
    )
    (rec,) = receiver.wait_for(1, path="/app")
    cb = parse(rec)
    assert cb.event.event_type == "account_confirmed"
    assert cb.account.email_address == "partner.user@example.com"
    assert EventCallbackHelper.get_callback_type(cb) == "app_callback"
    assert receiver.events("/account") == []


def _secret_of(server: Server, client_id: str) -> str:
    from paraph.api_app import repository as apps

    with server.runtime.unit_of_work(write=False) as session:
        app = apps.by_client_id(session, client_id)
        assert app is not None
        return app.client_secret


def test_it_answers_a_callback_test_at_once(server: Server, account: AccountInfo, receiver: Receiver) -> None:
    set_callback(server.url, account, receiver.url + "/t")
    status, body = call(server.url, "POST", "/paraph/v1/callbacks/test", account.api_key, json={"target": "account"})
    assert status == 200, body
    assert body["result"]["ok"] is True
    assert body["result"]["status_code"] == 200
    assert "Hello API Event Received" in body["result"]["response_body"]
    cb = parse(receiver.received[0])
    assert cb.event.event_type == "callback_test"
    receiver.behaviour.status = 500
    status, body = call(server.url, "POST", "/paraph/v1/callbacks/test", account.api_key, json={"target": "account"})
    assert status == 200
    assert body["result"]["ok"] is False
    assert body["result"]["status_code"] == 500
    listed = events(server.url, account, event_type="callback_test")
    assert [e["state"] for e in listed["events"]] == ["failed", "delivered"]


def test_it_records_events_even_without_a_callback_url(server: Server, account: AccountInfo) -> None:
    emit_events(server.runtime, account, 2)
    listed = events(server.url, account)
    assert len(listed["events"]) == 2
    assert {e["state"] for e in listed["events"]} == {"no_endpoint"}
