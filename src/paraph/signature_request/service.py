"""Signature request rules after creation: reading (get, list), and the lifecycle (cancel, remind, update,
remove, release_hold). Creating is :mod:`paraph.signature_request.create`, the files
:mod:`paraph.signature_request.files`, where a request stands :mod:`paraph.signature_request.state`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from paraph.audit import AuditTag
from paraph.callbacks.events import EventType
from paraph.db import utcnow
from paraph.errors import (
    BadRequest,
    CancelFailed,
    Deleted,
    InvalidReminder,
    NotFound,
    RemoveFailed,
)
from paraph.mail import tasks as mail_tasks
from paraph.models import Account, SignatureRequest
from paraph.models.signature_request import FilesState, SignerStatus
from paraph.scope import Scope
from paraph.security import new_hex_id
from paraph.signature_request import repository
from paraph.signature_request.create import future_time
from paraph.signature_request.events import emit_event, record
from paraph.signature_request.schemas import (
    SignatureRequestUpdateRequest,
)
from paraph.signature_request.search import compile_query
from paraph.signature_request.tasks import enqueue_cancel

REMIND_INTERVAL = dt.timedelta(hours=1)


def _get(session: Session, account: Account, rid: str, *, lock: bool = False) -> SignatureRequest:
    """The caller's request: 404 when unknown or removed, 410 once canceled."""
    sr = repository.owned(session, account, rid, lock=lock)
    if sr is None or sr.removed_at is not None:
        raise NotFound("Not found.")
    if sr.cancel_requested_at is not None:
        raise Deleted("This signature request has been canceled.")
    return sr


def get(session: Session, account: Account, rid: str) -> SignatureRequest:
    return _get(session, account, rid)


def view(session: Session, account: Account, rid: str) -> SignatureRequest:
    """:func:`get` for a response only: a read-only view of the request (``repository.view_by_public_id``)."""
    sr = repository.view_by_public_id(session, rid)
    if sr is None or sr.account_id != account.id or sr.removed_at is not None:
        raise NotFound("Not found.")
    if sr.cancel_requested_at is not None:
        raise Deleted("This signature request has been canceled.")
    return sr


def list_requests(
    session: Session, account: Account, query: str | None, page: int, page_size: int
) -> tuple[list[SignatureRequest], int]:
    """The caller's requests for a response only: read-only views (``repository.list_visible_views``)."""
    where = compile_query(query, account)
    return repository.list_visible_views(session, account, where, (page - 1) * page_size, page_size)


# -- lifecycle -------------------------------------------------------------------------------------------


def _finished(sr: SignatureRequest) -> bool:
    return sr.is_complete or sr.is_declined


def cancel(session: Session, account: Account, rid: str, *, ip_address: str | None, user_agent: str | None) -> None:
    """Queue the cancelation; the job emits ``signature_request_canceled`` when it is done."""
    sr = _get(session, account, rid, lock=True)
    if sr.is_complete:
        raise CancelFailed("A completed signature request cannot be canceled.")
    if sr.is_declined:
        raise CancelFailed("A declined signature request cannot be canceled.")
    if sr.has_error:
        raise CancelFailed("This signature request was not sent successfully (it has an error).")
    if sr.is_expired:
        raise CancelFailed("An expired signature request cannot be canceled.")
    sr.cancel_requested_at = utcnow()
    record(session, account, rid, AuditTag.API_SIGNATURE_REQUEST_CANCEL_REQUESTED, ip_address, user_agent)
    enqueue_cancel(session, rid)


def remind(
    scope: Scope,
    account: Account,
    rid: str,
    email_address: str,
    name: str | None,
    *,
    ip_address: str | None,
    user_agent: str | None,
) -> SignatureRequest:
    session = scope.session
    sr = _get(session, account, rid, lock=True)
    if sr.is_embedded:
        raise InvalidReminder("Reminders cannot be sent for embedded signature requests.")
    if sr.files_state == FilesState.PROCESSING:
        raise InvalidReminder("The signature request has not been sent yet (its documents are being processed).")
    if sr.has_error or _finished(sr) or sr.is_expired:
        raise InvalidReminder("Reminders can only be sent for signature requests awaiting signatures.")
    matches = [s for s in sr.signers if s.email_address.lower() == email_address.lower()]
    if name is not None:
        matches = [s for s in matches if s.name.strip().lower() == name.strip().lower()]
    if not matches:
        raise BadRequest("email_address: no signer of this request has this email address", error_path="email_address")
    if len(matches) > 1:
        raise BadRequest("name: several signers share this email address; give their name", error_path="name")
    signer = matches[0]
    if signer.status_code != SignerStatus.AWAITING_SIGNATURE:
        raise InvalidReminder(f"This signer cannot be reminded (status {signer.status_code}).")
    now = utcnow()
    last = signer.last_reminded_at
    if last is not None and now - last < REMIND_INTERVAL:
        raise InvalidReminder("A reminder was sent less than an hour ago; try again later.")
    signer.last_reminded_at = now
    record(
        session,
        account,
        rid,
        AuditTag.API_SIGNATURE_REQUEST_REMINDED,
        ip_address,
        user_agent,
        signature_id=signer.signature_id,
        data={"email_address": signer.email_address},
    )
    mail_tasks.remind(session, sr, signer)
    emit_event(scope, sr, EventType.SIGNATURE_REQUEST_REMIND, related_signature_id=signer.signature_id)
    return sr


def update(
    session: Session,
    account: Account,
    rid: str,
    req: SignatureRequestUpdateRequest,
    *,
    ip_address: str | None,
    user_agent: str | None,
) -> SignatureRequest:
    """Change a signer's email (a new signature_id) or name, or the expiry."""
    sr = _get(session, account, rid, lock=True)
    if req.email_address is None and req.name is None and req.expires_at is None:
        raise BadRequest("email_address: give email_address, name or expires_at", error_path="email_address")
    if sr.has_error or _finished(sr) or sr.is_expired:
        raise BadRequest("Only a signature request awaiting signatures can be updated.")
    signer = next((s for s in sr.signers if s.signature_id == req.signature_id), None)
    if signer is None:
        raise BadRequest("signature_id: no signer of this request has this signature_id", error_path="signature_id")
    changes: dict[str, Any] = {}
    if req.email_address is not None or req.name is not None:
        if sr.signature_page_appended:
            raise BadRequest("Signers cannot be updated on a signature request with an appended signature page.")
        if signer.status_code != SignerStatus.AWAITING_SIGNATURE:
            raise BadRequest(f"This signer cannot be updated (status {signer.status_code}).")
    if req.name is not None and req.name.strip() and req.name.strip() != signer.name:
        changes["name"] = [signer.name, req.name.strip()]
        signer.name = req.name.strip()
    if req.email_address is not None and req.email_address.lower() != signer.email_address.lower():
        old_id = signer.signature_id
        repository.delete_tokens(session, signer)
        signer.signature_id = new_hex_id(16)
        changes["email_address"] = [signer.email_address, req.email_address]
        changes["signature_id"] = [old_id, signer.signature_id]
        signer.email_address = req.email_address
        repository.rename_filler(session, sr, old_id, signer.signature_id)
        if not sr.is_embedded and sr.files_state == FilesState.READY:
            # As Dropbox Sign does: the new address gets its own signing link (when it is the signer's turn;
            # the mail job checks the order). Before processing ends, signature_request_sent mails everyone.
            mail_tasks.invite(session, sr, signer)
    if req.expires_at is not None:
        sr.expires_at = future_time(req.expires_at)
        changes["expires_at"] = req.expires_at
    if signer.pin_failures:
        # The sender vouches for the signer again: wrong access codes so far no longer count (a locked
        # signer is unlocked).
        changes["pin_unlocked"] = True
        signer.pin_failures = 0
    record(
        session,
        account,
        rid,
        AuditTag.API_SIGNATURE_REQUEST_UPDATED,
        ip_address,
        user_agent,
        signature_id=signer.signature_id,
        data=changes,
    )
    return sr


def remove(session: Session, account: Account, rid: str, *, ip_address: str | None, user_agent: str | None) -> None:
    sr = _get(session, account, rid, lock=True)
    if not _finished(sr):
        raise RemoveFailed("Only a signature request signed or declined by every party can be removed.")
    sr.removed_at = utcnow()
    record(session, account, rid, AuditTag.API_SIGNATURE_REQUEST_REMOVED, ip_address, user_agent)


def release_hold(
    session: Session, account: Account, rid: str, *, ip_address: str | None, user_agent: str | None
) -> SignatureRequest:
    """Release signers held by the requester (requests prepared from an unclaimed draft with hold_request)."""
    sr = _get(session, account, rid, lock=True)
    held = [s for s in sr.signers if s.status_code == SignerStatus.ON_HOLD_BY_REQUESTER]
    if not held:
        raise BadRequest("This signature request is not on hold.")
    for signer in held:
        signer.status_code = SignerStatus.AWAITING_SIGNATURE
    if not sr.is_embedded and sr.files_state == FilesState.READY:
        mail_tasks.request_sent(session, sr)  # links to whoever may sign now
    record(session, account, rid, AuditTag.API_SIGNATURE_REQUEST_HOLD_RELEASED, ip_address, user_agent)
    return sr
