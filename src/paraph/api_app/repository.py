from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from paraph.models import Account, ApiApp


def get_owned(session: Session, account: Account, client_id: str) -> ApiApp | None:
    return session.scalars(
        sa.select(ApiApp)
        .where(ApiApp.client_id == client_id, ApiApp.account_id == account.id, ApiApp.deleted_at.is_(None))
        .options(joinedload(ApiApp.owner))
    ).first()


def by_client_id(session: Session, client_id: str) -> ApiApp | None:
    return session.scalars(sa.select(ApiApp).where(ApiApp.client_id == client_id, ApiApp.deleted_at.is_(None))).first()


def list_owned(session: Session, account: Account, offset: int, limit: int) -> tuple[list[ApiApp], int]:
    where = (ApiApp.account_id == account.id, ApiApp.deleted_at.is_(None))
    total = session.scalar(sa.select(sa.func.count()).select_from(ApiApp).where(*where)) or 0
    rows = session.scalars(
        sa.select(ApiApp)
        .where(*where)
        .order_by(ApiApp.id)
        .offset(offset)
        .limit(limit)
        .options(joinedload(ApiApp.owner))
    )
    return list(rows), total
