"""Every query the dashboard makes that the domain repositories do not already offer."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from paraph.models import (
    Account,
    CallbackAttempt,
    CallbackDelivery,
    CallbackEndpoint,
    CallbackEvent,
    DashboardSession,
    InspectedRequest,
)

# -- sessions ------------------------------------------------------------------------------------------


def session_by_lookup(session: Session, lookup: str, now: dt.datetime) -> DashboardSession | None:
    return session.scalars(
        sa.select(DashboardSession).where(DashboardSession.lookup == lookup, DashboardSession.expires_at > now)
    ).first()


def delete_session(session: Session, lookup: str) -> None:
    session.execute(sa.delete(DashboardSession).where(DashboardSession.lookup == lookup))


def delete_expired_sessions(session: Session, now: dt.datetime) -> None:
    session.execute(sa.delete(DashboardSession).where(DashboardSession.expires_at <= now))


# -- callbacks -----------------------------------------------------------------------------------------


def attempts_since(session: Session, account: Account, since: dt.datetime) -> list[tuple[dt.datetime, int, bool]]:
    """(started_at, latency_ms, ok) of every attempt to the account's endpoints since ``since``."""
    rows = session.execute(
        sa.select(CallbackAttempt.started_at, CallbackAttempt.latency_ms, CallbackAttempt.ok)
        .join(CallbackDelivery, CallbackDelivery.id == CallbackAttempt.delivery_id)
        .join(CallbackEndpoint, CallbackEndpoint.id == CallbackDelivery.endpoint_id)
        .where(CallbackEndpoint.account_id == account.id, CallbackAttempt.started_at >= since)
        .order_by(CallbackAttempt.started_at)
    ).all()
    return [(r[0], int(r[1]), bool(r[2])) for r in rows]


def has_events(session: Session, account: Account) -> bool:
    return (
        session.scalar(sa.select(CallbackEvent.id).where(CallbackEvent.account_id == account.id).limit(1)) is not None
    )


def endpoint_secrets(session: Session, account: Account) -> list[tuple[int, str]]:
    """(endpoint id, whsec_ secret) of each of the account's endpoints."""
    rows = session.execute(
        sa.select(CallbackEndpoint.id, CallbackEndpoint.secret).where(CallbackEndpoint.account_id == account.id)
    ).all()
    return [(int(r[0]), str(r[1])) for r in rows]


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
