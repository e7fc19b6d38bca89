"""The inspector as a test fixture: GET /paraph/v1/inspect/{name} lists what a name caught with its checks, and
POST /paraph/v1/inspect/{name}/script makes it fail on purpose, against Paraph's real retry schedule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.client import request, request_json, wait_until
from tests.conftest import AccountInfo, Server
from tests.factories import emit_events, make_account


def call(server: Server, account: AccountInfo, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    return request_json(server.url, method, f"/paraph/v1{path}", account.api_key, **kw)


def delivered(server: Server, account: AccountInfo, event_id: str) -> dict[str, Any] | None:
    _, body = call(server, account, "GET", f"/events/{event_id}")
    event: dict[str, Any] = body["event"]
    return event if event["deliveries"][0]["state"] == "delivered" else None


@pytest.mark.parametrize("settings_overrides", [{"callback_retry_delays": "0.2,0.2,0.2"}])
def test_it_lists_verified_captures_and_fails_as_scripted(server: Server, account: AccountInfo) -> None:
    status, body = call(server, account, "POST", "/inspectors", json={"name": "ci"})
    assert status == 201
    status, _ = request_json(
        server.url, "PUT", "/v3/account", account.api_key, json={"callback_url": body["inspector"]["url"]}
    )
    assert status == 200
    status, body = call(server, account, "POST", "/inspect/ci/script", json={"status": 500, "times": 2})
    assert status == 200 and body["script"] == {"status": 500, "body": None, "delay_ms": 0, "times": 2}

    (event_id,) = emit_events(server.runtime, account, 1)

    event = wait_until(lambda: delivered(server, account, event_id), timeout=60)
    attempts = event["deliveries"][0]["attempts"]
    assert [a["status_code"] for a in attempts] == [500, 500, 200]  # the script, then Paraph retried

    status, listed = call(server, account, "GET", "/inspect/ci")
    assert status == 200 and listed["script"] is None  # used up
    caught = listed["captures"]
    assert len(caught) == 3 and caught[0]["capture_id"] > caught[-1]["capture_id"]  # newest first
    for c in caught:
        assert c["event_type"] == "signature_request_sent" and c["signature_request_id"] == f"{0:040x}"
        assert c["event_hash_verified"] is True and c["signature_verified"] is True
        assert c["payload"]["event"]["event_type"] == "signature_request_sent"
        assert dict((k.lower(), v) for k, v in c["headers"])["webhook-id"] == event_id
    assert call(server, account, "GET", "/inspect/ci?event_type=signature_request_signed")[1]["captures"] == []
    assert call(server, account, "GET", f"/inspect/ci?signature_request_id={1:040x}")[1]["captures"] == []
    assert len(call(server, account, "GET", f"/inspect/ci?signature_request_id={0:040x}&limit=2")[1]["captures"]) == 2

    # A wrong acknowledgement is a failure too: answered 200 "wrong", then retried.
    call(server, account, "POST", "/inspect/ci/script", json={"body": "wrong"})
    (second,) = emit_events(server.runtime, account, 1)
    event = wait_until(lambda: delivered(server, account, second), timeout=60)
    assert [(a["status_code"], a["ok"]) for a in event["deliveries"][0]["attempts"]] == [(200, False), (200, True)]

    # Delayed and failing, as a direct post sees it (the capture is stored first).
    call(server, account, "POST", "/inspect/ci/script", json={"status": 503, "delay_ms": 50})
    resp = request(server.url, "POST", "/paraph/inspect/ci", fields={"json": "{}"})
    assert (resp.status, resp.data) == (503, b"Scripted failure (Paraph inspector)")
    assert request(server.url, "POST", "/paraph/inspect/ci", fields={"json": "{}"}).data == b"Hello API Event Received"
    assert len(call(server, account, "GET", "/inspect/ci")[1]["captures"]) == 7

    for bad in ({"status": 99}, {"delay_ms": 10**7}, {"times": -1}, {"body": 5}):
        status, body = call(server, account, "POST", "/inspect/ci/script", json=bad)
        assert status == 400 and body["error"]["error_path"] == next(iter(bad))
    stranger = make_account(server.runtime)
    assert call(server, stranger, "GET", "/inspect/ci")[0] == 404
    assert call(server, stranger, "POST", "/inspect/ci/script", json={"status": 500})[0] == 404
