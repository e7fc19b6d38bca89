"""Signing rules: what a signer's submit, decline or reassign changes. Who may open the page or act at all
(tokens, links, the request's and the signer's state) is :mod:`paraph.signing.access`.

Every change is one transaction, with its audit event and its callbacks (``object_json`` is the request as
the API serializes it at that moment). The last signature queues the final document job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from paraph import audit
from paraph.audit import AuditTag
from paraph.callbacks.events import EventType
from paraph.db import utcnow
from paraph.i18n import N_
from paraph.mail import tasks as mail_tasks
from paraph.models import RequestField, SignatureImage, SignatureRequest, Signer
from paraph.models.signature_request import SignerStatus
from paraph.scope import Scope
from paraph.security import new_hex_id, verify_pin
from paraph.signature_request import repository as requests
from paraph.signature_request.events import emit_event
from paraph.signing import attachments, order, repository, rules
from paraph.signing.access import (
    PIN_TRIES,
    Access,
    Reason,
    SigningProblem,
    authorize,
    pin_locked,
    pin_pass,
    record,
    signer_problem,
)
from paraph.signing.images import PreparedImage
from paraph.signing.schemas import SubmitBody
from paraph.signing.tasks import enqueue_finalize
from paraph.wire.validators import check_email

SIGNABLE_TYPES = rules.SIGNER_TYPES


# -- the access code ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PinOutcome:
    """A PIN try: the pass it earned, or how many tries are left (0: the signer is locked)."""

    pin_pass: str | None
    tries_left: int


def check_pin(scope: Scope, signature_id: str, token: str, pin: str, *, ip: str | None, ua: str | None) -> PinOutcome:
    """One try of the signer's access code, recorded (with the IP) whatever its outcome; wrong tries are
    counted with the request locked, and :data:`PIN_TRIES` of them lock the signer. A locked signer's tries
    are refused without checking them. The caller commits the outcome even when the PIN was wrong."""
    access = _act(scope, signature_id, token, None, pin_step=True)
    sr, signer = access.sr, access.signer
    if signer.pin_hash is None:
        return PinOutcome(None, PIN_TRIES)
    if not pin_locked(signer) and verify_pin(signer.pin_hash, pin):
        signer.pin_failures = 0
        record(scope.session, sr, signer, AuditTag.SIGNER_SIGNATURE_REQUEST_PIN_VERIFIED, ip, ua)
        return PinOutcome(pin_pass(scope.keys, signer, token), PIN_TRIES)
    was_locked = pin_locked(signer)
    if not was_locked:
        signer.pin_failures += 1
    left = max(0, PIN_TRIES - signer.pin_failures)
    data = {"failures": signer.pin_failures, "locked": left == 0}
    if was_locked:
        data["refused"] = True
    record(scope.session, sr, signer, AuditTag.SIGNER_SIGNATURE_REQUEST_PIN_FAILED, ip, ua, data=data)
    return PinOutcome(None, left)


# -- attachments ---------------------------------------------------------------------------------------------


def upload_attachment(
    scope: Scope,
    signature_id: str,
    token: str,
    index: int,
    data: bytes,
    filename: str,
    *,
    pin: str | None,
) -> dict[str, Any]:
    """Store the file a signer attaches for ``attachments[index]`` (one asked of them); again replaces it."""
    access = _act(scope, signature_id, token, pin)
    sr, signer = access.sr, access.signer
    mine = dict(attachments.of_signer(sr, signer))
    if index not in mine:
        raise SigningProblem(Reason.FORM, N_("No such attachment is asked of you."), "form")
    try:
        kind = attachments.check_file(data)
    except attachments.AttachmentRefused as exc:
        key = f"attachment-{index}"
        raise SigningProblem(Reason.FORM, str(exc), "form", errors={key: str(exc)}) from None
    key = attachments.storage_key(sr, mine[index])
    scope.storage.put(key, data)
    return attachments.record_upload(
        sr,
        index,
        key=key,
        filename=attachments.safe_filename(filename, kind),
        kind=kind,
        size=len(data),
        signature_id=signer.signature_id,
    )


# -- acting --------------------------------------------------------------------------------------------------


def _act(scope: Scope, signature_id: str, token: str, pin: str | None, *, pin_step: bool = False) -> Access:
    access = authorize(scope, signature_id, token, pin=pin, lock=True, pin_step=pin_step)
    problem = signer_problem(access.sr, access.signer)
    if problem is not None:
        raise problem
    return access


def _consume(access: Access, now: dt.datetime) -> None:
    if access.token_row is not None:
        access.token_row.used_at = now


def allowed_methods(sr: SignatureRequest) -> list[str]:
    """Signature methods the request allows (``signing_options``), the default first; without options all
    of them, typing first (the one method that works from a keyboard alone)."""
    options = sr.signing_options or {}
    allowed = [m for m in ("draw", "type", "upload") if options.get(m)]
    if not allowed:
        return ["type", "draw", "upload"]
    default = options.get("default_type")
    if default in ("draw", "type", "upload") and default not in allowed:
        allowed.insert(0, str(default))
    return allowed


def signer_fields(fields: list[RequestField], signer: Signer) -> list[RequestField]:
    mine = str(signer.signer_index)
    return [f for f in fields if f.signer == mine and f.type in SIGNABLE_TYPES]


def _stored_values(fields: list[RequestField]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        value = f.value
        if value is None and f.type in ("text-merge", "checkbox-merge", "hyperlink"):
            value = f.spec.get("is_checked") if f.type == "checkbox-merge" else f.spec.get("content")
        out[f.api_id] = value
    return out


def submit(
    scope: Scope,
    signature_id: str,
    token: str,
    body: SubmitBody,
    images: dict[str, PreparedImage],
    *,
    pin: str | None,
    ip: str | None,
    ua: str | None,
) -> SignatureRequest:
    """Record a signer's values and signature; the last signer completes the request."""
    session = scope.session
    access = _act(scope, signature_id, token, pin)
    sr, signer = access.sr, access.signer
    methods = allowed_methods(sr)
    for image in images.values():
        if image.method not in methods:
            raise SigningProblem(
                Reason.FORM,
                f"This request does not allow a {image.method} signature.",
                "form",
                errors={image.kind: "refused"},
            )
    fields = repository.fields_of(session, sr)
    mine = signer_fields(fields, signer)
    now = utcnow()
    date_value = rules.date_signed(now, (sr.field_options or {}).get("date_format"))
    checked = rules.check_submission(
        [f.spec for f in fields],
        mine={f.api_id for f in mine},
        stored=_stored_values(fields),
        submitted=body.values,
        groups=list(sr.form_field_groups or []),
        rules=list(sr.form_field_rules or []),
        adopted=set(images),
        date_value=date_value,
    )
    if checked.errors:
        raise SigningProblem(Reason.FORM, N_("Some fields need your attention."), "form", errors=checked.errors)
    missing = attachments.missing_required(sr, signer)
    if missing:
        raise SigningProblem(Reason.FORM, " ".join(missing.values()), "form", errors=missing)

    image_fields: list[str] = []
    for f in mine:
        if f.api_id not in checked.values:  # hidden by a rule: left empty
            f.value, f.filled_at, f.filled_by_signature_id = None, None, None
            continue
        value = checked.values[f.api_id]
        if f.type in rules.IMAGE_TYPES:
            adopted = images.get(f.type) if value else None
            value = (adopted.text or signer.name or signer.email_address) if adopted else None
            if adopted is not None:
                image_fields.append(f.api_id)
        f.value = value
        f.filled_at = now
        f.filled_by_signature_id = signer.signature_id
    repository.replace_images(session, sr, image_fields)
    stored_keys: set[str] = set()
    for f in mine:
        if f.api_id in image_fields:
            image = images[f.type]
            key = image.storage_key(sr.signature_request_id)
            if key not in stored_keys:
                scope.storage.put(key, image.png)
                stored_keys.add(key)
            session.add(
                SignatureImage(
                    signature_request_id=sr.id,
                    api_id=f.api_id,
                    signature_id=signer.signature_id,
                    kind=f.type,
                    method=image.method,
                    storage_key=key,
                )
            )

    invited_before = {s.signature_id for s in order.signable_now(sr)}
    signer.status_code = SignerStatus.SIGNED
    signer.signed_at = now
    _consume(access, now)
    record(
        session,
        sr,
        signer,
        AuditTag.SIGNER_SIGNATURE_REQUEST_SIGNED,
        ip,
        ua,
        data={"fields": len(checked.values), "methods": sorted({i.method for i in images.values()})},
    )
    session.flush()
    requests.reload_response_fields(session, sr)
    emit_event(scope, sr, EventType.SIGNATURE_REQUEST_SIGNED, related_signature_id=signer.signature_id)
    if order.all_signed(sr):
        sr.is_complete = True
        sr.completed_at = now
        audit.record(
            session,
            AuditTag.SYSTEM_SIGNATURE_REQUEST_COMPLETED,
            account_id=sr.account_id,
            signature_request_id=sr.signature_request_id,
        )
        emit_event(scope, sr, EventType.SIGNATURE_REQUEST_ALL_SIGNED)
        enqueue_finalize(session, sr)
    elif not sr.is_embedded:
        for s in order.signable_now(sr):
            if s.signature_id not in invited_before:
                mail_tasks.invite(session, sr, s)
    return sr


def decline(
    scope: Scope, signature_id: str, token: str, reason: str, *, pin: str | None, ip: str | None, ua: str | None
) -> SignatureRequest:
    session = scope.session
    access = _act(scope, signature_id, token, pin)
    sr, signer = access.sr, access.signer
    if not sr.allow_decline:
        raise SigningProblem(Reason.NOT_ALLOWED, N_("This signature request cannot be declined."), "form")
    reason = reason.strip()
    if not reason:
        raise SigningProblem(
            Reason.FORM, N_("Say why you decline."), "form", errors={"reason": N_("Say why you decline.")}
        )
    now = utcnow()
    signer.status_code = SignerStatus.DECLINED
    signer.decline_reason = reason
    sr.is_declined = True
    _consume(access, now)
    record(session, sr, signer, AuditTag.SIGNER_SIGNATURE_REQUEST_DECLINED, ip, ua, data={"reason": reason})
    emit_event(
        scope,
        sr,
        EventType.SIGNATURE_REQUEST_DECLINED,
        related_signature_id=signer.signature_id,
        event_message=reason,
    )
    return sr


def reassign(
    scope: Scope,
    signature_id: str,
    token: str,
    name: str,
    email_address: str,
    reason: str,
    *,
    pin: str | None,
    ip: str | None,
    ua: str | None,
) -> Signer:
    """Hand the signer's place to someone else: a new signature_id, the old links dead."""
    session = scope.session
    access = _act(scope, signature_id, token, pin)
    sr, signer = access.sr, access.signer
    if not sr.allow_reassign:
        raise SigningProblem(Reason.NOT_ALLOWED, N_("This signature request cannot be reassigned."), "form")
    errors: dict[str, str] = {}
    name = " ".join(name.split())
    if not name:
        errors["name"] = N_("Enter the new signer's name.")
    try:
        email_address = check_email(email_address)
    except ValueError:
        errors["email_address"] = N_("Enter the new signer's email address.")
    if not errors and email_address.lower() == signer.email_address.lower():
        errors["email_address"] = N_("Enter someone else's email address.")
    if errors:
        raise SigningProblem(Reason.FORM, N_("Some fields need your attention."), "form", errors=errors)
    _consume(access, utcnow())
    old_id, old_name, old_email = signer.signature_id, signer.name, signer.email_address
    requests.delete_tokens(session, signer)
    signer.signature_id = new_hex_id(16)
    signer.name = name
    signer.email_address = email_address
    signer.reassigned_from = old_id
    signer.reassigned_by = old_email
    signer.reassignment_reason = reason.strip() or None
    signer.last_viewed_at = None
    signer.pin_failures = 0
    requests.rename_filler(session, sr, old_id, signer.signature_id)
    audit.record(
        session,
        AuditTag.SIGNER_SIGNATURE_REQUEST_REASSIGNED,
        account_id=sr.account_id,
        signature_request_id=sr.signature_request_id,
        signature_id=old_id,
        actor_name=old_name,
        actor_email=old_email,
        ip_address=ip,
        user_agent=ua,
        data={
            "to_signature_id": signer.signature_id,
            "to_name": name,
            "to_email_address": email_address,
            "reason": reason.strip(),
        },
    )
    session.flush()
    emit_event(
        scope,
        sr,
        EventType.SIGNATURE_REQUEST_REASSIGNED,
        related_signature_id=signer.signature_id,
        event_message=reason.strip() or None,
    )
    if not sr.is_embedded:
        if order.may_sign_now(sr, signer):
            mail_tasks.invite(session, sr, signer)
    return signer
