"""API key resolution (HTTP Basic, the key as user name, empty password)."""

from __future__ import annotations

import base64
import binascii

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from paraph.errors import Unauthorized
from paraph.models import Account, ApiKey
from paraph.security import KeyBox, constant_time_equals


def api_key_from_header(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("Unauthorized user. No credentials supplied.")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        raise Unauthorized("Unauthorized user. OAuth access tokens are not supported; use an API key.")
    if scheme.lower() != "basic":
        raise Unauthorized("Unauthorized user. Use HTTP Basic with your API key as the user name.")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("Unauthorized user. Malformed credentials.") from None
    key, _, _password = decoded.partition(":")
    if not key:
        raise Unauthorized("Unauthorized user. No credentials supplied.")
    return key


def authenticate(session: Session, keys: KeyBox, authorization: str | None) -> tuple[Account, ApiKey]:
    presented = api_key_from_header(authorization)
    row = session.scalars(
        sa.select(ApiKey)
        .where(ApiKey.lookup == keys.lookup(presented), ApiKey.revoked_at.is_(None))
        .options(joinedload(ApiKey.account))
    ).first()
    # The lookup digest found the row; the stored key is still compared in constant time, so a digest
    # collision or a tampered row cannot authenticate.
    if row is None or not constant_time_equals(keys.decrypt(row.encrypted_key), presented):
        raise Unauthorized("Unauthorized user. The API key is not valid.")
    return row.account, row
