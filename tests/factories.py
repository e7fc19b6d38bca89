"""Things tests make directly through the services, without the HTTP API: accounts, and callback events."""

from __future__ import annotations

import uuid

from paraph.account import repository as accounts
from paraph.account.service import create_account
from paraph.callbacks.events import EventType
from paraph.callbacks.service import emit
from paraph.runtime import Runtime
from tests.conftest import AccountInfo


def make_account(rt: Runtime, email: str | None = None, password: str = "S3cret-pass") -> AccountInfo:
    email = email or f"dev-{uuid.uuid4().hex[:8]}@example.com"
    with rt.unit_of_work() as session:
        created = create_account(session, rt.keys, email, password=password)
        return AccountInfo(created.account.account_id, email, created.api_key, password)


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
                rt.keys,
                account,
                event_type,
                object_kind="signature_request",
                object_json={"signature_request_id": f"{i:040x}", "title": f"Request {i}", "test_mode": True},
                signature_request_id=f"{i:040x}",
            )
            ids.append(emitted.event.event_id)
    return ids
