"""A slow endpoint slows only itself: an endpoint that accepts connections and never answers holds at most its
share of the senders (per endpoint, and per account across its URL and its apps'), the rest of its backlog
stays queued in the database, and another account's callbacks go out past it. A fast endpoint alone with work
may borrow the idle senders, all but one endpoint's cap."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from paraph.account import repository as accounts
from paraph.api_app import service as api_apps
from paraph.api_app.schemas import ApiAppCreateRequest
from paraph.callbacks.events import EventType
from paraph.callbacks.service import emit
from paraph.models import Account, CallbackAttempt, CallbackDelivery, CallbackEndpoint
from paraph.runtime import Runtime
from tests.callbacks.helpers import point_account_at
from tests.client import wait_until
from tests.conftest import AccountInfo
from tests.factories import emit_events, make_account
from tests.receiver import HangingServer, Receiver, ReceiverServer


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # Long enough that the hanging endpoint's attempts are still open when the test ends.
    return {
        "callback_concurrency": 6,
        "callback_timeout": 120.0,
        "callback_max_in_flight_per_endpoint": 2,
        "callback_max_in_flight_per_account": 3,
    }


@pytest.fixture
def hanging() -> Iterator[HangingServer]:
    srv = HangingServer().start()
    yield srv
    srv.stop()


def states_by_url(rt: Runtime, prefix: str) -> tuple[int, int, int]:
    """For the deliveries to URLs starting with ``prefix``: (pending and leased, pending and unleased,
    attempts recorded)."""
    with rt.unit_of_work(write=False) as session:
        d = CallbackDelivery
        eps = sa.select(CallbackEndpoint.id).where(CallbackEndpoint.url.startswith(prefix)).scalar_subquery()
        rows = session.execute(sa.select(d.state, d.locked_by).where(d.endpoint_id.in_(eps))).all()
        attempts = session.scalar(
            sa.select(sa.func.count())
            .select_from(CallbackAttempt)
            .join(d, d.id == CallbackAttempt.delivery_id)
            .where(d.endpoint_id.in_(eps))
        )
    assert all(r[0] == "pending" for r in rows)
    return (sum(1 for r in rows if r[1] is not None), sum(1 for r in rows if r[1] is None), attempts or 0)


def test_a_hanging_endpoint_does_not_hold_back_another_accounts_callbacks(
    runtime: Runtime, account: AccountInfo, receiver: Receiver, hanging: HangingServer, start_worker: Any
) -> None:
    point_account_at(runtime, account, hanging.url + "/never-answers")
    emit_events(runtime, account, 30)
    other = make_account(runtime)
    point_account_at(runtime, other, receiver.url + "/b")
    running = start_worker()
    try:
        wait_until(lambda: hanging.connections == 2)  # the endpoint's cap: two of the six senders
        [sent] = emit_events(runtime, other, 1)
        got = receiver.wait_for(1, timeout=30)
        # B's callback arrived while A's two attempts still hang: nothing of A's is recorded yet, and A's
        # backlog beyond its share of the window (half of 6 x 4) is still queued, not held by this worker.
        leased, queued, attempts = states_by_url(runtime, hanging.url)
        assert (hanging.connections, attempts) == (2, 0)
        assert leased <= 12 and queued >= 18
        assert got[0].headers["webhook-id"] == sent
        wait_until(lambda: dict(states_of(runtime, other)) == {"delivered": 1})
    finally:
        hanging.stop()  # A's attempts end (connection closed), so the worker stops at once
        running.stop()


def test_an_accounts_endpoints_together_stay_within_its_cap(
    runtime: Runtime, account: AccountInfo, receiver: Receiver, hanging: HangingServer, start_worker: Any
) -> None:
    """The account's URL and its app's URL both hang: three POSTs in flight for the account (its cap), not two
    per endpoint (four); the other three senders serve another account."""
    point_account_at(runtime, account, hanging.url + "/account")
    with runtime.unit_of_work() as session:
        acct = accounts.by_account_id(session, account.account_id)
        assert acct is not None
        app = api_apps.create(
            session,
            acct,
            ApiAppCreateRequest(name="Slow app", domains=["example.com"], callback_url=hanging.url + "/app"),
        )
        for i in range(15):
            emit(
                session,
                runtime.keys,
                acct,
                EventType.SIGNATURE_REQUEST_SENT,
                api_app=app,
                signature_request_id=f"{i:040x}",
            )
    other = make_account(runtime)
    point_account_at(runtime, other, receiver.url + "/b")
    running = start_worker()
    try:
        wait_until(lambda: hanging.connections == 3)
        emit_events(runtime, other, 3)
        receiver.wait_for(3, timeout=30)
        _leased, _queued, attempts = states_by_url(runtime, hanging.url)
        assert (hanging.connections, attempts) == (3, 0)
    finally:
        hanging.stop()
        running.stop()


def test_a_fast_endpoint_alone_borrows_the_idle_senders_but_one_caps_worth(
    runtime: Runtime, account: AccountInfo, receiver: Receiver, start_worker: Any
) -> None:
    """Six senders, a cap of two per endpoint (three per account). The endpoint answers its first two callbacks
    at once and then holds every later one: having answered quickly while alone with work, it borrows up to
    four senders (six less one cap), not six; the two left take another account's callback at once."""
    receiver.behaviour.hold_after = 2
    point_account_at(runtime, account, receiver.url + "/fast")
    emit_events(runtime, account, 20)
    other_srv = ReceiverServer()
    other_receiver = other_srv.start()
    running = start_worker()
    try:
        wait_until(lambda: len(receiver.received) == 2 + 4)
        other = make_account(runtime)
        point_account_at(runtime, other, other_receiver.url + "/b")
        [sent] = emit_events(runtime, other, 1)
        [got] = other_receiver.wait_for(1, timeout=30)
        assert got.headers["webhook-id"] == sent
        assert len(receiver.received) == 6  # still four held: no sender beyond the borrowing cap
        receiver.behaviour.released.set()
        wait_until(lambda: dict(states_of(runtime, account)) == {"delivered": 20})
    finally:
        receiver.behaviour.released.set()
        running.stop()
        other_srv.stop()


def states_of(rt: Runtime, acct: AccountInfo) -> list[tuple[str, int]]:
    with rt.unit_of_work(write=False) as session:
        d = CallbackDelivery
        return [
            (r[0], r[1])
            for r in session.execute(
                sa.select(d.state, sa.func.count())
                .join(CallbackEndpoint, CallbackEndpoint.id == d.endpoint_id)
                .join(Account, Account.id == CallbackEndpoint.account_id)
                .where(Account.account_id == acct.account_id)
                .group_by(d.state)
            )
        ]
