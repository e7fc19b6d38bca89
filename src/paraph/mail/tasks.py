"""Mail jobs. Each mail is its own job, so one failing recipient retries alone.

Other domains queue mail through the typed functions here (:func:`request_sent`, :func:`invite`,
:func:`remind`, :func:`completed`, :func:`endpoint_disabled`), never by a job kind's string: a misspelt
kind would be a job no one handles. The kinds' values are stored in ``jobs.kind`` and never change.

Fan-out jobs (``mail.signature_request_sent``, ``mail.completed``, ``mail.expired``) run in a transaction
and enqueue one job per recipient. A single-mail job composes its message in a short read transaction and
sends it in the ``prepare`` phase, which holds no transaction (an SMTP server taking thirty seconds must
not hold SQLite's one writer); the handler then records the mail as an audit event. Delivery is at least
once: a crash between sending and recording sends the mail again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from sqlalchemy.orm import Session

from paraph import audit
from paraph.audit import AuditTag
from paraph.mail import messages
from paraph.mail import repository as mail_repository
from paraph.mail.mailer import make_mailer
from paraph.mail.messages import Letter, Recipient
from paraph.models import Account, ApiApp, CallbackEndpoint, Job, SignatureRequest, Signer, SigningNotice
from paraph.models.signature_request import SignerStatus
from paraph.ops import metrics
from paraph.runtime import Runtime
from paraph.scope import Scope
from paraph.signature_request import repository
from paraph.signing import order
from paraph.signing.access import final_copy_link, signing_link
from paraph.worker import queue
from paraph.worker.periodic import every

log = logging.getLogger(__name__)


class MailJob(StrEnum):
    """The mail job kinds (their values are rows in ``jobs``: never change one)."""

    SIGNATURE_REQUEST_SENT = "mail.signature_request_sent"  # fan-out: an invite to whoever may sign now
    SIGNER_INVITE = "mail.signer_invite"
    REMIND = "mail.remind"
    COMPLETED = "mail.completed"  # fan-out: a final copy to every party
    FINAL_COPY = "mail.final_copy"
    EXPIRED = "mail.expired"  # fan-out: an expiry notice to the requester and the signers who had not signed
    EXPIRED_NOTICE = "mail.expired_notice"
    ENDPOINT_DISABLED = "mail.endpoint_disabled"


class RequestPayload(TypedDict):
    signature_request_id: str


class SignerPayload(TypedDict):
    signature_request_id: str
    signature_id: str


class RecipientPayload(TypedDict):
    signature_request_id: str
    email: str
    name: NotRequired[str]
    requester: NotRequired[bool]


class EndpointPayload(TypedDict):
    endpoint_id: int


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
            locale=sr.account.locale,
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
        locale=sr.account.locale,
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
        locale=sr.account.locale,
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


def _single(kind: MailJob, build: Builder, tag: AuditTag | None) -> None:
    """Register ``kind`` as a one-mail job: composed and sent in ``prepare``, recorded by the handler as an
    audit event ``tag`` of its request (None: a mail about no request, recorded nowhere)."""

    def prepare(rt: Runtime, payload: dict[str, Any]) -> dict[str, Any]:
        with rt.unit_of_work(write=False) as session:
            letter = build(session, rt, payload)
        if letter is None:
            return {"mailed": None}
        try:
            make_mailer(rt.settings).send(messages.compose(letter, sender=rt.settings.mail_from))
        except Exception:
            metrics.MAIL.labels("failed").inc()
            raise
        metrics.MAIL.labels("sent").inc()
        return {"mailed": letter.to.email}

    def record(scope: Scope, payload: dict[str, Any]) -> None:
        session = scope.session
        mailed = payload.get("mailed")
        if tag is None or not mailed or "signature_request_id" not in payload:
            return
        sr = repository.by_public_id(session, str(payload["signature_request_id"]))
        if sr is None:
            return
        audit.record(
            session,
            tag,
            account_id=sr.account_id,
            signature_request_id=sr.signature_request_id,
            signature_id=payload.get("signature_id"),
            actor_email=str(mailed),
            data={"to": mailed},
        )

    queue.handler(kind, prepare=prepare)(record)


_single(MailJob.SIGNER_INVITE, _invite(reminder=False), AuditTag.SYSTEM_MAIL_SIGNER_INVITE)
_single(MailJob.REMIND, _invite(reminder=True), AuditTag.SYSTEM_MAIL_REMIND)
_single(MailJob.FINAL_COPY, _final_copy, AuditTag.SYSTEM_MAIL_FINAL_COPY)
_single(MailJob.EXPIRED_NOTICE, _expired_notice, AuditTag.SYSTEM_MAIL_EXPIRED_NOTICE)
_single(MailJob.ENDPOINT_DISABLED, _endpoint_disabled, None)  # about an endpoint, not a request


# -- fan-outs ----------------------------------------------------------------------------------------------


def invite_signable(session: Session, sr: SignatureRequest) -> None:
    """Queue a signing link for every signer whose turn it is (all of them without a signing order)."""
    if sr.is_embedded:
        return
    for signer in order.signable_now(sr):
        invite(session, sr, signer)


@queue.handler(MailJob.SIGNATURE_REQUEST_SENT)
def _fan_out_sent(scope: Scope, payload: dict[str, Any]) -> None:
    session = scope.session
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


@queue.handler(MailJob.COMPLETED)
def _fan_out_completed(scope: Scope, payload: dict[str, Any]) -> None:
    session = scope.session
    sr = _request(session, payload)
    if sr is None or not sr.is_complete:
        return
    for r in _parties(sr):
        _enqueue(
            session,
            MailJob.FINAL_COPY,
            RecipientPayload(signature_request_id=sr.signature_request_id, email=r.email, name=r.name),
        )


@queue.handler(MailJob.EXPIRED)
def _fan_out_expired(scope: Scope, payload: dict[str, Any]) -> None:
    session = scope.session
    sr = _request(session, payload)
    if sr is None or not sr.is_expired:
        return
    rid = sr.signature_request_id
    _enqueue(
        session,
        MailJob.EXPIRED_NOTICE,
        RecipientPayload(signature_request_id=rid, email=sr.account.email_address, requester=True),
    )
    if sr.is_embedded:
        return  # embedded signers never got mail from Paraph; the integrator tells them
    for s in sr.signers:
        if s.status_code == SignerStatus.EXPIRED:
            _enqueue(
                session,
                MailJob.EXPIRED_NOTICE,
                RecipientPayload(signature_request_id=rid, email=s.email_address, name=s.name),
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
            _enqueue(session, MailJob.EXPIRED, RequestPayload(signature_request_id=rid))


# -- queueing mail (what other domains call) ---------------------------------------------------------------


def _enqueue(
    session: Session, kind: MailJob, payload: RequestPayload | SignerPayload | RecipientPayload | EndpointPayload
) -> Job:
    return queue.enqueue(session, kind, payload)


def request_sent(session: Session, sr: SignatureRequest) -> Job:
    """A request was sent (or its hold released): a signing link to whoever may sign now."""
    return _enqueue(
        session, MailJob.SIGNATURE_REQUEST_SENT, RequestPayload(signature_request_id=sr.signature_request_id)
    )


def invite(session: Session, sr: SignatureRequest, signer: Signer) -> Job:
    """A signing link for ``signer`` (sent only if it is then the signer's turn)."""
    return _enqueue(
        session,
        MailJob.SIGNER_INVITE,
        SignerPayload(signature_request_id=sr.signature_request_id, signature_id=signer.signature_id),
    )


def remind(session: Session, sr: SignatureRequest, signer: Signer) -> Job:
    return _enqueue(
        session,
        MailJob.REMIND,
        SignerPayload(signature_request_id=sr.signature_request_id, signature_id=signer.signature_id),
    )


def completed(session: Session, sr: SignatureRequest) -> Job:
    """The final document is ready: a copy to every party."""
    return _enqueue(session, MailJob.COMPLETED, RequestPayload(signature_request_id=sr.signature_request_id))


def endpoint_disabled(session: Session, ep: CallbackEndpoint) -> Job:
    """Tell the account that callbacks to ``ep`` stopped after repeated failures."""
    return _enqueue(session, MailJob.ENDPOINT_DISABLED, EndpointPayload(endpoint_id=ep.id))
