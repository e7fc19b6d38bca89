"""What tests use to talk to a running Paraph and to wait on it: HTTP requests with an API key, and polling
until a condition holds."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import urllib3


def request(
    base: str, method: str, path: str, key: str | None = None, *, timeout: float = 60, **kw: Any
) -> urllib3.BaseHTTPResponse:
    """``method base+path`` with ``key`` as the Basic-auth API key (none if ``None``), no retries, and the rest
    of ``kw`` (``json``, ``fields``, ``headers``, ...) handed to urllib3; the API key wins over a caller's
    Authorization header."""
    headers = {**kw.pop("headers", {})}
    if key is not None:
        headers.update(urllib3.make_headers(basic_auth=f"{key}:"))
    return urllib3.request(method, base + path, headers=headers, retries=False, timeout=timeout, **kw)


def request_json(base: str, method: str, path: str, key: str | None = None, **kw: Any) -> tuple[int, Any]:
    """:func:`request`, answering the status and the parsed JSON body (``None`` for an empty body)."""
    resp = request(base, method, path, key, **kw)
    return resp.status, (json.loads(resp.data) if resp.data else None)


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Call ``predicate`` every ``interval`` seconds until it returns something truthy, and return that;
    fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
