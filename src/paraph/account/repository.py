from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

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


def delete_sessions(session: Session, account: Account, *, keep: str | None = None) -> int:
    """End the account's dashboard sessions, all but the one whose lookup is ``keep``; how many ended."""
    stmt = sa.delete(DashboardSession).where(DashboardSession.account_id == account.id)
    if keep is not None:
        stmt = stmt.where(DashboardSession.lookup != keep)
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]
