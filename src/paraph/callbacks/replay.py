"""Resend one event, replay a range: how an integrator reconciles after an outage."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from paraph.api_app import repository as apps
from paraph.callbacks import repository
from paraph.callbacks.service import add_deliveries
from paraph.db import utcnow
from paraph.errors import BadRequest, Conflict, NotFound
from paraph.models import Account, ApiApp, CallbackDelivery, CallbackEvent
from paraph.models.callback import DeliveryState
from paraph.security import KeyBox
from paraph.worker.wakeup import wake


def _requeue(session: Session, deliveries: list[CallbackDelivery]) -> int:
    """Put deliveries back in line for a fresh round of attempts. One UPDATE that sets every column, so a
    worker recording an attempt at the same moment cannot leave a half-merged row behind."""
    if any(d.body_json is None for d in deliveries):
        raise Conflict("The payload of this event was pruned after the retention period; it cannot be sent.")
    ids = [d.id for d in deliveries]
    if not ids:
        return 0
    session.execute(
        sa.update(CallbackDelivery)
        .where(CallbackDelivery.id.in_(ids))
        .values(
            state=DeliveryState.PENDING,
            attempt_count=0,
            next_attempt_at=utcnow(),
            locked_until=None,
            locked_by=None,
        )
        .execution_options(synchronize_session=False)
    )
    wake(session)
    return len(ids)


def resend(session: Session, keys: KeyBox, account: Account, event_id: str) -> CallbackEvent:
    """Deliver the event again. An event that went nowhere (no URL was set) goes to today's URLs."""
    event = repository.get_event(session, account, event_id)
    if event is None:
        raise NotFound("No event with that id.")
    if event.deliveries:
        _requeue(session, list(event.deliveries))
    else:
        app: ApiApp | None = session.get(ApiApp, event.api_app_id) if event.api_app_id else None
        targets: list[ApiApp | None] = []
        if account.callback_url and event.event_type != "account_confirmed":
            targets.append(None)
        if app is not None and app.callback_url:
            targets.append(app)
        if not targets:
            raise BadRequest("No callback URL is set to send this event to.")
        add_deliveries(session, keys, event, account, app, targets)
    session.flush()
    session.expire_all()
    found = repository.get_event(session, account, event_id)
    assert found is not None
    return found


def replay(
    session: Session, account: Account, *, since: dt.datetime | None, until: dt.datetime | None, state: str
) -> int:
    if state not in ("failed", "held", "delivered", "pending"):
        raise BadRequest("state must be failed, held, delivered or pending", error_path="state")
    rows = repository.deliveries_in_range(session, account, state, since, until)
    return _requeue(session, [d for d in rows if d.body_json is not None])


def app_or_none(session: Session, account: Account, client_id: str | None) -> ApiApp | None:
    return apps.get_owned(session, account, client_id) if client_id else None
