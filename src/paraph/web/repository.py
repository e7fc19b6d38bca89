"""The request inspector's queries (every other query of the dashboard is in its domain's repository)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from paraph.models import (
    InspectedRequest,
)

# -- inspector -----------------------------------------------------------------------------------------


def add_inspected(session: Session, row: InspectedRequest, *, keep_per_name: int, keep_total: int) -> None:
    """Insert ``row`` and drop what falls outside the caps (the newest ``keep_per_name`` of its name and the
    newest ``keep_total`` overall), so an open endpoint cannot fill the database."""
    session.add(row)
    session.flush()
    for where, keep in ((InspectedRequest.name == row.name, keep_per_name), (sa.true(), keep_total)):
        cutoff = session.scalar(
            sa.select(InspectedRequest.id).where(where).order_by(InspectedRequest.id.desc()).offset(keep).limit(1)
        )
        if cutoff is not None:
            session.execute(sa.delete(InspectedRequest).where(where, InspectedRequest.id <= cutoff))


def inspected(session: Session, name: str, limit: int) -> list[InspectedRequest]:
    return list(
        session.scalars(
            sa.select(InspectedRequest)
            .where(InspectedRequest.name == name)
            .order_by(InspectedRequest.id.desc())
            .limit(limit)
        )
    )
