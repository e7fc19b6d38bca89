from __future__ import annotations

from typing import Any

from tests.client import request_json
from tests.conftest import AccountInfo


def call(base: str, method: str, path: str, key: str, **kw: Any) -> tuple[int, Any]:
    return request_json(base, method, path, key, timeout=30, **kw)


def set_callback(base: str, acct: AccountInfo, url: str | None) -> None:
    status, body = call(base, "PUT", "/v3/account", acct.api_key, json={"callback_url": url or ""})
    assert status == 200, body


def events(base: str, acct: AccountInfo, **params: Any) -> dict[str, Any]:
    status, body = call(base, "GET", "/paraph/v1/events", acct.api_key, fields=params)
    assert status == 200, body
    return body  # type: ignore[no-any-return]
