"""The one way to write an audit event. Rows are append-only; the audit trail page is rendered from them.

Every tag is a member of :class:`AuditTag` (``source:subject:action``, warehouse's ``EventTagEnum``); the
values are stored in ``audit_events.tag`` and read back by the trail and the timeline: never change one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from paraph.models import AuditEvent


class AuditTag(StrEnum):
    """Every audit tag Paraph records: who caused it (api, cli, web, signer, system), about what, and what."""

    API_ACCOUNT_UPDATED = "api:account:updated"
    API_API_APP_CREATED = "api:api_app:created"
    API_API_APP_UPDATED = "api:api_app:updated"
    API_API_APP_DELETED = "api:api_app:deleted"
    API_EMBEDDED_SIGN_URL_CREATED = "api:embedded:sign_url_created"
    API_SIGNATURE_REQUEST_CREATED = "api:signature_request:created"
    API_SIGNATURE_REQUEST_REMINDED = "api:signature_request:reminded"
    API_SIGNATURE_REQUEST_UPDATED = "api:signature_request:updated"
    API_SIGNATURE_REQUEST_CANCEL_REQUESTED = "api:signature_request:cancel_requested"
    API_SIGNATURE_REQUEST_HOLD_RELEASED = "api:signature_request:hold_released"
    API_SIGNATURE_REQUEST_REMOVED = "api:signature_request:removed"
    # A signer's action (or an expiry) driven by the test-mode simulation API (/paraph/v1/test/*), not a person.
    API_SIGNATURE_REQUEST_SIMULATED = "api:signature_request:simulated"
    API_TEMPLATE_CREATED = "api:template:created"
    API_TEMPLATE_UPDATED = "api:template:updated"
    API_TEMPLATE_FILES_UPDATED = "api:template:files_updated"
    API_TEMPLATE_SHARED = "api:template:shared"
    API_TEMPLATE_UNSHARED = "api:template:unshared"
    API_TEMPLATE_DELETED = "api:template:deleted"

    # Accounts made over the API are recorded as cli:account:created too (kept: the stored value never changes).
    CLI_ACCOUNT_CREATED = "cli:account:created"
    CLI_ACCOUNT_PASSWORD_CHANGED = "cli:account:password_changed"  # noqa: S105 (a tag, not a password)

    WEB_ACCOUNT_PASSWORD_CHANGED = "web:account:password_changed"  # noqa: S105 (a tag, not a password)
    WEB_API_KEY_CREATED = "web:api_key:created"
    WEB_API_KEY_MADE_PRIMARY = "web:api_key:made_primary"
    WEB_API_KEY_REVOKED = "web:api_key:revoked"
    WEB_API_KEY_REVEALED = "web:api_key:revealed"
    WEB_SESSION_CREATED = "web:session:created"
    WEB_SESSION_REFUSED = "web:session:refused"

    SIGNER_SIGNATURE_REQUEST_VIEWED = "signer:signature_request:viewed"
    SIGNER_SIGNATURE_REQUEST_SIGNED = "signer:signature_request:signed"
    SIGNER_SIGNATURE_REQUEST_DECLINED = "signer:signature_request:declined"
    SIGNER_SIGNATURE_REQUEST_REASSIGNED = "signer:signature_request:reassigned"
    # A try of the signer's access code (PIN): the right one, or a wrong one (data: failures, locked).
    SIGNER_SIGNATURE_REQUEST_PIN_VERIFIED = "signer:signature_request:pin_verified"
    SIGNER_SIGNATURE_REQUEST_PIN_FAILED = "signer:signature_request:pin_failed"

    SYSTEM_SIGNATURE_REQUEST_SENT = "system:signature_request:sent"
    SYSTEM_SIGNATURE_REQUEST_FAILED = "system:signature_request:failed"
    SYSTEM_SIGNATURE_REQUEST_CANCELED = "system:signature_request:canceled"
    SYSTEM_SIGNATURE_REQUEST_EXPIRED = "system:signature_request:expired"
    SYSTEM_SIGNATURE_REQUEST_COMPLETED = "system:signature_request:completed"
    SYSTEM_SIGNATURE_REQUEST_FINALIZED = "system:signature_request:finalized"
    SYSTEM_TEMPLATE_CREATED = "system:template:created"
    SYSTEM_TEMPLATE_FAILED = "system:template:failed"
    # A mail sent about a request, one per single-mail job kind (paraph.mail.tasks maps each kind to its tag).
    SYSTEM_MAIL_SIGNER_INVITE = "system:mail:signer_invite"
    SYSTEM_MAIL_REMIND = "system:mail:remind"
    SYSTEM_MAIL_FINAL_COPY = "system:mail:final_copy"
    SYSTEM_MAIL_EXPIRED_NOTICE = "system:mail:expired_notice"


def record(
    session: Session,
    tag: AuditTag,
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
    event = AuditEvent(
        tag=AuditTag(tag).value,  # a free string is refused here too, not only by mypy
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
