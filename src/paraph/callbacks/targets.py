"""Callback endpoints: the account's URL and each API app's URL, with their secret and health.

The endpoint row is the one home of a callback URL: ``Account.callback_url`` and ``ApiApp.callback_url`` read
it, and :func:`url_saved` is the only writer."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from paraph.callbacks.webhook_signature import new_webhook_secret
from paraph.db import utcnow
from paraph.models import Account, ApiApp, CallbackDelivery, CallbackEndpoint
from paraph.models.callback import DeliveryState
from paraph.worker.wakeup import wake


def get_or_create(session: Session, account: Account, app: ApiApp | None) -> CallbackEndpoint:
    ep = session.scalars(
        sa.select(CallbackEndpoint).where(
            CallbackEndpoint.account_id == account.id,
            CallbackEndpoint.api_app_id.is_(None) if app is None else CallbackEndpoint.api_app_id == app.id,
        )
    ).first()
    if ep is None:
        ep = CallbackEndpoint(account_id=account.id, api_app_id=app.id if app else None, secret=new_webhook_secret())
        session.add(ep)
        session.flush()
    return ep


def url_saved(session: Session, account: Account, app: ApiApp | None, url: str | None) -> CallbackEndpoint:
    """Saving a URL (even the same one) re-enables a disabled endpoint and releases what it held."""
    ep = get_or_create(session, account, app)
    ep.url = url
    if url:
        enable(session, ep)
    session.flush()
    session.refresh(app if app is not None else account, ["callback_url"])
    return ep


def enable(session: Session, ep: CallbackEndpoint) -> int:
    """Re-enable ``ep`` and put its held deliveries back in line. Returns how many were released."""
    ep.disabled_at = None
    ep.consecutive_failures = 0
    result = session.execute(
        sa.update(CallbackDelivery)
        .where(CallbackDelivery.endpoint_id == ep.id, CallbackDelivery.state == DeliveryState.HELD)
        .values(state=DeliveryState.PENDING, next_attempt_at=utcnow(), locked_until=None)
    )
    released = int(getattr(result, "rowcount", 0) or 0)
    if released:
        wake(session)
    return released


def for_account(session: Session, account: Account) -> list[CallbackEndpoint]:
    return list(
        session.scalars(
            sa.select(CallbackEndpoint).where(CallbackEndpoint.account_id == account.id).order_by(CallbackEndpoint.id)
        )
    )
