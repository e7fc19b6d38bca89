"""Mail jobs. Each mail is its own job, so one failing recipient retries alone.

Fan-out jobs (``mail.signature_request_sent``, ``mail.completed``, ``mail.expired``) run in a transaction
and enqueue one job per recipient. A single-mail job composes its message in a short read transaction and
sends it in the ``prepare`` phase, which holds no transaction (an SMTP server taking thirty seconds must
not hold SQLite's one writer); the handler then records the mail as an audit event. Delivery is at least
once: a crash between sending and recording sends the mail again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from paraph import audit
from paraph.mail import messages
from paraph.mail import repository as mail_repository
from paraph.mail.mailer import make_mailer
from paraph.mail.messages import Letter, Recipient
from paraph.models import Account, ApiApp, CallbackEndpoint, SignatureRequest, Signer, SigningNotice
from paraph.models.signature_request import SignerStatus
from paraph.runtime import Runtime
from paraph.signature_request import repository
from paraph.signing import order
from paraph.signing.access import final_copy_link, signing_link
from paraph.worker import queue
from paraph.worker.periodic import every

log = logging.getLogger(__name__)

SENT = "mail.signature_request_sent"  # enqueued by the signature request feature when a request is sent
SIGNER_INVITE = "mail.signer_invite"
REMIND = "mail.remind"  # enqueued by POST /signature_request/remind
COMPLETED = "mail.completed"
FINAL_COPY = "mail.final_copy"
EXPIRED = "mail.expired"
EXPIRED_NOTICE = "mail.expired_notice"
ENDPOINT_DISABLED = "mail.endpoint_disabled"  # enqueued by callback delivery
EXPIRY_NOTICE_SWEEP_SECONDS = 30

Builder = Callable[[Session, Runtime, dict[str, Any]], Letter | None]


def _request(session: Session, payload: dict[str, Any]) -> SignatureRequest | None:
    sr = repository.by_public_id(session, str(payload["signature_request_id"]))
    if sr is None or sr.removed_at is not None or sr.cancel_requested_at is not None:
        return None
    return sr


def _signer(sr: SignatureRequest, signature_id: str) -> Signer | None:
    return next((s for s in sr.signers if s.signature_id == signature_id), None)


# -- single mails ------------------------------------------------------------------------------------------


def _invite(reminder: bool) -> Builder:
    def build(session: Session, rt: Runtime, payload: dict[str, Any]) -> Letter | None:
        sr = _request(session, payload)
        if sr is None or sr.is_embedded or sr.is_complete or sr.is_declined or sr.is_expired or sr.has_error:
            return None
        signer = _signer(sr, str(payload["signature_id"]))
        if signer is None or not order.may_sign_now(sr, signer):
            return None
        return messages.signer_invite(
            to=Recipient(signer.email_address, signer.name),
            requester_email=sr.account.email_address,
            title=sr.title,
            subject=sr.subject,
            message=sr.message,
            link=signing_link(rt.settings, rt.keys, signer.signature_id),
            reminder=reminder,
            account_id=sr.account.account_id,
            test_mode=sr.test_mode,
        )

    return build


def _final_copy(session: Session, rt: Runtime, payload: dict[str, Any]) -> Letter | None:
    sr = _request(session, payload)
    if sr is None or not sr.is_complete or sr.final_pdf_key is None:
        return None
    return messages.final_copy(
        to=Recipient(str(payload["email"]), str(payload.get("name") or "")),
        title=sr.title,
        link=final_copy_link(rt.settings, rt.keys, sr.signature_request_id),
        account_id=sr.account.account_id,
        signer_names=[s.name for s in sr.signers if s.status_code == SignerStatus.SIGNED],
    )


def _expired_notice(session: Session, rt: Runtime, payload: dict[str, Any]) -> Letter | None:
    sr = _request(session, payload)
    if sr is None or not sr.is_expired:
        return None
    return messages.expired(
        to=Recipient(str(payload["email"]), str(payload.get("name") or "")),
        title=sr.title,
        requester_email=sr.account.email_address,
        account_id=sr.account.account_id,
        for_requester=bool(payload.get("requester")),
    )


def _endpoint_disabled(session: Session, rt: Runtime, payload: dict[str, Any]) -> Letter | None:
    ep = session.get(CallbackEndpoint, int(payload["endpoint_id"]))
    if ep is None or ep.disabled_at is None:
        return None  # enabled again before the mail went out
    account = session.get(Account, ep.account_id)
    if account is None:
        return None
    app = session.get(ApiApp, ep.api_app_id) if ep.api_app_id is not None else None
    return messages.endpoint_disabled(
        to=Recipient(account.email_address),
        url=ep.url,
        app_name=app.name if app else None,
        failures=ep.consecutive_failures,
        link=f"{rt.settings.base_url}/dashboard/callbacks",
        account_id=account.account_id,
    )


def _single(kind: str, build: Builder) -> None:
    """Register ``kind`` as a one-mail job: composed and sent in ``prepare``, recorded by the handler."""

    def prepare(rt: Runtime, payload: dict[str, Any]) -> dict[str, Any]:
        with rt.unit_of_work(write=False) as session:
            letter = build(session, rt, payload)
        if letter is None:
            return {"mailed": None}
        make_mailer(rt.settings).send(messages.compose(letter, sender=rt.settings.mail_from))
        return {"mailed": letter.to.email}

    def record(session: Session, payload: dict[str, Any]) -> None:
        mailed = payload.get("mailed")
        if not mailed or "signature_request_id" not in payload:
            return
        sr = repository.by_public_id(session, str(payload["signature_request_id"]))
        if sr is None:
            return
        audit.record(
            session,
            f"system:mail:{kind.removeprefix('mail.')}",
            account_id=sr.account_id,
            signature_request_id=sr.signature_request_id,
            signature_id=payload.get("signature_id"),
            actor_email=str(mailed),
            data={"to": mailed},
        )

    queue.handler(kind, prepare=prepare)(record)


_single(SIGNER_INVITE, _invite(reminder=False))
_single(REMIND, _invite(reminder=True))
_single(FINAL_COPY, _final_copy)
_single(EXPIRED_NOTICE, _expired_notice)
_single(ENDPOINT_DISABLED, _endpoint_disabled)


# -- fan-outs ----------------------------------------------------------------------------------------------


def invite_signable(session: Session, sr: SignatureRequest) -> None:
    """Queue a signing link for every signer whose turn it is (all of them without a signing order)."""
    if sr.is_embedded:
        return
    for signer in order.signable_now(sr):
        queue.enqueue(
            session,
            SIGNER_INVITE,
            {"signature_request_id": sr.signature_request_id, "signature_id": signer.signature_id},
        )


@queue.handler(SENT)
def _fan_out_sent(session: Session, payload: dict[str, Any]) -> None:
    sr = _request(session, payload)
    if sr is not None and not (sr.is_complete or sr.is_declined or sr.is_expired or sr.has_error):
        invite_signable(session, sr)


def _parties(sr: SignatureRequest) -> list[Recipient]:
    """Every party of a request, once each: signers who signed, the requester, cc addresses."""
    seen: set[str] = set()
    out: list[Recipient] = []
    candidates = [Recipient(s.email_address, s.name) for s in sr.signers if s.status_code == SignerStatus.SIGNED]
    candidates.append(Recipient(sr.account.email_address))
    candidates += [Recipient(e) for e in sr.cc_email_addresses or []]
    for r in candidates:
        if r.email.lower() not in seen:
            seen.add(r.email.lower())
            out.append(r)
    return out


@queue.handler(COMPLETED)
def _fan_out_completed(session: Session, payload: dict[str, Any]) -> None:
    sr = _request(session, payload)
    if sr is None or not sr.is_complete:
        return
    for r in _parties(sr):
        queue.enqueue(
            session, FINAL_COPY, {"signature_request_id": sr.signature_request_id, "email": r.email, "name": r.name}
        )


@queue.handler(EXPIRED)
def _fan_out_expired(session: Session, payload: dict[str, Any]) -> None:
    sr = _request(session, payload)
    if sr is None or not sr.is_expired:
        return
    rid = sr.signature_request_id
    queue.enqueue(
        session, EXPIRED_NOTICE, {"signature_request_id": rid, "email": sr.account.email_address, "requester": True}
    )
    if sr.is_embedded:
        return  # embedded signers never got mail from Paraph; the integrator tells them
    for s in sr.signers:
        if s.status_code == SignerStatus.EXPIRED:
            queue.enqueue(
                session, EXPIRED_NOTICE, {"signature_request_id": rid, "email": s.email_address, "name": s.name}
            )


@every(EXPIRY_NOTICE_SWEEP_SECONDS, "mail.expiry_notices")
def _expiry_notices(rt: Runtime) -> None:
    """Announce expired requests once each (the expiry sweep of the signature request feature marks them)."""
    with rt.unit_of_work(write=False) as session:
        if not mail_repository.expired_unannounced(session, 1):
            return
    with rt.unit_of_work() as session:
        for sr_id, rid in mail_repository.expired_unannounced(session, 100):
            session.add(SigningNotice(signature_request_id=sr_id, kind="expired"))
            queue.enqueue(session, EXPIRED, {"signature_request_id": rid})
