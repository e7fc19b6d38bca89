"""The signature request as callbacks see it: :func:`serialize` (the API's ``signature_request`` object),
:func:`emit_event` (a callback event about a request) and :func:`record` (the audit event of an API call on
a request).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from paraph import audit
from paraph.audit import AuditTag
from paraph.callbacks import service as callbacks
from paraph.callbacks.events import EventType
from paraph.models import Account, SignatureRequest
from paraph.scope import Scope
from paraph.signature_request.schemas import (
    serialize_signature_request,
)


def record(
    session: Session,
    account: Account,
    rid: str,
    tag: AuditTag,
    ip_address: str | None,
    user_agent: str | None,
    *,
    signature_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """The audit event of an API call on a request (an ``api:signature_request:*`` tag), by the account."""
    audit.record(
        session,
        tag,
        account_id=account.id,
        signature_request_id=rid,
        signature_id=signature_id,
        actor_email=account.email_address,
        ip_address=ip_address,
        user_agent=user_agent,
        data=data,
    )


def serialize(scope: Scope, sr: SignatureRequest) -> dict[str, Any]:
    return serialize_signature_request(sr, scope.settings.base_url)


def emit_event(scope: Scope, sr: SignatureRequest, event: EventType, **kw: Any) -> None:
    callbacks.emit(
        scope.session,
        scope.keys,
        sr.account,
        event,
        api_app=sr.api_app,
        object_kind="signature_request",
        object_json=serialize(scope, sr),
        signature_request_id=sr.signature_request_id,
        **kw,
    )
