"""Every query on events and deliveries."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from paraph.models import Account, ApiApp, CallbackAttempt, CallbackDelivery, CallbackEndpoint, CallbackEvent

STATES = ("pending", "delivered", "failed", "held", "no_endpoint")


def list_events(
    session: Session,
    account: Account,
    *,
    event_type: str | None = None,
    signature_request_id: str | None = None,
    template_id: str | None = None,
    state: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> list[CallbackEvent]:
    """Newest first, keyset-paginated on the event's row id. ``state`` matches events with at least one
    delivery in that state (``no_endpoint``: events no endpoint was set for)."""
    q = sa.select(CallbackEvent).where(CallbackEvent.account_id == account.id)
    if event_type:
        q = q.where(CallbackEvent.event_type == event_type)
    if signature_request_id:
        q = q.where(CallbackEvent.signature_request_id == signature_request_id)
    if template_id:
        q = q.where(CallbackEvent.template_id == template_id)
    if since is not None:
        q = q.where(CallbackEvent.created_at >= since)
    if until is not None:
        q = q.where(CallbackEvent.created_at <= until)
    if before_id is not None:
        q = q.where(CallbackEvent.id < before_id)
    has = sa.select(CallbackDelivery.id).where(CallbackDelivery.event_id == CallbackEvent.id)
    if state == "no_endpoint":
        q = q.where(~has.exists())
    elif state:
        q = q.where(has.where(CallbackDelivery.state == state).exists())
    q = (
        q.order_by(CallbackEvent.id.desc())
        .limit(limit)
        .options(
            selectinload(CallbackEvent.deliveries).selectinload(CallbackDelivery.attempts),
            selectinload(CallbackEvent.deliveries).selectinload(CallbackDelivery.endpoint),
        )
    )
    return list(session.scalars(q))


def get_event(session: Session, account: Account, event_id: str) -> CallbackEvent | None:
    return session.scalars(
        sa.select(CallbackEvent)
        .where(CallbackEvent.account_id == account.id, CallbackEvent.event_id == event_id)
        .options(
            selectinload(CallbackEvent.deliveries).selectinload(CallbackDelivery.attempts),
            selectinload(CallbackEvent.deliveries).selectinload(CallbackDelivery.endpoint),
        )
    ).first()


def deliveries_in_range(
    session: Session, account: Account, state: str, since: dt.datetime | None, until: dt.datetime | None
) -> list[CallbackDelivery]:
    q = (
        sa.select(CallbackDelivery)
        .join(CallbackEvent, CallbackEvent.id == CallbackDelivery.event_id)
        .where(CallbackEvent.account_id == account.id, CallbackDelivery.state == state)
    )
    if since is not None:
        q = q.where(CallbackEvent.created_at >= since)
    if until is not None:
        q = q.where(CallbackEvent.created_at <= until)
    return list(session.scalars(q.order_by(CallbackDelivery.id)))


def target_names(session: Session, account: Account) -> dict[int, str]:
    """endpoint id -> ``account`` or the app's client_id."""
    rows = session.execute(
        sa.select(CallbackEndpoint.id, ApiApp.client_id)
        .outerjoin(ApiApp, ApiApp.id == CallbackEndpoint.api_app_id)
        .where(CallbackEndpoint.account_id == account.id)
    ).all()
    return {r[0]: (r[1] or "account") for r in rows}


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
