"""Embedded sign URLs: handed out by the API, redeemed once by the signing page.

``GET /embedded/sign_url/{signature_id}`` answers ``{PARAPH_BASE_URL}/editor/embeddedSign?signature_id=...
&token=...``. Only a keyed digest of the token is stored (a database dump hands out no live URL); a token
works once, for settings.sign_url_ttl_minutes. The signing page calls :func:`redeem_sign_url` with the two
query parameters and gets the signer, or why the URL is no good (then ``sign_url_invalid`` was emitted).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from paraph import audit
from paraph.callbacks.events import EventType
from paraph.db import utcnow
from paraph.errors import BadRequest, Conflict, NotFound
from paraph.models import Account, SignatureRequest, Signer, SignUrlToken
from paraph.models.signature_request import SignerStatus
from paraph.runtime import runtime_of
from paraph.signature_request import repository
from paraph.signature_request.events import emit_event
from paraph.signature_request.state import api_error_for

SIGN_PATH = "/editor/embeddedSign"


@dataclass(frozen=True, slots=True)
class SignUrl:
    url: str
    expires_at: int


def sign_url(
    session: Session,
    account: Account,
    signature_id: str,
    *,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> SignUrl:
    signer = repository.signer_owned(session, account, signature_id)
    if signer is None:
        raise NotFound("Not found.")
    sr = signer.signature_request
    if sr.removed_at is not None:
        raise NotFound("Not found.")
    if not sr.is_embedded or sr.api_app_id is None:
        raise BadRequest(
            "This signature request was not created with create_embedded and a client_id; "
            "its signers sign from the link in their email."
        )
    problem = api_error_for(sr)
    if problem is not None:
        raise problem
    if signer.status_code != SignerStatus.AWAITING_SIGNATURE:
        raise Conflict(f"This signer cannot sign (status {signer.status_code}).")
    rt = runtime_of(session)
    token = secrets.token_hex(16)
    expires = utcnow() + dt.timedelta(minutes=rt.settings.sign_url_ttl_minutes)
    session.add(SignUrlToken(signer_id=signer.id, lookup=rt.keys.lookup(token), expires_at=expires))
    audit.record(
        session,
        "api:embedded:sign_url_created",
        account_id=account.id,
        signature_request_id=sr.signature_request_id,
        signature_id=signer.signature_id,
        actor_email=account.email_address,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    query = urlencode({"signature_id": signer.signature_id, "token": token})
    return SignUrl(f"{rt.settings.base_url}{SIGN_PATH}?{query}", int(expires.timestamp()))


#: Why a sign URL's token does not open the page: unknown or another signer's, already used, past its time.
TOKEN_PROBLEMS = {
    "invalid": "This signing link is not valid.",
    "used": "This signing link has already been used; ask for a new one.",
    "expired": "This signing link has expired; ask for a new one.",
}


def token_problem(row: SignUrlToken | None, signature_id: str, *, grace: dt.timedelta = dt.timedelta(0)) -> str | None:
    """None when ``row`` is a live token of signer ``signature_id`` (``grace`` past its expiry still counts),
    else the key of :data:`TOKEN_PROBLEMS`. The one check of a sign URL token, for opening and for acting."""
    if row is None or row.signer.signature_id != signature_id:
        return "invalid"
    if row.used_at is not None:
        return "used"
    if row.expires_at + grace <= utcnow():
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


def redeem_sign_url(session: Session, signature_id: str, token: str, *, consume: bool = True) -> Redeemed:
    """Check a sign URL's token; with ``consume`` it cannot be used again. An expired or used token of a
    known signer emits ``sign_url_invalid`` (in the caller's transaction: commit it even on a problem)."""
    rt = runtime_of(session)
    row = repository.token_by_lookup(session, rt.keys.lookup(token)) if token else None
    state = token_problem(row, signature_id)
    if row is None or state == "invalid":
        return Redeemed(None, None, "invalid", TOKEN_PROBLEMS["invalid"])
    signer = row.signer
    sr = signer.signature_request
    if state is not None:
        emit_event(session, sr, EventType.SIGN_URL_INVALID, related_signature_id=signer.signature_id)
        return Redeemed(signer, sr, state, TOKEN_PROBLEMS[state])
    problem = api_error_for(sr)
    if problem is not None:
        return Redeemed(signer, sr, "closed", problem.error_msg)
    if consume:
        row.used_at = utcnow()
    return Redeemed(signer, sr)
