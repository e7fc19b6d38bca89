"""Delivering callbacks: claim due deliveries with a lease, POST them, record every attempt, schedule retries.

The database is the queue. A claim is a conditional UPDATE of ``locked_until`` (with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, under ``BEGIN IMMEDIATE`` on SQLite), so any number of workers share the work and a
worker killed mid-send loses nothing: its lease runs out and another worker sends the event again
(at-least-once; receivers de-duplicate on ``webhook-id``).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from paraph.callbacks.http import AttemptResult
from paraph.config import Settings
from paraph.db import is_postgres, utcnow
from paraph.models import CallbackAttempt, CallbackDelivery, CallbackEndpoint, CallbackEvent
from paraph.models.callback import DeliveryState
from paraph.worker import jobs


@dataclass(slots=True)
class Claimed:
    delivery_id: int
    endpoint_id: int
    url: str | None
    body_json: str
    webhook_id: str
    secret: str
    event_created_at: dt.datetime
    locked_by: str | None


def lease_seconds(settings: Settings) -> float:
    """Longer than one attempt can take, so a live worker never loses its lease mid-send."""
    return settings.callback_timeout * 2 + 5


def claim(session: Session, worker_id: str, limit: int, settings: Settings) -> list[Claimed]:
    now = utcnow()
    due = (
        sa.select(CallbackDelivery.id)
        .where(
            CallbackDelivery.state == DeliveryState.PENDING,
            CallbackDelivery.next_attempt_at <= now,
            sa.or_(CallbackDelivery.locked_until.is_(None), CallbackDelivery.locked_until < now),
        )
        .order_by(CallbackDelivery.next_attempt_at, CallbackDelivery.id)
        .limit(limit)
    )
    if is_postgres(session):
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if not ids:
        return []
    session.execute(
        sa.update(CallbackDelivery)
        .where(CallbackDelivery.id.in_(ids))
        .values(locked_until=now + dt.timedelta(seconds=lease_seconds(settings)), locked_by=worker_id)
    )
    return load(session, ids)


def load(session: Session, ids: list[int]) -> list[Claimed]:
    rows = session.execute(
        sa.select(
            CallbackDelivery.id,
            CallbackDelivery.endpoint_id,
            CallbackEndpoint.url,
            CallbackDelivery.body_json,
            CallbackEvent.event_id,
            CallbackEndpoint.secret,
            CallbackEvent.created_at,
            CallbackDelivery.locked_by,
        )
        .join(CallbackEndpoint, CallbackEndpoint.id == CallbackDelivery.endpoint_id)
        .join(CallbackEvent, CallbackEvent.id == CallbackDelivery.event_id)
        .where(CallbackDelivery.id.in_(ids))
        .order_by(CallbackDelivery.id)
    ).all()
    return [Claimed(r[0], r[1], r[2], r[3] or "", r[4], r[5], r[6], r[7]) for r in rows]


@dataclass(slots=True)
class Outcome:
    claimed: Claimed
    result: AttemptResult
    started_at: dt.datetime


def record(session: Session, outcomes: list[Outcome], settings: Settings) -> None:
    """Write the attempts and move each delivery on: delivered, retry later, or failed for good."""
    if not outcomes:
        return
    delays = settings.retry_delays
    now = utcnow()
    # Row locks on PostgreSQL: a resend committed while this attempt was in flight must not be overwritten
    # (SQLite serializes writers with BEGIN IMMEDIATE already).
    lock = is_postgres(session)
    dq = (
        sa.select(CallbackDelivery)
        .where(CallbackDelivery.id.in_([o.claimed.delivery_id for o in outcomes]))
        .order_by(CallbackDelivery.id)
    )
    deliveries = {d.id: d for d in session.scalars(dq.with_for_update() if lock else dq)}
    endpoint_ids = {o.claimed.endpoint_id for o in outcomes}
    eq = sa.select(CallbackEndpoint).where(CallbackEndpoint.id.in_(endpoint_ids)).order_by(CallbackEndpoint.id)
    eps = {e.id: e for e in session.scalars(eq.with_for_update() if lock else eq)}
    for o in outcomes:
        d = deliveries.get(o.claimed.delivery_id)
        if d is None:
            continue
        r = o.result
        session.add(
            CallbackAttempt(
                delivery_id=d.id,
                url=o.claimed.url or "",
                started_at=o.started_at,
                latency_ms=r.latency_ms,
                status_code=r.status_code,
                ok=r.ok,
                body_excerpt=r.body_excerpt,
                error=r.error,
            )
        )
        if d.locked_by != o.claimed.locked_by or d.state != DeliveryState.PENDING:
            continue  # resent or replayed while this attempt was in flight: the new round decides
        d.attempt_count += 1
        d.locked_until = None
        d.locked_by = None
        ep = eps[o.claimed.endpoint_id]
        if r.ok:
            d.state = DeliveryState.DELIVERED
            d.delivered_at = now
            ep.consecutive_failures = 0
            continue
        retries_used = d.attempt_count - 1
        if not r.transient or retries_used >= len(delays):
            d.state = DeliveryState.FAILED
            d.next_attempt_at = None
            _count_failed_event(session, ep, settings)
        else:
            delay = delays[retries_used] * (1 + random.uniform(0, 0.1))  # noqa: S311 - jitter, not security
            d.next_attempt_at = now + dt.timedelta(seconds=delay)


def _count_failed_event(session: Session, ep: CallbackEndpoint, settings: Settings) -> None:
    ep.consecutive_failures += 1
    if ep.disabled_at is None and ep.consecutive_failures >= settings.callback_disable_after:
        ep.disabled_at = utcnow()
        jobs.enqueue(session, "mail.endpoint_disabled", {"endpoint_id": ep.id})

