"""Every API surface (/v3, /paraph/v1) authenticates before any other work and counts per API key."""

from __future__ import annotations

import base64
import json
import socket
from typing import Any

import pytest
import sqlalchemy as sa
import urllib3

from paraph.api_gate import KnownKeys, RateTable
from paraph.db import utcnow
from paraph.models import ApiKey
from tests.conftest import AccountInfo, Server


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_per_hour": 4}


def _get(server: Server, path: str, authorization: str | None) -> urllib3.BaseHTTPResponse:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return urllib3.request("GET", server.url + path, headers=headers, retries=False, timeout=30)


def _basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_the_limit_is_per_key_across_both_surfaces_whatever_the_password(server: Server, account: AccountInfo) -> None:
    paths = ["/v3/account", "/paraph/v1/callbacks/endpoints", "/v3/account", "/paraph/v1/events"]
    remaining = []
    for i, path in enumerate(paths):
        resp = _get(server, path, _basic(account.api_key, f"ignored-{i}"))
        assert resp.status == 200, resp.data
        remaining.append(int(resp.headers["X-RateLimit-Remaining"]))
    assert remaining == [3, 2, 1, 0]
    for path in ("/v3/account", "/paraph/v1/events"):
        resp = _get(server, path, _basic(account.api_key, "yet-another-password"))
        assert resp.status == 429
        assert json.loads(resp.data)["error"]["error_name"] == "exceeded_rate"


def test_unknown_callers_are_refused_uncounted_and_do_not_spend_a_keys_budget(
    server: Server, account: AccountInfo
) -> None:
    for i in range(30):
        for header in (None, f"Basic junk-{i}", _basic(f"{i:064d}"), f"Bearer {i}"):
            resp = _get(server, "/paraph/v1/events" if i % 2 else "/v3/account", header)
            assert resp.status == 401
            assert json.loads(resp.data)["error"]["error_name"] == "unauthorized"
            assert resp.headers["X-RateLimit-Remaining"] == "4"
    resp = _get(server, "/v3/account", _basic(account.api_key))
    assert resp.status == 200
    assert resp.headers["X-RateLimit-Remaining"] == "3"


def test_an_unknown_caller_gets_401_before_its_body_is_read(server: Server) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /v3/signature_request/send HTTP/1.1\r\nHost: x\r\nAuthorization: Basic bm9wZTo=\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{"
        )
        answer = sock.recv(65536)  # times out (an error) if the server waits for the 100 MB first
    assert answer.startswith(b"HTTP/1.1 401 ")


def test_a_revoked_key_is_refused_at_once_on_every_route_though_reads_remember_it(
    server: Server, account: AccountInfo
) -> None:
    # the gate remembers the key after its first read; its budget is then spent (the next read would be a 429)
    remaining = [_get(server, "/v3/account", _basic(account.api_key)).headers["X-RateLimit-Remaining"] for _ in "1234"]
    assert remaining == ["3", "2", "1", "0"]
    # revoked by another node: straight in the shared database, nothing this process hears of
    with server.runtime.unit_of_work() as session:
        session.execute(
            sa.update(ApiKey)
            .where(ApiKey.lookup == server.runtime.keys.lookup(account.api_key))
            .values(revoked_at=utcnow())
        )
    paths = [
        "/v3/account",
        "/v3/signature_request/list?page_size=20",
        "/v3/signature_request/list?page=zero",  # refused before the handler's transaction
        "/v3/no/such/route",  # no handler at all
        "/paraph/v1/events",
    ]
    for path in paths:
        resp = _get(server, path, _basic(account.api_key))
        assert resp.status == 401, (path, resp.data)
        error = json.loads(resp.data)["error"]
        assert (error["error_name"], error["error_msg"]) == (
            "unauthorized",
            "Unauthorized user. The API key is not valid.",
        )
        assert resp.headers["X-RateLimit-Remaining"] == "4"


def test_known_keys_hold_no_key_and_are_bounded() -> None:
    known = KnownKeys(max_size=10)
    for key_id in range(100):
        known.remember(f"lookup-{key_id}", f"key-{key_id}", key_id)
    assert len(known) == 10
    assert known.find("lookup-99", "key-99") == 99
    assert known.find("lookup-99", "key-98") is None  # the value is compared, not only the lookup
    assert known.find("lookup-0", "key-0") is None  # dropped
    assert all("key-" not in repr(v) for v in known._rows.values())


def test_the_table_is_bounded() -> None:
    table: RateTable[int] = RateTable(max_tracked=10)
    for key_id in range(1000):
        table.hit(key_id, now=7200.0)
    assert len(table) == 10
    assert table.hit(999, now=7200.0) == (2, 3 * 3600)
    assert table.hit(999, now=3 * 3600.0) == (1, 4 * 3600)  # a new hour starts afresh
    assert len(table) == 1
