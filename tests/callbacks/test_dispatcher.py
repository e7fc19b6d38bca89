"""The worker's fixed pool of senders: a stopping worker sends what it claimed, records it, and gives back the
leases of what it could not send in time."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from anyio import to_thread

from paraph.callbacks import dispatcher as dispatcher_module
from paraph.models import CallbackDelivery
from paraph.runtime import Runtime
from tests.callbacks.helpers import deliveries, point_account_at
from tests.client import wait_until
from tests.conftest import AccountInfo
from tests.factories import emit_events
from tests.receiver import Receiver


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"callback_concurrency": 2, "callback_timeout": 5.0}


def test_it_delivers_a_burst_through_a_pool_smaller_than_the_burst(
    runtime: Runtime, account: AccountInfo, receiver: Receiver, start_worker: Any
) -> None:
    point_account_at(runtime, account, receiver.url + "/hook")
    emit_events(runtime, account, 25)
    running = start_worker()
    receiver.wait_for(25)
    wait_until(lambda: all(d[0] == "delivered" for d in deliveries(runtime)))
    running.stop()
    assert deliveries(runtime) == [("delivered", 1, None, 1)] * 25
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 25


def test_a_stopping_worker_sends_and_records_everything_it_claimed(
    runtime: Runtime, account: AccountInfo, receiver: Receiver, start_worker: Any
) -> None:
    receiver.behaviour.delay = 0.3
    point_account_at(runtime, account, receiver.url + "/hook")
    emit_events(runtime, account, 4)  # two senders, so two wait in the queue (one endpoint holds half the window)
    running = start_worker()
    receiver.wait_for(1)
    running.stop()  # returns once the drain is over
    assert len(receiver.received) == 4
    assert deliveries(runtime) == [("delivered", 1, None, 1)] * 4


def test_a_stopping_worker_gives_back_what_it_could_not_send_in_time(
    runtime: Runtime, account: AccountInfo, receiver: Receiver, start_worker: Any
) -> None:
    receiver.behaviour.delay = 2.0
    point_account_at(runtime, account, receiver.url + "/hook")
    emit_events(runtime, account, 6)
    running = start_worker()
    running.dispatcher.drain_timeout = 0.2
    receiver.wait_for(2)  # both senders busy, four deliveries queued
    running.stop()
    got = deliveries(runtime)
    # The two in flight were cut short: unrecorded, still under the lease (they go out again when it ends).
    in_flight = [d for d in got if d[2] is not None]
    assert len(in_flight) == 2
    assert all(d[0] == "pending" and d[3] == 0 for d in in_flight)
    # The four never sent are free for any worker at once.
    assert sorted(d for d in got if d[2] is None) == [("pending", 0, None, 0)] * 4
    # ... and the next worker sends all six.
    receiver.behaviour.delay = 0.0
    with runtime.unit_of_work() as session:  # the lease of the interrupted two runs out
        session.execute(sa.update(CallbackDelivery).values(locked_until=None))
    start_worker()
    wait_until(lambda: all(d[0] == "delivered" for d in deliveries(runtime)))
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 6


def test_a_stopping_worker_records_the_batch_its_flush_is_holding(
    runtime: Runtime, account: AccountInfo, receiver: Receiver, start_worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped while the flush holds every finished attempt and waits for a thread (as it does in ``paraph
    serve`` when the web server's requests hold anyio's threads): the attempts are still recorded, by the time
    the worker has stopped."""
    monkeypatch.setattr(dispatcher_module, "FLUSH_DELAY", 0.5)  # every outcome lands in the flush loop's one batch
    receiver.behaviour.delay = 0.2
    point_account_at(runtime, account, receiver.url + "/hook")
    emit_events(runtime, account, 2)  # one per sender, both answered within the flush delay
    running = start_worker()
    receiver.wait_for(1)  # claimed and being sent: now hold the only thread the worker's loop may use
    threads_free = threading.Event()

    async def hold_the_threads() -> None:
        to_thread.current_default_thread_limiter().total_tokens = 1
        await to_thread.run_sync(threads_free.wait)

    held = asyncio.run_coroutine_threadsafe(hold_the_threads(), running.loop)
    receiver.wait_for(2)
    dispatcher = running.dispatcher
    wait_until(lambda: not dispatcher._outcomes and dispatcher._idle.is_set())
    time.sleep(0.7)  # past the flush delay: the flush loop has taken the batch and waits for the thread
    threading.Timer(0.5, threads_free.set).start()
    running.stop()
    assert deliveries(runtime) == [("delivered", 1, None, 1)] * 2
    held.result(0)  # the worker waited for its thread, so the holder finished before the loop did
