"""Accounts (their API keys: :mod:`paraph.account.keys`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from paraph import audit
from paraph.account import repository
from paraph.account.keys import add_api_key
from paraph.audit import AuditTag
from paraph.callbacks import targets as callback_targets
from paraph.errors import BadRequest, NotFound
from paraph.models import Account, ApiApp
from paraph.security import KeyBox, constant_time_equals, hash_password, new_hex_id


@dataclass(slots=True)
class NewAccount:
    account: Account
    api_key: str


def create_account(
    session: Session,
    keys: KeyBox,
    email: str,
    *,
    password: str | None = None,
    locale: str | None = None,
    created_by_app: ApiApp | None = None,
) -> NewAccount:
    if repository.by_email(session, email) is not None:
        raise BadRequest("An account with this email address already exists.", error_path="email_address")
    account = Account(
        account_id=new_hex_id(20),
        email_address=email,
        password_hash=hash_password(password) if password else None,
        locale=locale or "en-US",
        created_by_app_id=created_by_app.id if created_by_app else None,
    )
    session.add(account)
    session.flush()
    key = add_api_key(session, keys, account, name="Default", primary=True)
    audit.record(session, AuditTag.CLI_ACCOUNT_CREATED, account_id=account.id, actor_email=email)
    return NewAccount(account, key)


MAX_PASSWORD_LENGTH = 1024  # the sign-in form reads no more


def check_password(password: str) -> str:
    """A dashboard password as it may be stored (``ValueError`` names what is wrong)."""
    if not password:
        raise ValueError("the password is empty")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"the password is longer than {MAX_PASSWORD_LENGTH} characters")
    return password


_PASSWORD_CHANGED = {"cli": AuditTag.CLI_ACCOUNT_PASSWORD_CHANGED, "web": AuditTag.WEB_ACCOUNT_PASSWORD_CHANGED}


def set_password(
    session: Session,
    account: Account | str,
    password: str,
    *,
    source: Literal["cli", "web"],
    keep_session: str | None = None,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> Account:
    """Set the dashboard password (``source`` is ``cli`` or ``web``) and end every other dashboard session of
    the account: whoever knew the old password is signed out."""
    if isinstance(account, str):
        found = repository.by_email(session, account)
        if found is None:
            raise NotFound(
                f"No account with the email address {account}."
                f" Create one with: paraph account create {account} --password ...",
                error_path="email_address",
            )
        account = found
    account.password_hash = hash_password(check_password(password))
    ended = repository.delete_sessions(session, account, keep=keep_session)
    audit.record(
        session,
        _PASSWORD_CHANGED[source],
        account_id=account.id,
        actor_email=account.email_address,
        ip_address=ip_address,
        user_agent=user_agent,
        data={"sessions_ended": ended},
    )
    return account


def get_account(session: Session, caller: Account, account_id: str | None, email: str | None) -> Account:
    """GET /account: the caller's own account. Naming another account is a 404: Paraph has no teams."""
    if account_id is not None and not constant_time_equals(account_id, caller.account_id):
        raise NotFound("Account not found.", error_path="account_id")
    if account_id is None and email is not None and email.lower() != caller.email_address.lower():
        raise NotFound("Account not found.", error_path="email_address")
    return caller


def update_account(
    session: Session, account: Account, *, callback_url: str | None, locale: str | None, fields_set: set[str]
) -> Account:
    if "locale" in fields_set and locale:
        account.locale = locale
    if "callback_url" in fields_set:
        callback_targets.url_saved(session, account, None, callback_url or None)
    audit.record(session, AuditTag.API_ACCOUNT_UPDATED, account_id=account.id, data={"fields": sorted(fields_set)})
    return account


def verify_account(session: Session, email: str) -> Account | None:
    return repository.by_email(session, email)
