"""The one way to write an audit event. Rows are append-only; the audit trail page is rendered from them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from paraph.models import AuditEvent


def record(
    session: Session,
    tag: str,
    *,
    account_id: int | None = None,
    signature_request_id: str | None = None,
    signature_id: str | None = None,
    actor_name: str | None = None,
    actor_email: str | None = None,
    ip_address: str | None = None,
    user_agent: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    if tag.count(":") != 2:
        raise ValueError(f"audit tags read source:subject:action, got {tag!r}")
    event = AuditEvent(
        tag=tag,
        account_id=account_id,
        signature_request_id=signature_request_id,
        signature_id=signature_id,
        actor_name=actor_name,
        actor_email=actor_email,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:1024] or None,
        data=data or {},
    )
    session.add(event)
    return event
