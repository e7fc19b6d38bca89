"""Embedded sign URLs: handed out by the API, redeemed once by the signing page.

``GET /embedded/sign_url/{signature_id}`` answers ``{PARAPH_BASE_URL}/editor/embeddedSign?signature_id=...
&token=...``. Only a keyed digest of the token is stored (a database dump hands out no live URL); a token
works once, for settings.sign_url_ttl_minutes. Redeeming one is the signing page's business
(:func:`paraph.signing.access.redeem_sign_url`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from paraph import audit
from paraph.audit import AuditTag
from paraph.db import utcnow
from paraph.errors import BadRequest, Conflict, NotFound
from paraph.models import Account, SignUrlToken
from paraph.models.signature_request import SignerStatus
from paraph.scope import Scope
from paraph.signature_request import repository
from paraph.signature_request.state import api_error_for

SIGN_PATH = "/editor/embeddedSign"


@dataclass(frozen=True, slots=True)
class SignUrl:
    url: str
    expires_at: int


def sign_url(
    scope: Scope,
    account: Account,
    signature_id: str,
    *,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> SignUrl:
    session = scope.session
    signer = repository.signer_owned(session, account, signature_id)
    if signer is None:
        raise NotFound("Not found.")
    sr = repository.of_signer(session, signer)
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
    token = secrets.token_hex(16)
    expires = utcnow() + dt.timedelta(minutes=scope.settings.sign_url_ttl_minutes)
    session.add(SignUrlToken(signer_id=signer.id, lookup=scope.keys.lookup(token), expires_at=expires))
    audit.record(
        session,
        AuditTag.API_EMBEDDED_SIGN_URL_CREATED,
        account_id=account.id,
        signature_request_id=sr.signature_request_id,
        signature_id=signer.signature_id,
        actor_email=account.email_address,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    query = urlencode({"signature_id": signer.signature_id, "token": token})
    return SignUrl(f"{scope.settings.base_url}{SIGN_PATH}?{query}", int(expires.timestamp()))
