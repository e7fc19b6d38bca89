"""Retries, failure, disabling and re-enabling endpoints, resend and replay."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from paraph.models import Job
from tests.callbacks.helpers import call, events, set_callback
from tests.client import wait_until
from tests.conftest import AccountInfo, Server
from tests.factories import emit_events
from tests.receiver import Receiver


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"callback_retry_delays": "0.3,0.3", "callback_disable_after": 2, "callback_timeout": 1.0}


def test_it_retries_until_acknowledged_with_the_same_event(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    receiver.behaviour.status = 503
    set_callback(server.url, account, receiver.url + "/r")
    emit_events(server.runtime, account, 1)
    receiver.wait_for(2)
    receiver.behaviour.status = 200
    got = receiver.wait_for(3)
    payloads = [json.loads(r.form["json"]) for r in got]
    assert len({p["event"]["event_hash"] for p in payloads}) == 1
    assert len({p["event"]["event_time"] for p in payloads}) == 1
    assert len({r.headers["webhook-id"] for r in got}) == 1
    ev = wait_until(lambda: [e for e in events(server.url, account)["events"] if e["state"] == "delivered"])[0]
    attempts = ev["deliveries"][0]["attempts"]
    assert [a["status_code"] for a in attempts] == [503, 503, 200]
    assert [a["ok"] for a in attempts] == [False, False, True]
    assert all(a["latency_ms"] >= 0 for a in attempts)


def test_it_retries_when_the_body_lacks_the_acknowledgement(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    receiver.behaviour.body = "OK"
    set_callback(server.url, account, receiver.url + "/r")
    emit_events(server.runtime, account, 1)
    ev = wait_until(lambda: [e for e in events(server.url, account)["events"] if e["state"] == "failed"])[0]
    attempts = ev["deliveries"][0]["attempts"]
    assert len(attempts) == 3  # the first try and two retries
    assert all(a["status_code"] == 200 and not a["ok"] for a in attempts)
    assert attempts[0]["response_body"] == "OK"


def test_it_counts_a_json_quoted_acknowledgement(server: Server, account: AccountInfo, receiver: Receiver) -> None:
    receiver.behaviour.body = '"Hello API Event Received"'
    set_callback(server.url, account, receiver.url + "/r")
    emit_events(server.runtime, account, 1)
    wait_until(lambda: [e for e in events(server.url, account)["events"] if e["state"] == "delivered"])


def test_it_disables_a_failing_endpoint_holds_new_events_and_releases_them(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    receiver.behaviour.status = 500
    set_callback(server.url, account, receiver.url + "/d")
    emit_events(server.runtime, account, 2)
    wait_until(lambda: len(events(server.url, account, state="failed")["events"]) == 2)
    status, body = call(server.url, "GET", "/paraph/v1/callbacks/endpoints", account.api_key)
    assert body["endpoints"][0]["enabled"] is False
    with server.runtime.unit_of_work(write=False) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Job).where(Job.kind == "mail.endpoint_disabled")) == 1
    seen = len(receiver.received)
    emit_events(server.runtime, account, 1)
    assert len(events(server.url, account, state="held")["events"]) == 1
    receiver.behaviour.status = 200
    set_callback(server.url, account, receiver.url + "/d")  # saving the URL again re-enables it
    wait_until(lambda: len(events(server.url, account, state="delivered")["events"]) == 1)
    assert len(receiver.received) == seen + 1
    # Replaying the failed ones brings every event home.
    status, body = call(server.url, "POST", "/paraph/v1/events/replay", account.api_key, json={"state": "failed"})
    assert status == 200 and body["replayed"] == 2
    wait_until(lambda: len(events(server.url, account, state="delivered")["events"]) == 3)


def test_it_re_enables_an_endpoint_after_a_successful_test(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    receiver.behaviour.status = 500
    set_callback(server.url, account, receiver.url + "/d")
    emit_events(server.runtime, account, 2)
    wait_until(lambda: len(events(server.url, account, state="failed")["events"]) == 2)
    emit_events(server.runtime, account, 1)
    receiver.behaviour.status = 200
    _, body = call(server.url, "POST", "/paraph/v1/callbacks/test", account.api_key, json={"target": "account"})
    assert body["result"]["ok"] is True
    wait_until(lambda: len(events(server.url, account, state="delivered")["events"]) == 2)


def test_it_resends_one_event_with_the_same_id(server: Server, account: AccountInfo, receiver: Receiver) -> None:
    set_callback(server.url, account, receiver.url + "/x")
    (event_id,) = emit_events(server.runtime, account, 1)
    receiver.wait_for(1)
    status, body = call(server.url, "POST", f"/paraph/v1/events/{event_id}/resend", account.api_key)
    assert status == 200, body
    got = receiver.wait_for(2)
    assert got[0].headers["webhook-id"] == got[1].headers["webhook-id"] == event_id
    assert got[0].form["json"] == got[1].form["json"]


def test_it_does_not_follow_redirects(server: Server, account: AccountInfo, receiver: Receiver) -> None:
    receiver.behaviour.status = 302
    set_callback(server.url, account, receiver.url + "/moved")
    _, body = call(server.url, "POST", "/paraph/v1/callbacks/test", account.api_key, json={"target": "account"})
    assert body["result"]["ok"] is False
    assert body["result"]["status_code"] == 302
    assert len(receiver.received) == 1


def test_it_paginates_and_filters_events(server: Server, account: AccountInfo) -> None:
    emit_events(server.runtime, account, 5)
    first = events(server.url, account, limit=2)
    assert len(first["events"]) == 2 and first["next_cursor"]
    second = events(server.url, account, limit=2, cursor=first["next_cursor"])
    third = events(server.url, account, limit=2, cursor=second["next_cursor"])
    ids = [e["event_id"] for page in (first, second, third) for e in page["events"]]
    assert len(ids) == len(set(ids)) == 5
    assert third["next_cursor"] is None
    one = events(server.url, account, signature_request_id=f"{3:040x}")
    assert [e["signature_request_id"] for e in one["events"]] == [f"{3:040x}"]
    assert events(server.url, account, event_type="file_error")["events"] == []
    status, body = call(server.url, "GET", "/paraph/v1/events", account.api_key, fields={"state": "bogus"})
    assert status == 400 and body["error"]["error_path"] == "state"


def test_it_keeps_each_accounts_events_to_itself(server: Server, account: AccountInfo) -> None:
    from tests.factories import make_account

    (event_id,) = emit_events(server.runtime, account, 1)
    other = make_account(server.runtime)
    assert events(server.url, other)["events"] == []
    status, _ = call(server.url, "GET", f"/paraph/v1/events/{event_id}", other.api_key)
    assert status == 404
    status, _ = call(server.url, "POST", f"/paraph/v1/events/{event_id}/resend", other.api_key)
    assert status == 404
