"""Delivery leases are short and renewed while the worker holds the delivery: a killed worker's callbacks go out
again soon, and a live worker's slow attempt is never sent a second time by another worker."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from paraph.callbacks import delivery
from paraph.db import utcnow
from paraph.models import CallbackDelivery
from paraph.runtime import Runtime
from tests.callbacks.helpers import deliveries, point_account_at
from tests.client import wait_until
from tests.conftest import AccountInfo
from tests.factories import emit_events
from tests.receiver import Receiver


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"callback_concurrency": 2, "callback_timeout": 10.0}


def test_a_killed_workers_deliveries_go_out_again_once_their_short_lease_ends(
    runtime: Runtime, account: AccountInfo, receiver: Receiver, start_worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_account_at(runtime, account, receiver.url + "/hook")
    [event_id] = emit_events(runtime, account, 1)
    with runtime.unit_of_work() as session:
        before = utcnow()
        assert len(delivery.claim(session, "killed-worker", 10, runtime.settings)) == 1  # never renewed
    with runtime.unit_of_work(write=False) as session:
        lease_end = session.scalar(sa.select(CallbackDelivery.locked_until))
    assert lease_end is not None and lease_end <= before + dt.timedelta(seconds=30)
    monkeypatch.setattr(delivery, "DELIVERY_LEASE_SECONDS", 1.0)
    with runtime.unit_of_work() as session:  # ... and the killed worker's lease runs out
        session.execute(sa.update(CallbackDelivery).values(locked_until=utcnow() + dt.timedelta(seconds=0.5)))
    start_worker()
    wait_until(lambda: deliveries(runtime) == [("delivered", 1, None, 1)])
    assert [r.headers["webhook-id"] for r in receiver.received] == [event_id]


def test_a_slow_attempt_keeps_its_lease_and_is_not_sent_twice(
    runtime: Runtime, account: AccountInfo, receiver: Receiver, start_worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The receiver takes three leases to answer; a second worker polls all along and never sends it."""
    monkeypatch.setattr(delivery, "DELIVERY_LEASE_SECONDS", 1.0)
    receiver.behaviour.delay = 3.0
    point_account_at(runtime, account, receiver.url + "/hook")
    start_worker()
    start_worker()
    [event_id] = emit_events(runtime, account, 1)
    receiver.wait_for(1)
    with runtime.unit_of_work(write=False) as session:
        first_lease = session.scalar(sa.select(CallbackDelivery.locked_until))
    assert first_lease is not None

    def renewed_past_first_lease() -> bool:
        with runtime.unit_of_work(write=False) as session:
            now = session.scalar(sa.select(CallbackDelivery.locked_until))
        return now is not None and now > first_lease + dt.timedelta(seconds=1.5)

    wait_until(renewed_past_first_lease)  # the first lease has run out by now: only renewal kept it
    wait_until(lambda: deliveries(runtime) == [("delivered", 1, None, 1)])
    assert [r.headers["webhook-id"] for r in receiver.received] == [event_id]
