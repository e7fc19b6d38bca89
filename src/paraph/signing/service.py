"""Signing rules: who may open the page, submit, decline or reassign, and what each changes.

Access: an embedded request is signed through its sign URL token (``paraph.embedded.service``); a request
sent by mail through the MAC link of ``paraph.signing.access``. A sign URL token is checked for expiry when
the page opens; the page then keeps working with it for :data:`SESSION_GRACE` past ``expires_at`` (a signer
who opened the page in time may take a while to fill it in). It is consumed when the signer signs, declines
or reassigns; reloading the page before that works (the token is not consumed by viewing).

Every change is one transaction, with its audit event and its callbacks (``object_json`` is the request as
the API serializes it at that moment). The last signature queues the final document job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from paraph import audit
from paraph.callbacks.events import EventType
from paraph.db import utcnow
from paraph.embedded.service import TOKEN_PROBLEMS, redeem_sign_url, token_problem
from paraph.models import RequestField, SignatureImage, SignatureRequest, Signer, SignUrlToken
from paraph.models.signature_request import SignerStatus
from paraph.runtime import runtime_of
from paraph.security import new_hex_id
from paraph.signature_request import repository as requests
from paraph.signature_request.events import emit_event
from paraph.signature_request.state import api_error_for, page_state
from paraph.signing import order, repository, rules
from paraph.signing.access import mail_token_ok
from paraph.signing.images import PreparedImage
from paraph.signing.schemas import SubmitBody
from paraph.signing.tasks import enqueue_finalize
from paraph.wire.validators import check_email
from paraph.worker import jobs

SESSION_GRACE = dt.timedelta(hours=2)
SIGNABLE_TYPES = rules.SIGNER_TYPES


class SigningProblem(Exception):
    """Why the signer cannot go on. ``state`` tells the page what to show; ``status`` is the HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        state: str,
        *,
        signer: Signer | None = None,
        sr: SignatureRequest | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.state = state
        self.signer = signer
        self.sr = sr
        self.errors = errors or {}


@dataclass(slots=True)
class Access:
    signer: Signer
    sr: SignatureRequest
    token_row: SignUrlToken | None


def _state_problem(sr: SignatureRequest, signer: Signer) -> SigningProblem | None:
    problem, state = api_error_for(sr), page_state(sr)
    if problem is None or state is None:
        return None
    return SigningProblem(problem.status_code, problem.error_msg, state, signer=signer, sr=sr)


def _signer_problem(sr: SignatureRequest, signer: Signer) -> SigningProblem | None:
    """Why this signer cannot sign now (their status, their group, the signing order), or None."""
    if signer.status_code == SignerStatus.SIGNED:
        return SigningProblem(409, "You have already signed this document.", "signed", signer=signer, sr=sr)
    if signer.status_code == SignerStatus.DECLINED:
        return SigningProblem(409, "You declined to sign this document.", "declined", signer=signer, sr=sr)
    if signer.status_code != SignerStatus.AWAITING_SIGNATURE:
        return SigningProblem(
            409, f"This signer cannot sign (status {signer.status_code}).", "closed", signer=signer, sr=sr
        )
    if order.group_done(sr, signer.signer_index):
        return SigningProblem(409, "Another member of your group has already signed.", "signed", signer=signer, sr=sr)
    before = order.waiting_on(sr, signer)
    if before:
        names = ", ".join(s.name or s.email_address for s in before)
        return SigningProblem(
            409, f"It is not your turn yet: waiting for {names} to sign first.", "waiting", signer=signer, sr=sr
        )
    return None


# -- opening the page ------------------------------------------------------------------------------------


def host_allowed(host: str, domains: list[str]) -> bool:
    """Whether ``host`` is one of the app's domains or a subdomain of one."""
    host = host.lower().rstrip(".")
    for d in domains:
        d = d.strip().lower().rstrip(".")
        if d and (host == d or host.endswith("." + d)):
            return True
    return False


def open_embedded(
    session: Session,
    signature_id: str,
    token: str,
    client_id: str | None,
    *,
    parent_host: str | None,
    skip_verification: bool,
    ip: str | None,
    ua: str | None,
) -> Access:
    """Open an embedded sign URL (not consuming it). Used or expired tokens emit ``sign_url_invalid``.

    The parent page must be on one of the API app's domains, unless the request is in test mode and the
    library asked to skip domain verification (``skip_domain_verification=1``, which ``testMode`` sets).
    """
    redeemed = redeem_sign_url(session, signature_id, token, consume=False)
    signer, sr = redeemed.signer, redeemed.signature_request
    if redeemed.state is not None or signer is None or sr is None:
        message = redeemed.problem or TOKEN_PROBLEMS["invalid"]
        if sr is None or signer is None:
            raise SigningProblem(404, message, "invalid")
        if redeemed.state in ("used", "expired"):
            raise SigningProblem(410, message, redeemed.state, signer=signer, sr=sr)
        raise _state_problem(sr, signer) or SigningProblem(409, message, "closed", signer=signer, sr=sr)
    if sr.api_app is None or not client_id or client_id != sr.api_app.client_id:
        raise SigningProblem(
            403, "This sign URL belongs to another API app (client_id does not match).", "invalid", signer=signer, sr=sr
        )
    if not (sr.test_mode and skip_verification):
        domains = list(sr.api_app.domains or [])
        if parent_host is None or not host_allowed(parent_host, domains):
            where = parent_host or "an unknown page"
            raise SigningProblem(
                403,
                f"This document cannot be signed on {where}: it is not one of the API app's domains.",
                "domain",
                signer=signer,
                sr=sr,
            )
    problem = _signer_problem(sr, signer)
    if problem is not None:
        raise problem
    _viewed(session, sr, signer, ip=ip, ua=ua)
    return Access(signer, sr, None)


def open_mailed(session: Session, signature_id: str, token: str, *, ip: str | None, ua: str | None) -> Access:
    rt = runtime_of(session)
    found = (
        repository.signer_and_request(session, signature_id) if mail_token_ok(rt.keys, signature_id, token) else None
    )
    if found is None or found[1].is_embedded:
        raise SigningProblem(404, TOKEN_PROBLEMS["invalid"], "invalid")
    signer, sr = found
    problem = _state_problem(sr, signer) or _signer_problem(sr, signer)
    if problem is not None:
        raise problem
    _viewed(session, sr, signer, ip=ip, ua=ua)
    return Access(signer, sr, None)


def _record(
    session: Session,
    sr: SignatureRequest,
    signer: Signer,
    action: str,
    ip: str | None,
    ua: str | None,
    *,
    data: dict[str, Any] | None = None,
) -> None:
    """The audit event of a signer's action (``signer:signature_request:<action>``)."""
    audit.record(
        session,
        f"signer:signature_request:{action}",
        account_id=sr.account_id,
        signature_request_id=sr.signature_request_id,
        signature_id=signer.signature_id,
        actor_name=signer.name,
        actor_email=signer.email_address,
        ip_address=ip,
        user_agent=ua,
        data=data,
    )


def _viewed(session: Session, sr: SignatureRequest, signer: Signer, *, ip: str | None, ua: str | None) -> None:
    first = signer.last_viewed_at is None
    signer.last_viewed_at = utcnow()
    _record(session, sr, signer, "viewed", ip, ua)
    if first:
        emit_event(session, sr, EventType.SIGNATURE_REQUEST_VIEWED, related_signature_id=signer.signature_id)


# -- acting --------------------------------------------------------------------------------------------------


def authorize(session: Session, signature_id: str, token: str, *, lock: bool = False) -> Access:
    """The signer behind an action of the page (submit, decline, reassign, page images)."""
    rt = runtime_of(session)
    found = repository.signer_and_request(session, signature_id, lock=lock)
    if found is None:
        raise SigningProblem(404, TOKEN_PROBLEMS["invalid"], "invalid")
    signer, sr = found
    row: SignUrlToken | None = None
    if sr.is_embedded:
        row = requests.token_by_lookup(session, rt.keys.lookup(token)) if token else None
        state = token_problem(row, signature_id, grace=SESSION_GRACE)
        if state == "invalid":
            raise SigningProblem(404, TOKEN_PROBLEMS[state], state)
        if state is not None:
            raise SigningProblem(410, TOKEN_PROBLEMS[state], state, signer=signer, sr=sr)
    elif not mail_token_ok(rt.keys, signature_id, token):
        raise SigningProblem(404, TOKEN_PROBLEMS["invalid"], "invalid")
    problem = _state_problem(sr, signer)
    if problem is not None:
        raise problem
    return Access(signer, sr, row)


def _act(session: Session, signature_id: str, token: str) -> Access:
    access = authorize(session, signature_id, token, lock=True)
    problem = _signer_problem(access.sr, access.signer)
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
    session: Session,
    signature_id: str,
    body: SubmitBody,
    images: dict[str, PreparedImage],
    *,
    ip: str | None,
    ua: str | None,
) -> SignatureRequest:
    """Record a signer's values and signature; the last signer completes the request."""
    rt = runtime_of(session)
    access = _act(session, signature_id, body.token)
    sr, signer = access.sr, access.signer
    methods = allowed_methods(sr)
    for image in images.values():
        if image.method not in methods:
            raise SigningProblem(
                422, f"This request does not allow a {image.method} signature.", "form", errors={image.kind: "refused"}
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
        raise SigningProblem(422, "Some fields need your attention.", "form", errors=checked.errors)

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
                rt.storage.put(key, image.png)
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
    _record(
        session,
        sr,
        signer,
        "signed",
        ip,
        ua,
        data={"fields": len(checked.values), "methods": sorted({i.method for i in images.values()})},
    )
    session.flush()
    session.expire(sr, ["response_fields"])
    emit_event(session, sr, EventType.SIGNATURE_REQUEST_SIGNED, related_signature_id=signer.signature_id)
    if order.all_signed(sr):
        sr.is_complete = True
        sr.completed_at = now
        audit.record(
            session,
            "system:signature_request:completed",
            account_id=sr.account_id,
            signature_request_id=sr.signature_request_id,
        )
        emit_event(session, sr, EventType.SIGNATURE_REQUEST_ALL_SIGNED)
        enqueue_finalize(session, sr.signature_request_id)
    elif not sr.is_embedded:
        for s in order.signable_now(sr):
            if s.signature_id not in invited_before:
                jobs.enqueue(
                    session,
                    "mail.signer_invite",
                    {"signature_request_id": sr.signature_request_id, "signature_id": s.signature_id},
                )
    return sr


def decline(
    session: Session, signature_id: str, token: str, reason: str, *, ip: str | None, ua: str | None
) -> SignatureRequest:
    access = _act(session, signature_id, token)
    sr, signer = access.sr, access.signer
    if not sr.allow_decline:
        raise SigningProblem(403, "This signature request cannot be declined.", "form")
    reason = reason.strip()
    if not reason:
        raise SigningProblem(422, "Say why you decline.", "form", errors={"reason": "Say why you decline."})
    now = utcnow()
    signer.status_code = SignerStatus.DECLINED
    signer.decline_reason = reason
    sr.is_declined = True
    _consume(access, now)
    _record(session, sr, signer, "declined", ip, ua, data={"reason": reason})
    emit_event(
        session,
        sr,
        EventType.SIGNATURE_REQUEST_DECLINED,
        related_signature_id=signer.signature_id,
        event_message=reason,
    )
    return sr


def reassign(
    session: Session,
    signature_id: str,
    token: str,
    name: str,
    email_address: str,
    reason: str,
    *,
    ip: str | None,
    ua: str | None,
) -> Signer:
    """Hand the signer's place to someone else: a new signature_id, the old links dead."""
    access = _act(session, signature_id, token)
    sr, signer = access.sr, access.signer
    if not sr.allow_reassign:
        raise SigningProblem(403, "This signature request cannot be reassigned.", "form")
    errors: dict[str, str] = {}
    name = " ".join(name.split())
    if not name:
        errors["name"] = "Enter the new signer's name."
    try:
        email_address = check_email(email_address)
    except ValueError:
        errors["email_address"] = "Enter the new signer's email address."
    if not errors and email_address.lower() == signer.email_address.lower():
        errors["email_address"] = "Enter someone else's email address."
    if errors:
        raise SigningProblem(422, "Some fields need your attention.", "form", errors=errors)
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
    requests.rename_filler(session, sr, old_id, signer.signature_id)
    audit.record(
        session,
        "signer:signature_request:reassigned",
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
        session,
        sr,
        EventType.SIGNATURE_REQUEST_REASSIGNED,
        related_signature_id=signer.signature_id,
        event_message=reason.strip() or None,
    )
    if not sr.is_embedded:
        if order.may_sign_now(sr, signer):
            jobs.enqueue(
                session,
                "mail.signer_invite",
                {"signature_request_id": sr.signature_request_id, "signature_id": signer.signature_id},
            )
    return signer
