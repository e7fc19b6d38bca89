"""Who may open the signing page or act on it: tokens, links and the request's and signer's state.

Embedded requests are signed through sign URLs (issued by ``paraph.embedded.service``: a stored,
single-use, expiring token, checked here by :func:`token_problem` and :func:`redeem_sign_url`). Requests sent
by mail are signed from a link carrying a MAC of the signature_id: it needs no row, works until the signer
has acted (the signer's status closes it), and dies with the signature_id (a reassignment or an email change
makes a new one). Final copies are linked with a MAC of the request id.

A sign URL token is checked by one rule (:func:`token_problem`) when the page opens, when it loads its
images and on every action: it is dead once used, and once past ``expires_at`` -- unless the page opened
with it while it was live (``opened_at``), which lets the signer finish for :data:`OPENED_GRACE` more. It is
consumed when the signer signs, declines or reassigns (``paraph.signing.service``); reloading the page
before that works (the token is not consumed by viewing).
A mailed request's ``signing_url`` (the API's) carries no token: it leads a signed-in signer to their link.

A signer with an access code (``signers[].pin``) must enter it before anything of the document is served:
the page opens on the PIN step only; a right PIN earns a *PIN pass* (:func:`pin_pass`: a MAC of the signer,
their PIN's hash, the link's token and an expiry), which the page then carries with its token -- in the URL of
the page and its images (``pin=``) and in the ``X-Paraph-Pin`` header of every action. :func:`authorize`, the
door of every image and action, refuses a signer with a PIN and no good pass. :data:`PIN_TRIES` wrong PINs
lock the signer out until the sender updates them (``signature_request/update``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from paraph import audit
from paraph.audit import AuditTag
from paraph.callbacks.events import EventType
from paraph.config import Settings
from paraph.db import utcnow
from paraph.i18n import N_, Message
from paraph.models import SignatureRequest, Signer, SignUrlToken
from paraph.models.signature_request import SignerStatus
from paraph.scope import Scope
from paraph.security import KeyBox
from paraph.signature_request import repository as requests
from paraph.signature_request.events import emit_event
from paraph.signature_request.state import RequestState, api_error_for, page_state, state_of
from paraph.signing import order, repository

MAIL_SIGN_PATH = "/sign"
FINAL_COPY_PATH = "/sign/final"
#: How long past ``expires_at`` a sign URL whose page was opened in time may still act (and reload).
OPENED_GRACE = dt.timedelta(minutes=30)
#: Wrong access codes in a row that lock a signer out (Dropbox Sign's count).
PIN_TRIES = 5
#: How long a right PIN lets the page load and act without asking again.
PIN_PASS_LIFETIME = dt.timedelta(hours=2)


def mail_token(keys: KeyBox, signature_id: str) -> str:
    return keys.sign(f"paraph:sign:{signature_id}")


def mail_token_ok(keys: KeyBox, signature_id: str, token: str) -> bool:
    return bool(token) and keys.verify(f"paraph:sign:{signature_id}", token)


def signing_link(settings: Settings, keys: KeyBox, signature_id: str) -> str:
    """The absolute link a signer gets by mail."""
    query = urlencode({"token": mail_token(keys, signature_id)})
    return f"{settings.base_url}{MAIL_SIGN_PATH}/{signature_id}?{query}"


def final_copy_token(keys: KeyBox, signature_request_id: str) -> str:
    return keys.sign(f"paraph:final:{signature_request_id}")


def final_copy_token_ok(keys: KeyBox, signature_request_id: str, token: str) -> bool:
    return bool(token) and keys.verify(f"paraph:final:{signature_request_id}", token)


def final_copy_link(settings: Settings, keys: KeyBox, signature_request_id: str) -> str:
    query = urlencode({"token": final_copy_token(keys, signature_request_id)})
    return f"{settings.base_url}{FINAL_COPY_PATH}/{signature_request_id}?{query}"


def signer_final_copy_link(signature_id: str, token: str, pin: str) -> str:
    """The final copy as a signer with an access code downloads it from their signing page: their mailed
    link's token and their PIN pass, both checked by :func:`final_copy_for_signer`."""
    return f"{MAIL_SIGN_PATH}/{signature_id}/final?" + urlencode({"token": token, "pin": pin})


def final_copy_for_signer(
    keys: KeyBox, session: Session, signature_id: str, token: str, pin: str | None
) -> tuple[str, str]:
    """The stored final PDF's key and the request's title, for a signer's own download link: a good mailed-link
    token, a complete request, and -- for a signer with an access code -- a good PIN pass (a locked signer gets
    nothing)."""
    found = repository.signer_and_request(session, signature_id) if mail_token_ok(keys, signature_id, token) else None
    if found is None or found[1].is_embedded or found[1].removed_at is not None:
        raise SigningProblem(Reason.LINK_INVALID, TOKEN_PROBLEMS["invalid"], "invalid")
    signer, sr = found
    problem = pin_problem(keys, signer, sr, token, pin)
    if problem is not None:
        raise problem
    if not sr.is_complete or sr.final_pdf_key is None:
        raise SigningProblem(
            Reason.REQUEST_PROCESSING, "The final document is not ready yet.", "processing", signer=signer, sr=sr
        )
    return sr.final_pdf_key, sr.title


# -- the access code (PIN) -----------------------------------------------------------------------------------


def _pin_message(signer: Signer, token: str, expires: int) -> str:
    assert signer.pin_hash is not None
    # The PIN's hash (digested: a MAC message, never stored) ties the pass to this PIN; the token to this link.
    pin = hashlib.sha256(signer.pin_hash.encode()).hexdigest()
    return f"paraph:pin:{signer.signature_id}:{pin}:{token}:{expires}"


def pin_pass(keys: KeyBox, signer: Signer, token: str) -> str:
    """What a right PIN earns: ``<expiry>.<MAC>``, good for :data:`PIN_PASS_LIFETIME` with this link only."""
    expires = int((utcnow() + PIN_PASS_LIFETIME).timestamp())
    return f"{expires}.{keys.sign(_pin_message(signer, token, expires))}"


def pin_pass_ok(keys: KeyBox, signer: Signer, token: str, value: str | None) -> bool:
    if signer.pin_hash is None:
        return True
    expires, _, mac = (value or "").partition(".")
    if not expires.isdigit() or len(expires) > 12 or int(expires) <= utcnow().timestamp():
        return False
    return keys.verify(_pin_message(signer, token, int(expires)), mac)


def pin_locked(signer: Signer) -> bool:
    return signer.pin_hash is not None and signer.pin_failures >= PIN_TRIES


PIN_LOCKED_MESSAGE = N_(
    "This document is locked after too many wrong access codes. Ask the sender to unlock it for you."
)


def pin_problem(
    keys: KeyBox, signer: Signer, sr: SignatureRequest, token: str, value: str | None
) -> SigningProblem | None:
    """Why a signer with an access code may not see or act yet (locked, or no good PIN pass), or None."""
    if signer.pin_hash is None:
        return None
    if pin_locked(signer):
        return SigningProblem(Reason.PIN_LOCKED, PIN_LOCKED_MESSAGE, "pin_locked", signer=signer, sr=sr)
    if not pin_pass_ok(keys, signer, token, value):
        return SigningProblem(
            Reason.PIN_REQUIRED, N_("Enter the access code the sender gave you."), "pin", signer=signer, sr=sr
        )
    return None


# -- sign URL tokens ----------------------------------------------------------------------------------------


#: Why a sign URL's token does not open the page: unknown or another signer's, already used, past its time.
TOKEN_PROBLEMS = {
    "invalid": N_("This signing link is not valid."),
    "used": N_("This signing link has already been used; ask for a new one."),
    "expired": N_("This signing link has expired; ask for a new one."),
}


def token_deadline(row: SignUrlToken) -> dt.datetime:
    """Until when a sign URL token may open the page and act: ``expires_at``, or :data:`OPENED_GRACE` later
    once the page has opened with it (which it can only do while live)."""
    return row.expires_at + OPENED_GRACE if row.opened_at is not None else row.expires_at


def token_problem(row: SignUrlToken | None, signature_id: str) -> str | None:
    """None when ``row`` is a live token of signer ``signature_id``, else the key of :data:`TOKEN_PROBLEMS`.
    The one check of a sign URL token, for opening the page, its images and every action."""
    if row is None or row.signer.signature_id != signature_id:
        return "invalid"
    if row.used_at is not None:
        return "used"
    if token_deadline(row) <= utcnow():
        return "expired"
    return None


@dataclass(frozen=True, slots=True)
class Redeemed:
    """The outcome of opening a sign URL: the signer, or why not: ``state`` is a key of
    :data:`TOKEN_PROBLEMS`, or "closed" when the request itself no longer takes signatures (``problem``
    then says why), None when the page may open."""

    signer: Signer | None
    signature_request: SignatureRequest | None
    state: str | None = None
    problem: str | None = None
    token_row: SignUrlToken | None = None


def redeem_sign_url(scope: Scope, signature_id: str, token: str, *, consume: bool = True) -> Redeemed:
    """Check a sign URL's token; with ``consume`` it cannot be used again. An expired or used token of a
    known signer emits ``sign_url_invalid`` the first time only (``invalid_reported_at``; in the caller's
    transaction: commit it even on a problem)."""
    row = requests.token_by_lookup(scope.session, scope.keys.lookup(token)) if token else None
    state = token_problem(row, signature_id)
    if row is None or state == "invalid":
        return Redeemed(None, None, "invalid", TOKEN_PROBLEMS["invalid"])
    signer = row.signer
    sr = requests.of_signer(scope.session, signer)
    if state is not None:
        if repository.claim_invalid_report(scope.session, row):
            emit_event(scope, sr, EventType.SIGN_URL_INVALID, related_signature_id=signer.signature_id)
        return Redeemed(signer, sr, state, TOKEN_PROBLEMS[state])
    problem = api_error_for(sr)
    if problem is not None:
        return Redeemed(signer, sr, "closed", problem.error_msg)
    if consume:
        row.used_at = utcnow()
    return Redeemed(signer, sr, token_row=row)


# -- problems ----------------------------------------------------------------------------------------------


class Reason(StrEnum):
    """Why a signer cannot go on; the signing routes map each to an HTTP status (``endpoints.STATUS``)."""

    LINK_INVALID = "link_invalid"  # unknown link, another signer's token, or no such signer
    LINK_USED = "link_used"
    LINK_EXPIRED = "link_expired"
    OTHER_APP = "other_app"  # the sign URL was opened with another API app's client_id
    DOMAIN = "domain"  # the embedding page is not on one of the API app's domains
    REQUEST_REMOVED = "request_removed"
    REQUEST_CANCELED = "request_canceled"
    REQUEST_PROCESSING = "request_processing"
    REQUEST_FAILED = "request_failed"
    REQUEST_EXPIRED = "request_expired"
    REQUEST_COMPLETE = "request_complete"
    REQUEST_DECLINED = "request_declined"
    REQUEST_CLOSED = "request_closed"
    SIGNER_DONE = "signer_done"  # signed, declined, or another member of the group signed
    NOT_YOUR_TURN = "not_your_turn"
    NOT_ALLOWED = "not_allowed"  # the request allows no decline / reassignment
    FORM = "form"  # what the signer sent needs correcting
    TOO_LARGE = "too_large"  # an action's body is larger than the page ever sends
    PIN_REQUIRED = "pin_required"  # the signer has an access code and this session has not entered it
    PIN_LOCKED = "pin_locked"  # too many wrong access codes: the sender must unlock the signer


#: The reason an unusable sign URL token gives, by :func:`token_problem`'s answer.
_TOKEN_REASONS = {"invalid": Reason.LINK_INVALID, "used": Reason.LINK_USED, "expired": Reason.LINK_EXPIRED}

#: The reason a request the signer cannot act on gives, by where it stands.
_REQUEST_REASONS = {
    RequestState.REMOVED: Reason.REQUEST_REMOVED,
    RequestState.CANCELED: Reason.REQUEST_CANCELED,
    RequestState.PROCESSING: Reason.REQUEST_PROCESSING,
    RequestState.ERROR: Reason.REQUEST_FAILED,
    RequestState.EXPIRED: Reason.REQUEST_EXPIRED,
    RequestState.COMPLETE: Reason.REQUEST_COMPLETE,
    RequestState.DECLINED: Reason.REQUEST_DECLINED,
}


class SigningProblem(Exception):
    """Why the signer cannot go on. ``state`` tells the page what to show; ``reason`` gives the HTTP status
    (at the edge: ``paraph.signing.endpoints.STATUS``)."""

    def __init__(
        self,
        reason: Reason,
        message: str,
        state: str,
        *,
        signer: Signer | None = None,
        sr: SignatureRequest | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.state = state
        self.signer = signer
        self.sr = sr
        self.errors = errors or {}


@dataclass(slots=True)
class Access:
    """A signer who may go on. ``pin_needed``: only the PIN step may be shown (nothing of the document)."""

    signer: Signer
    sr: SignatureRequest
    token_row: SignUrlToken | None
    pin_needed: bool = False


def _state_problem(sr: SignatureRequest, signer: Signer) -> SigningProblem | None:
    problem, state = api_error_for(sr), page_state(sr)
    if problem is None or state is None:
        return None
    return SigningProblem(_REQUEST_REASONS[state_of(sr)], problem.error_msg, state, signer=signer, sr=sr)


def signer_problem(sr: SignatureRequest, signer: Signer) -> SigningProblem | None:
    """Why this signer cannot sign now (their status, their group, the signing order), or None."""
    if signer.status_code == SignerStatus.SIGNED:
        return SigningProblem(
            Reason.SIGNER_DONE, N_("You have already signed this document."), "signed", signer=signer, sr=sr
        )
    if signer.status_code == SignerStatus.DECLINED:
        return SigningProblem(
            Reason.SIGNER_DONE, N_("You declined to sign this document."), "declined", signer=signer, sr=sr
        )
    if signer.status_code != SignerStatus.AWAITING_SIGNATURE:
        return SigningProblem(
            Reason.SIGNER_DONE,
            f"This signer cannot sign (status {signer.status_code}).",
            "closed",
            signer=signer,
            sr=sr,
        )
    if order.group_done(sr, signer.signer_index):
        return SigningProblem(
            Reason.SIGNER_DONE, N_("Another member of your group has already signed."), "signed", signer=signer, sr=sr
        )
    before = order.waiting_on(sr, signer)
    if before:
        # Who the others are is the document's business: a signer with an access code who has not given it
        # (this is shown before the PIN step) learns only that it is not their turn.
        names = ", ".join(s.name or s.email_address for s in before)
        return SigningProblem(
            Reason.NOT_YOUR_TURN,
            Message(N_("It is not your turn yet: waiting for {names} to sign first."), names=names)
            if signer.pin_hash is None
            else N_("It is not your turn yet: waiting for others to sign first."),
            "waiting",
            signer=signer,
            sr=sr,
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
    scope: Scope,
    signature_id: str,
    token: str,
    client_id: str | None,
    *,
    parent_host: str | None,
    skip_verification: bool,
    pin: str | None,
    ip: str | None,
    ua: str | None,
) -> Access:
    """Open an embedded sign URL (not consuming it). Used or expired tokens emit ``sign_url_invalid``.

    The parent page must be on one of the API app's domains, unless the request is in test mode and the
    library asked to skip domain verification (``skip_domain_verification=1``, which ``testMode`` sets).
    """
    redeemed = redeem_sign_url(scope, signature_id, token, consume=False)
    signer, sr = redeemed.signer, redeemed.signature_request
    if redeemed.state is not None or signer is None or sr is None:
        message = redeemed.problem or TOKEN_PROBLEMS["invalid"]
        if sr is None or signer is None:
            raise SigningProblem(Reason.LINK_INVALID, message, "invalid")
        if redeemed.state in ("used", "expired"):
            raise SigningProblem(_TOKEN_REASONS[redeemed.state], message, redeemed.state, signer=signer, sr=sr)
        raise _state_problem(sr, signer) or SigningProblem(
            Reason.REQUEST_CLOSED, message, "closed", signer=signer, sr=sr
        )
    if sr.api_app is None or not client_id or client_id != sr.api_app.client_id:
        raise SigningProblem(
            Reason.OTHER_APP,
            N_("This sign URL belongs to another API app (client_id does not match)."),
            "invalid",
            signer=signer,
            sr=sr,
        )
    if not (sr.test_mode and skip_verification):
        domains = list(sr.api_app.domains or [])
        if parent_host is None or not host_allowed(parent_host, domains):
            where = parent_host or "an unknown page"
            raise SigningProblem(
                Reason.DOMAIN,
                f"This document cannot be signed on {where}: it is not one of the API app's domains.",
                "domain",
                signer=signer,
                sr=sr,
            )
    problem = signer_problem(sr, signer)
    if problem is not None:
        raise problem
    if redeemed.token_row is not None and redeemed.token_row.opened_at is None:
        redeemed.token_row.opened_at = utcnow()
    return _past_pin(scope, Access(signer, sr, redeemed.token_row), token, pin, ip=ip, ua=ua)


def _past_pin(scope: Scope, access: Access, token: str, pin: str | None, *, ip: str | None, ua: str | None) -> Access:
    """The page opens on the PIN step until a good PIN pass comes with it; only then is it viewed."""
    problem = pin_problem(scope.keys, access.signer, access.sr, token, pin)
    if problem is not None and problem.reason == Reason.PIN_LOCKED:
        raise problem
    if problem is not None:
        access.pin_needed = True
        return access
    _viewed(scope, access.sr, access.signer, ip=ip, ua=ua)
    return access


def open_mailed(
    scope: Scope, signature_id: str, token: str, *, pin: str | None, ip: str | None, ua: str | None
) -> Access:
    ok = mail_token_ok(scope.keys, signature_id, token)
    found = repository.signer_and_request(scope.session, signature_id) if ok else None
    if found is None or found[1].is_embedded:
        raise SigningProblem(Reason.LINK_INVALID, TOKEN_PROBLEMS["invalid"], "invalid")
    signer, sr = found
    problem = _state_problem(sr, signer) or signer_problem(sr, signer)
    if problem is not None:
        raise problem
    return _past_pin(scope, Access(signer, sr, None), token, pin, ip=ip, ua=ua)


def signer_for_account(session: Session, signature_request_id: str, email: str | None) -> Signer | None:
    """The signer a signed-in account is on a mailed request's ``signing_url``: the one with the account's
    email (one still awaiting signature first), or None (unknown or embedded request, or not a signer)."""
    sr = requests.by_public_id(session, signature_request_id)
    if sr is None or sr.is_embedded or sr.removed_at is not None or not email:
        return None
    mine = [s for s in sr.signers if s.email_address.lower() == email.lower()]
    mine.sort(key=lambda s: s.status_code != SignerStatus.AWAITING_SIGNATURE)
    return mine[0] if mine else None


def record(
    session: Session,
    sr: SignatureRequest,
    signer: Signer,
    tag: AuditTag,
    ip: str | None,
    ua: str | None,
    *,
    data: dict[str, Any] | None = None,
) -> None:
    """The audit event of a signer's action (a ``signer:signature_request:*`` tag)."""
    audit.record(
        session,
        tag,
        account_id=sr.account_id,
        signature_request_id=sr.signature_request_id,
        signature_id=signer.signature_id,
        actor_name=signer.name,
        actor_email=signer.email_address,
        ip_address=ip,
        user_agent=ua,
        data=data,
    )


def _viewed(scope: Scope, sr: SignatureRequest, signer: Signer, *, ip: str | None, ua: str | None) -> None:
    first = signer.last_viewed_at is None
    signer.last_viewed_at = utcnow()
    record(scope.session, sr, signer, AuditTag.SIGNER_SIGNATURE_REQUEST_VIEWED, ip, ua)
    if first:
        emit_event(scope, sr, EventType.SIGNATURE_REQUEST_VIEWED, related_signature_id=signer.signature_id)


def authorize(
    scope: Scope, signature_id: str, token: str, *, pin: str | None, lock: bool = False, pin_step: bool = False
) -> Access:
    """The signer behind an action of the page (submit, decline, reassign, page images): a good token, a
    request that takes signatures, and -- for a signer with an access code -- a good PIN pass (``pin``).
    Only the PIN step itself (``pin_step``) goes without one."""
    found = repository.signer_and_request(scope.session, signature_id, lock=lock)
    if found is None:
        raise SigningProblem(Reason.LINK_INVALID, TOKEN_PROBLEMS["invalid"], "invalid")
    signer, sr = found
    row: SignUrlToken | None = None
    if sr.is_embedded:
        row = requests.token_by_lookup(scope.session, scope.keys.lookup(token)) if token else None
        state = token_problem(row, signature_id)
        if state == "invalid":
            raise SigningProblem(Reason.LINK_INVALID, TOKEN_PROBLEMS[state], state)
        if state is not None:
            raise SigningProblem(_TOKEN_REASONS[state], TOKEN_PROBLEMS[state], state, signer=signer, sr=sr)
    elif not mail_token_ok(scope.keys, signature_id, token):
        raise SigningProblem(Reason.LINK_INVALID, TOKEN_PROBLEMS["invalid"], "invalid")
    problem = _state_problem(sr, signer)
    if problem is None and not pin_step:
        problem = pin_problem(scope.keys, signer, sr, token, pin)
    if problem is not None:
        raise problem
    return Access(signer, sr, row)
