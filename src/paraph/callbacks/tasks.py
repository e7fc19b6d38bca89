"""Retention: payloads of delivered events are pruned after PARAPH_CALLBACK_RETENTION_DAYS, in batches.

Attempt rows (time, status, latency, excerpt, error) stay: they are the evidence."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from paraph.db import utcnow
from paraph.models import CallbackDelivery
from paraph.models.callback import DeliveryState
from paraph.runtime import Runtime
from paraph.worker.periodic import every

BATCH = 500


def prune(rt: Runtime, *, now: dt.datetime | None = None) -> int:
    cutoff = (now or utcnow()) - dt.timedelta(days=rt.settings.callback_retention_days)
    total = 0
    while True:
        with rt.unit_of_work() as session:
            ids = list(
                session.scalars(
                    sa.select(CallbackDelivery.id)
                    .where(
                        CallbackDelivery.state == DeliveryState.DELIVERED,
                        CallbackDelivery.delivered_at < cutoff,
                        CallbackDelivery.body_json.is_not(None),
                    )
                    .limit(BATCH)
                )
            )
            if ids:
                session.execute(sa.update(CallbackDelivery).where(CallbackDelivery.id.in_(ids)).values(body_json=None))
        total += len(ids)
        if len(ids) < BATCH:
            return total


@every(3600, "callbacks.prune")
def _prune(rt: Runtime) -> None:
    prune(rt)
