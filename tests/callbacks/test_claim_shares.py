"""How a claim shares one worker's window between endpoints: an endpoint is filled up to its share, and only
once it has sent half of that is it claimed for again (a flood of one endpoint's callbacks costs a claim per
half share, not one per recorded batch); a claim reads past a filled endpoint to the others' deliveries unless
told a recent one found nothing there, and says when it saw the end of the due deliveries."""

from __future__ import annotations

from collections import Counter

import pytest

from paraph.callbacks import delivery
from paraph.callbacks.dispatcher import Dispatcher
from paraph.runtime import Runtime
from tests.callbacks.helpers import point_account_at
from tests.conftest import AccountInfo
from tests.factories import emit_events, make_account

A, B = "http://127.0.0.1:9/a", "http://127.0.0.1:9/b"


@pytest.fixture
def backlog(runtime: Runtime, account: AccountInfo) -> dict[str, int]:
    """Twelve callbacks due to endpoint A, then two to another account's endpoint B: URL -> endpoint id."""
    point_account_at(runtime, account, A)
    emit_events(runtime, account, 12)
    other = make_account(runtime)
    point_account_at(runtime, other, B)
    emit_events(runtime, other, 2)
    with runtime.unit_of_work() as session:
        everything = delivery.claim(session, "peek", 100, runtime.settings)
        delivery.release(session, "peek", [c.delivery_id for c in everything])
    return {c.url or "": c.endpoint_id for c in everything}


def claim(rt: Runtime, shares: delivery.Shares, limit: int = 100) -> Counter[str]:
    with rt.unit_of_work() as session:
        return Counter(c.url or "" for c in delivery.claim(session, "w", limit, rt.settings, shares))


def test_a_claim_fills_an_endpoint_to_its_share_and_reads_past_it(runtime: Runtime, backlog: dict[str, int]) -> None:
    shares = delivery.Shares(4, 4)
    assert claim(runtime, shares) == {A: 4, B: 2}
    assert shares.exhausted  # it read to the end, past A's remaining eight


def test_an_endpoint_holding_more_than_half_its_share_is_left_out(runtime: Runtime, backlog: dict[str, int]) -> None:
    a = backlog[A]
    shares = delivery.Shares(4, 8, {a: 3})
    assert shares.left_out() == (frozenset({a}), frozenset())
    assert claim(runtime, shares) == {B: 2}
    # Once it has sent half its share, it is filled up to the share again.
    assert claim(runtime, delivery.Shares(4, 8, {a: 2})) == {A: 2}


def test_without_look_past_a_claim_stops_at_the_endpoint_it_filled(runtime: Runtime, backlog: dict[str, int]) -> None:
    shares = delivery.Shares(4, 4, look_past=False)
    assert claim(runtime, shares) == {A: 4}
    assert not shares.exhausted
    assert claim(runtime, delivery.Shares(100, 100)) == {A: 8, B: 2}  # B's stayed queued


def test_a_dispatcher_does_not_read_past_a_flooding_endpoint_again_until_there_is_news(runtime: Runtime) -> None:
    """After a claim that saw the end of the due deliveries past endpoint 1 (left out: it holds more than half
    its share), another would walk endpoint 1's backlog for nothing: the dispatcher claims again once there is
    news (a wake-up, a failed attempt's retry), the poll interval has passed, or endpoint 1 has sent half."""
    d = Dispatcher(runtime, poll_interval=60)
    half = d._share // 2
    d._held_ep, d._held_acct = {1: half + 1}, {1: half + 1}
    assert d._claim_room(idle_ok=True) > 0
    d._claimed(delivery.Shares(d._share, d._share, exhausted=True))
    assert d._claim_room(idle_ok=True) == 0
    d._held_ep, d._held_acct = {1: half}, {1: half}  # it has sent half: claimed for again
    assert d._claim_room(idle_ok=True) > 0
    d._held_ep, d._held_acct = {1: half + 1}, {1: half + 1}
    assert d._claim_room(idle_ok=True) == 0
    d.wake()
    assert d._claim_room(idle_ok=True) > 0
    # A claim that leaves nothing out always runs: on PostgreSQL "the end" may be another worker's locked rows.
    d._held_ep, d._held_acct = {}, {}
    d._claimed(delivery.Shares(d._share, d._share, exhausted=True))
    assert d._claim_room(idle_ok=True) > 0
