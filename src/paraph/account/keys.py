"""An account's API keys: issuing one, the primary key (the one ``event_hash`` is computed with), and the
dashboard's rules for naming, promoting, revoking and revealing keys."""

from __future__ import annotations

from sqlalchemy.orm import Session

from paraph import audit
from paraph.account import repository as accounts
from paraph.audit import AuditTag
from paraph.db import utcnow
from paraph.errors import BadRequest, NotFound
from paraph.models import Account, ApiKey
from paraph.security import KeyBox, new_api_key

MAX_NAME = 100


def add_api_key(session: Session, keys: KeyBox, account: Account, *, name: str, primary: bool = False) -> str:
    value = new_api_key()
    if primary:
        for existing in accounts.active_keys(session, account):
            existing.is_primary = False
    session.add(
        ApiKey(
            account_id=account.id,
            name=name,
            lookup=keys.lookup(value),
            encrypted_key=keys.encrypt(value),
            suffix=value[-4:],
            is_primary=primary,
        )
    )
    session.flush()
    return value


def primary_api_key(session: Session, keys: KeyBox, account: Account) -> str:
    """The key ``event_hash`` is computed with: the primary key, or the oldest active one."""
    row = accounts.primary_key(session, account)
    if row is None:
        raise BadRequest("The account has no active API key.")
    return keys.decrypt(row.encrypted_key)


def _owned(session: Session, account: Account, key_id: int) -> ApiKey:
    key = accounts.owned_active_key(session, account, key_id)
    if key is None:
        raise NotFound("No active API key with that id.")
    return key


def create_key(session: Session, keys: KeyBox, account: Account, name: str) -> str:
    """A new, non-primary key; its value is returned once, for the page to show."""
    name = name.strip()
    if not name:
        raise BadRequest("Give the key a name.", error_path="name")
    if len(name) > MAX_NAME:
        raise BadRequest(f"A key name has at most {MAX_NAME} characters.", error_path="name")
    value = add_api_key(session, keys, account, name=name)
    audit.record(
        session, AuditTag.WEB_API_KEY_CREATED, account_id=account.id, data={"suffix": value[-4:], "name": name}
    )
    return value


def make_primary(session: Session, account: Account, key_id: int) -> ApiKey:
    """The primary key is the one ``event_hash`` is computed with, for events emitted from now on."""
    key = _owned(session, account, key_id)
    for other in accounts.active_keys(session, account):
        other.is_primary = other.id == key.id
    audit.record(session, AuditTag.WEB_API_KEY_MADE_PRIMARY, account_id=account.id, data={"suffix": key.suffix})
    return key


def revoke(session: Session, account: Account, key_id: int) -> ApiKey:
    """Revoke a key at once; never the last one (the account would lock itself out of the API)."""
    key = _owned(session, account, key_id)
    active = accounts.active_keys(session, account)
    if len(active) <= 1:
        raise BadRequest("This is your only API key; create another before revoking it.")
    key.revoked_at = utcnow()
    if key.is_primary:
        key.is_primary = False
        successor = next(k for k in active if k.id != key.id)
        successor.is_primary = True
    audit.record(session, AuditTag.WEB_API_KEY_REVOKED, account_id=account.id, data={"suffix": key.suffix})
    return key


def reveal(session: Session, keys: KeyBox, account: Account, key_id: int) -> tuple[ApiKey, str]:
    """The key's value; the caller has re-checked the password."""
    key = _owned(session, account, key_id)
    audit.record(session, AuditTag.WEB_API_KEY_REVEALED, account_id=account.id, data={"suffix": key.suffix})
    return key, keys.decrypt(key.encrypted_key)
