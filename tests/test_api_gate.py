"""Every API surface (/v3, /paraph/v1) authenticates before any other work and counts per API key."""

from __future__ import annotations

import base64
import json
import socket
from typing import Any

import pytest
import urllib3

from paraph.api_gate import RateTable
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


def test_the_table_is_bounded() -> None:
    table: RateTable[int] = RateTable(max_tracked=10)
    for key_id in range(1000):
        table.hit(key_id, now=7200.0)
    assert len(table) == 10
    assert table.hit(999, now=7200.0) == (2, 3 * 3600)
    assert table.hit(999, now=3 * 3600.0) == (1, 4 * 3600)  # a new hour starts afresh
    assert len(table) == 1
