"""Every query of bulk send jobs."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from paraph.db import is_postgres
from paraph.models import Account, BulkSendJob, SignatureRequest


def owned(session: Session, account: Account, bulk_send_job_id: str) -> BulkSendJob | None:
    return session.scalars(
        sa.select(BulkSendJob).where(
            BulkSendJob.bulk_send_job_id == bulk_send_job_id, BulkSendJob.account_id == account.id
        )
    ).first()


def by_pk(session: Session, pk: int, *, lock: bool = False) -> BulkSendJob | None:
    q = sa.select(BulkSendJob).where(BulkSendJob.id == pk)
    if lock and is_postgres(session):
        q = q.with_for_update()
    return session.scalars(q).first()


def list_owned(session: Session, account: Account, offset: int, limit: int) -> tuple[list[BulkSendJob], int]:
    """The account's jobs, newest first."""
    where = BulkSendJob.account_id == account.id
    total = session.scalar(sa.select(sa.func.count()).select_from(BulkSendJob).where(where)) or 0
    rows = session.scalars(
        sa.select(BulkSendJob).where(where).order_by(BulkSendJob.id.desc()).offset(offset).limit(limit)
    )
    return list(rows), total


def advance(session: Session, job: BulkSendJob, start: int, end: int) -> bool:
    """Move the job's ``next_row`` from ``start`` to ``end``, only if nobody else moved it meanwhile."""
    result = session.execute(
        sa.update(BulkSendJob)
        .where(BulkSendJob.id == job.id, BulkSendJob.next_row == start)
        .values(next_row=end)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def rows_made(session: Session, job: BulkSendJob) -> set[int]:
    """The rows of ``job`` that have their request already."""
    found = session.scalars(
        sa.select(SignatureRequest.bulk_row).where(SignatureRequest.bulk_send_job_id == job.bulk_send_job_id)
    )
    return {int(r) for r in found if r is not None}
