"""Edits (``edit``, ``edit_embedded``, ``edit_with_template``, ``edit_embedded_with_template``): a request that
nobody has signed is replaced, in one transaction, by a new version made by the create code
(:func:`paraph.signature_request.create.create` or :func:`paraph.template.send.create`) under the same
``signature_request_id``. The old version's rows go (its signers, documents, fields and sign URL tokens, by
their foreign keys' ``ON DELETE CASCADE``), so its sign URLs and signature_ids stop working; the new version
is processed, emits ``signature_request_sent`` and mails its signers as a new request does. Its events and
audit trail stay under the request's id, the creation time and bulk send job are kept.

A request that is complete, declined, canceled, expired or signed by any signer cannot be edited: 400
``bad_request`` naming why (as ``signature_request/update`` refuses); one whose files are still being processed
is a 409 ``conflict``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from paraph.audit import AuditTag
from paraph.errors import BadRequest, Conflict, NotFound
from paraph.models import Account, SignatureRequest
from paraph.models.signature_request import FilesState, SignerStatus
from paraph.scope import Scope
from paraph.signature_request import repository
from paraph.signature_request.events import record


@dataclass(frozen=True, slots=True)
class Replaced:
    """What the new version keeps of the one it replaces."""

    signature_request_id: str
    created_at: dt.datetime
    bulk_send_job_id: str | None
    bulk_row: int | None

    def keep(self, sr: SignatureRequest) -> None:
        sr.created_at = self.created_at
        sr.bulk_send_job_id, sr.bulk_row = self.bulk_send_job_id, self.bulk_row


def _why_not(sr: SignatureRequest) -> str | None:
    if sr.cancel_requested_at is not None:
        return "it was canceled"
    if sr.is_complete:
        return "it is complete"
    if sr.is_declined:
        return "it was declined"
    if sr.is_expired:
        return "it has expired"
    if any(s.status_code == SignerStatus.SIGNED for s in sr.signers):
        return "a signer has signed it"
    return None


def replace(
    scope: Scope,
    account: Account,
    signature_request_id: str,
    *,
    embedded: bool,
    ip_address: str | None,
    user_agent: str | None,
) -> Replaced:
    """Check that the caller's request may be edited, and delete its current version (in the caller's
    transaction: the new version is inserted in it before it commits)."""
    session = scope.session
    sr = repository.owned(session, account, signature_request_id, lock=True)
    if sr is None or sr.removed_at is not None:
        raise NotFound("Not found.", error_path="signature_request_id")
    why = _why_not(sr)
    if why is not None:
        raise BadRequest(f"This signature request cannot be edited: {why}.")
    if sr.files_state == FilesState.PROCESSING:
        raise Conflict("This signature request's files are still being processed; edit it once it is sent.")
    if sr.is_embedded != embedded:
        other = "edit_embedded" if sr.is_embedded else "edit"
        raise BadRequest(f"This signature request is {'' if sr.is_embedded else 'not '}embedded: use {other}.")
    kept = Replaced(sr.signature_request_id, sr.created_at, sr.bulk_send_job_id, sr.bulk_row)
    record(
        session,
        account,
        sr.signature_request_id,
        AuditTag.API_SIGNATURE_REQUEST_UPDATED,
        ip_address,
        user_agent,
        data={"edited": True, "replaced_signers": [s.signature_id for s in sr.signers]},
    )
    for f in sr.response_fields:
        if f in session:
            session.expunge(f)
    session.expunge(sr)  # and its signers and documents (cascade)
    session.execute(sa.delete(SignatureRequest).where(SignatureRequest.id == sr.id))
    return kept
