"""The API gate's hot reads (paraph.hot_reads): GET /v3/account, /v3/signature_request/{id} and /list answered
by the gate for a key it knows must be the app's answers, byte for byte, on both backends; whatever the lane
does not take (a search, another account's request, a canceled one, an empty page, a revoked key) is the app's
answer as before."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import urllib3

from paraph import hot_reads
from paraph.account import keys as account_keys
from paraph.account import repository as accounts
from paraph.db import utcnow
from paraph.hot_reads import HotReads, list_params, match, supported_url
from paraph.models import ApiKey
from tests.conftest import AccountInfo, Server
from tests.factories import make_account
from tests.signing.helpers import api, create, f
from tests.simulate.test_simulate_api import simulate


def _get(server: Server, path: str, key: str) -> urllib3.BaseHTTPResponse:
    authorization = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    return urllib3.request("GET", server.url + path, headers={"Authorization": authorization}, retries=False)


def _new_key(server: Server, account: AccountInfo, name: str) -> str:
    with server.runtime.unit_of_work() as session:
        holder = accounts.by_email(session, account.email)
        assert holder is not None
        return account_keys.add_api_key(session, server.runtime.keys, holder, name=name)


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The reads the lane answered itself (it hands the others to the app), noted before the answer is sent."""
    answered: list[str] = []
    plan = HotReads._plan

    def counting(self: HotReads, hot: Any, *args: Any, **kwargs: Any) -> Any:
        found = yield from plan(self, hot, *args, **kwargs)
        if found is not None:
            answered.append(hot.kind)
        return found

    monkeypatch.setattr(HotReads, "_plan", counting)
    yield answered


def test_the_lane_answers_as_the_app_does(server: Server, account: AccountInfo, plans: list[str]) -> None:
    fields = [
        f("sig", "signature", 0, 72, 420, 200, 40),
        f("note", "text", 0, 72, 480, required=False),
        f("agree", "checkbox", 0, 72, 560, 14, 14),
        f("sig2", "signature", 1, 72, 620, 200, 40),
    ]
    signers = [("Jack Doe", "jack@example.com"), ("Jill Roe", "jill@example.com")]
    signed = create(
        server,
        account,
        fields=fields,
        signers=signers,
        metadata={"case": "42", "nested": {"a": [1, 2]}},
        cc_email_addresses=["cc@example.com"],
        title="Signed by one ✓",
    )
    status, body = simulate(server, account, f"/signatures/{signed['signatures'][0]['signature_id']}/sign")
    assert status == 200, body
    plain = create(server, account, fields=fields, signers=signers)
    canceled = create(server, account, fields=fields, signers=signers)
    assert api(server, account, "POST", f"/signature_request/cancel/{canceled['signature_request_id']}")[0] == 200
    stranger = make_account(server.runtime)
    theirs = create(server, stranger, fields=fields, signers=signers)

    paths = [
        "/v3/account",
        f"/v3/signature_request/{signed['signature_request_id']}",
        f"/v3/signature_request/{plain['signature_request_id']}",
        "/v3/signature_request/list",
        "/v3/signature_request/list?page_size=1",
        "/v3/signature_request/list?page=2&page_size=1",
        f"/v3/signature_request/list?account_id={account.account_id}&page_size=20",
        # the app's own answers (the lane hands them over)
        f"/v3/signature_request/{canceled['signature_request_id']}",  # 410
        f"/v3/signature_request/{theirs['signature_request_id']}",  # 404, another account's
        "/v3/signature_request/no-such-request",  # 404
        "/v3/signature_request/list?page=3&page_size=2",  # an empty page
        "/v3/signature_request/list?query=title:Signed",  # a search
        f"/v3/signature_request/list?account_id={stranger.account_id}",  # 404
        "/v3/signature_request/list?page=0",  # 400
        f"/v3/account?email_address={account.email}",
    ]
    answered_by_lane = 7
    for i, path in enumerate(paths):
        # a key's first request is looked up by the gate and served by the app; the second, of a known key, may be
        # served by the lane
        key = _new_key(server, account, f"key {i}")
        before = len(plans)
        app = _get(server, path, key)
        assert len(plans) == before, path
        lane = _get(server, path, key)
        assert len(plans) == before + (1 if i < answered_by_lane else 0), path
        assert (lane.status, lane.data) == (app.status, app.data), path
        assert lane.headers["Content-Type"] == app.headers["Content-Type"] == "application/json"
        assert int(lane.headers["X-RateLimit-Remaining"]) == int(app.headers["X-RateLimit-Remaining"]) - 1
    assert plans == ["account", "get", "get", "list", "list", "list", "list"]

    # what a user checks in the answers themselves
    known = _new_key(server, account, "reader")
    _get(server, "/v3/account", known)
    one = json.loads(_get(server, f"/v3/signature_request/{signed['signature_request_id']}", known).data)
    sr = one["signature_request"]
    assert sr["metadata"] == {"case": "42", "nested": {"a": [1, 2]}} and sr["title"] == "Signed by one ✓"
    assert sr["cc_email_addresses"] == ["cc@example.com"]
    assert [s["status_code"] for s in sr["signatures"]] == ["signed", "awaiting_signature"]
    assert isinstance(sr["signatures"][0]["signed_at"], int) and isinstance(sr["created_at"], int)
    assert {d["api_id"] for d in sr["response_data"]} == {"sig", "note", "agree"}
    listed = json.loads(_get(server, "/v3/signature_request/list", known).data)
    assert [s["signature_request_id"] for s in listed["signature_requests"]] == [
        plain["signature_request_id"],
        signed["signature_request_id"],
    ]
    assert listed["list_info"] == {"num_pages": 1, "num_results": 2, "page": 1, "page_size": 20}


def test_a_revoked_key_is_refused_by_every_hot_read(server: Server, account: AccountInfo, plans: list[str]) -> None:
    sr = create(server, account, fields=[f("sig", "signature", 0, 72, 420, 200, 40)], signers=[("A", "a@example.com")])
    paths = ["/v3/account", f"/v3/signature_request/{sr['signature_request_id']}", "/v3/signature_request/list"]
    for path in paths:
        assert _get(server, path, account.api_key).status == 200
    assert plans == ["account", "get", "list"]  # the key is known since it created the request
    with server.runtime.unit_of_work() as session:  # revoked by another node, behind this one's back
        session.execute(sa.update(ApiKey).values(revoked_at=utcnow()))
    for path in paths:
        resp = _get(server, path, account.api_key)
        assert resp.status == 401, path
        assert json.loads(resp.data)["error"]["error_name"] == "unauthorized"
    assert plans == ["account", "get", "list"]  # the lane found no valid key and left them to the app


def test_hot_reads_are_counted_under_their_routes(server: Server, account: AccountInfo, plans: list[str]) -> None:
    sr = create(server, account, fields=[f("sig", "signature", 0, 72, 420, 200, 40)], signers=[("A", "a@example.com")])
    for _ in range(3):
        assert _get(server, f"/v3/signature_request/{sr['signature_request_id']}", account.api_key).status == 200
    assert plans == ["get", "get", "get"]
    metrics = urllib3.request("GET", server.url + "/metrics").data.decode()
    line = 'paraph_http_requests_total{method="GET",route="/v3/signature_request/{signature_request_id}",status="200"}'
    assert any(m.startswith(line) and float(m.split()[-1]) >= 3 for m in metrics.splitlines()), metrics[:2000]


def test_what_the_lane_takes() -> None:
    def scope(path: str, method: str = "GET", query: bytes = b"") -> dict[str, Any]:
        return {"type": "http", "method": method, "path": path, "query_string": query}

    hot = match(scope("/v3/signature_request/abc"))
    assert hot is not None and (hot.kind, hot.arg) == ("get", "abc")
    assert match(scope("/v3/signature_request/list")).kind == "list"  # type: ignore[union-attr]
    assert match(scope("/v3/account")).kind == "account"  # type: ignore[union-attr]
    for path, method, query in [
        ("/v3/account", "GET", b"email_address=a@example.com"),
        ("/v3/account", "POST", b""),
        ("/v3/signature_request/files/abc", "GET", b""),
        ("/v3/signature_request/", "GET", b""),
        ("/v3/signature_request/abc", "HEAD", b""),
    ]:
        assert match(scope(path, method, query)) is None, path
    assert list_params(b"") == (1, 20, None)
    assert list_params(b"page=2&page_size=5&account_id=all") == (2, 5, "all")
    for refused in (b"query=x", b"page=1&page=2", b"page=0", b"page_size=101", b"page=x", b"page_size[]=1"):
        assert list_params(refused) is None, refused
    assert supported_url("sqlite://") is None and supported_url("sqlite:///:memory:") is None
    assert supported_url("sqlite:////tmp/paraph.sqlite3") is not None
    assert supported_url("postgresql+psycopg://u@127.0.0.1/db") is not None
    assert supported_url("mysql://u@127.0.0.1/db") is None


def test_an_unreachable_postgresql_hands_every_read_to_the_app() -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    lane = HotReads(f"postgresql+psycopg://paraph@127.0.0.1:{port}/paraph", "http://127.0.0.1", {})
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.disconnect"}

    async def twice() -> list[bool]:
        scope = {"type": "http", "method": "GET", "path": "/v3/account", "query_string": b""}
        hot = match(scope)
        assert hot is not None
        first = await lane.serve(hot, 1, scope, receive, send, [])
        # within RETRY_AFTER_SECONDS the lane does not try again: the app answers at once
        second = await asyncio.wait_for(
            lane.serve(hot, 1, scope, receive, send, []), hot_reads.RETRY_AFTER_SECONDS / 10
        )
        await lane.close()
        return [first, second]

    assert asyncio.run(twice()) == [False, False]
    assert sent == []
