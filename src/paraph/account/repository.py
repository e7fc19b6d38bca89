from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from paraph.db import Plan
from paraph.models import Account, ApiKey, DashboardSession


def by_email(session: Session, email: str) -> Account | None:
    return session.scalars(sa.select(Account).where(sa.func.lower(Account.email_address) == email.lower())).first()


def by_account_id(session: Session, account_id: str) -> Account | None:
    return session.scalars(sa.select(Account).where(Account.account_id == account_id)).first()


def primary_key(session: Session, account: Account) -> ApiKey | None:
    return session.scalars(
        sa.select(ApiKey)
        .where(ApiKey.account_id == account.id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.is_primary.desc(), ApiKey.id)
    ).first()


def active_keys(session: Session, account: Account) -> list[ApiKey]:
    return list(
        session.scalars(
            sa.select(ApiKey).where(ApiKey.account_id == account.id, ApiKey.revoked_at.is_(None)).order_by(ApiKey.id)
        )
    )


def owned_active_key(session: Session, account: Account, key_id: int) -> ApiKey | None:
    return session.scalars(
        sa.select(ApiKey).where(ApiKey.id == key_id, ApiKey.account_id == account.id, ApiKey.revoked_at.is_(None))
    ).first()


#: The holder of an unrevoked API key, by the key's row id: what ``GET /v3/account`` shows, read on a Core
#: connection by ``paraph.hot_reads`` (the columns keep the model's attribute names).
_HOLDER = (
    sa.select(
        ApiKey.id.label("key_id"),
        Account.id.label("id"),
        Account.account_id.label("account_id"),
        Account.email_address.label("email_address"),
        Account.callback_url.label("callback_url"),
        Account.locale.label("locale"),
    )
    .join_from(ApiKey, Account, Account.id == ApiKey.account_id)
    .where(ApiKey.id == sa.bindparam("key_id"), ApiKey.revoked_at.is_(None))
)


_HOLDER_KEYS = [c.name for c in _HOLDER.selected_columns]


def key_holder(key_id: int) -> Plan[SimpleNamespace | None]:
    """The account holding the unrevoked key row ``key_id`` (its row id as ``id``), or None: a plan."""
    rows = yield _HOLDER, {"key_id": key_id}
    return SimpleNamespace(**dict(zip(_HOLDER_KEYS, rows[0], strict=True))) if rows else None


# -- dashboard sessions ----------------------------------------------------------------------------


def session_by_lookup(session: Session, lookup: str, now: dt.datetime) -> DashboardSession | None:
    return session.scalars(
        sa.select(DashboardSession)
        .where(DashboardSession.lookup == lookup, DashboardSession.expires_at > now)
        .options(joinedload(DashboardSession.account))
    ).first()


def delete_session(session: Session, lookup: str) -> None:
    session.execute(sa.delete(DashboardSession).where(DashboardSession.lookup == lookup))


def delete_expired_sessions(session: Session, now: dt.datetime) -> None:
    session.execute(sa.delete(DashboardSession).where(DashboardSession.expires_at <= now))


def delete_sessions(session: Session, account: Account, *, keep: str | None = None) -> int:
    """End the account's dashboard sessions, all but the one whose lookup is ``keep``; how many ended."""
    stmt = sa.delete(DashboardSession).where(DashboardSession.account_id == account.id)
    if keep is not None:
        stmt = stmt.where(DashboardSession.lookup != keep)
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]
