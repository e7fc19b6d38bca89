"""The callback inspector's queries: captures and the names accounts created."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from paraph.models import Account, InspectedRequest, InspectorName

#: Passes of the global trim per capture: each frees at least the excess, so one is the rule.
_TRIM_PASSES = 20

# -- captures ------------------------------------------------------------------------------------------


def add_capture(
    session: Session, row: InspectedRequest, *, keep_per_name: int, name_max_bytes: int, keep_total: int, max_bytes: int
) -> None:
    """Insert ``row``, then drop what falls outside the caps: first the oldest captures of its own name (at most
    ``keep_per_name`` rows and ``name_max_bytes`` bytes per name), then, while all captures together hold more
    than ``keep_total`` rows or ``max_bytes`` bytes, the oldest captures of the name holding the most bytes
    (of two as large, the one caught at last). A flood on one name so only ever evicts that name's captures,
    and with many names the largest gives way first: a name keeps at least as much as any other."""
    session.add(row)
    session.flush()
    _trim_name(session, row.name, keep_per_name, name_max_bytes)
    _trim_total(session, keep_total, max_bytes)


def _trim_name(session: Session, name: str, keep: int, max_bytes: int) -> None:
    rows = session.execute(
        sa.select(InspectedRequest.id, InspectedRequest.stored_bytes)
        .where(InspectedRequest.name == name)
        .order_by(InspectedRequest.id.desc())
    ).all()
    total = 0
    for i, (row_id, size) in enumerate(rows):
        total += size
        if i > 0 and (i >= keep or total > max_bytes):  # the newest capture always stays
            session.execute(
                sa.delete(InspectedRequest).where(InspectedRequest.name == name, InspectedRequest.id <= row_id)
            )
            return


def _trim_total(session: Session, keep: int, max_bytes: int) -> None:
    for _ in range(_TRIM_PASSES):
        count, total = session.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(InspectedRequest.stored_bytes), 0))
        ).one()
        excess_rows, excess_bytes = count - keep, total - max_bytes
        if excess_rows <= 0 and excess_bytes <= 0:
            return
        largest = session.scalar(
            sa.select(InspectedRequest.name)
            .group_by(InspectedRequest.name)
            .order_by(sa.func.sum(InspectedRequest.stored_bytes).desc(), sa.func.max(InspectedRequest.id).desc())
            .limit(1)
        )
        oldest = session.execute(
            sa.select(InspectedRequest.id, InspectedRequest.stored_bytes)
            .where(InspectedRequest.name == largest)
            .order_by(InspectedRequest.id)
        )
        freed = dropped = 0
        cutoff = None
        for row_id, size in oldest:
            cutoff, freed, dropped = row_id, freed + size, dropped + 1
            if dropped >= excess_rows and freed >= excess_bytes:
                break
        if cutoff is None:
            return
        session.execute(
            sa.delete(InspectedRequest).where(InspectedRequest.name == largest, InspectedRequest.id <= cutoff)
        )


def captures(session: Session, name: str, limit: int) -> list[InspectedRequest]:
    return list(
        session.scalars(
            sa.select(InspectedRequest)
            .where(InspectedRequest.name == name)
            .order_by(InspectedRequest.id.desc())
            .limit(limit)
        )
    )


def delete_captures(session: Session, name: str) -> None:
    session.execute(sa.delete(InspectedRequest).where(InspectedRequest.name == name))


# -- names ---------------------------------------------------------------------------------------------


def by_name(session: Session, name: str) -> InspectorName | None:
    return session.scalar(sa.select(InspectorName).where(InspectorName.name == name))


def names_of(session: Session, account: Account) -> list[InspectorName]:
    return list(
        session.scalars(
            sa.select(InspectorName).where(InspectorName.account_id == account.id).order_by(InspectorName.name)
        )
    )


def count_names(session: Session, account: Account) -> int:
    return session.scalar(sa.select(sa.func.count()).where(InspectorName.account_id == account.id)) or 0
