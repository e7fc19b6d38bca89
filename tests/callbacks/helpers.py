from __future__ import annotations

from typing import Any

from paraph.account import repository as accounts
from paraph.callbacks.events import EventType
from paraph.callbacks.service import emit
from paraph.runtime import Runtime
from tests.client import request_json
from tests.conftest import AccountInfo


def call(base: str, method: str, path: str, key: str, **kw: Any) -> tuple[int, Any]:
    return request_json(base, method, path, key, timeout=30, **kw)


def set_callback(base: str, acct: AccountInfo, url: str | None) -> None:
    status, body = call(base, "PUT", "/v3/account", acct.api_key, json={"callback_url": url or ""})
    assert status == 200, body


def emit_events(
    rt: Runtime, acct: AccountInfo, n: int, event_type: EventType = EventType.SIGNATURE_REQUEST_SENT
) -> list[str]:
    """Service-level emits, as signature requests will make them, each its own transaction."""
    ids = []
    for i in range(n):
        with rt.unit_of_work() as session:
            account = accounts.by_account_id(session, acct.account_id)
            assert account is not None
            emitted = emit(
                session,
                account,
                event_type,
                object_kind="signature_request",
                object_json={"signature_request_id": f"{i:040x}", "title": f"Request {i}", "test_mode": True},
                signature_request_id=f"{i:040x}",
            )
            ids.append(emitted.event.event_id)
    return ids


def events(base: str, acct: AccountInfo, **params: Any) -> dict[str, Any]:
    status, body = call(base, "GET", "/paraph/v1/events", acct.api_key, fields=params)
    assert status == 200, body
    return body  # type: ignore[no-any-return]
