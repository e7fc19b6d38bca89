"""Payloads of delivered events are pruned after the retention period; attempt records stay."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from paraph.callbacks.tasks import prune
from paraph.models import CallbackAttempt, CallbackDelivery
from tests.callbacks.helpers import events, set_callback
from tests.client import wait_until
from tests.conftest import AccountInfo, Server
from tests.factories import emit_events
from tests.receiver import Receiver


def test_it_prunes_old_delivered_payloads_but_keeps_attempts(
    server: Server, account: AccountInfo, receiver: Receiver
) -> None:
    set_callback(server.url, account, receiver.url + "/p")
    emit_events(server.runtime, account, 3)
    wait_until(lambda: len(events(server.url, account, state="delivered")["events"]) == 3)
    rt = server.runtime
    assert prune(rt) == 0  # nothing is old yet
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=rt.settings.callback_retention_days + 1)
    assert prune(rt, now=later) == 3
    with rt.unit_of_work(write=False) as s:
        assert s.scalar(sa.select(sa.func.count()).where(CallbackDelivery.body_json.is_not(None))) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(CallbackAttempt)) == 3
    listed = events(server.url, account)["events"]
    assert all(e["deliveries"][0]["payload"] is None for e in listed)
    assert all(len(e["deliveries"][0]["attempts"]) == 1 for e in listed)
