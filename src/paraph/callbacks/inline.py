"""Sending a delivery right now, in the request (the Test button, POST /paraph/v1/callbacks/test)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from anyio import to_thread

from paraph.callbacks import delivery, targets
from paraph.callbacks.dispatcher import send_claimed
from paraph.callbacks.events import EventType
from paraph.callbacks.sender import CallbackSender
from paraph.callbacks.service import emit, endpoint_for_target
from paraph.models import Account, CallbackDelivery, CallbackEndpoint
from paraph.models.callback import DeliveryState
from paraph.runtime import Runtime


async def send_test(rt: Runtime, account_pk: int, target: str) -> dict[str, Any]:
    """Emit ``callback_test`` for one target, send it at once, record the attempt, answer with the outcome.
    A successful test re-enables a disabled endpoint and releases the events it held."""
    lease = delivery.inline_lease_seconds(rt.settings)

    def prepare() -> tuple[delivery.Claimed, str]:
        with rt.unit_of_work() as session:
            account = session.get(Account, account_pk)
            assert account is not None
            _ep, app = endpoint_for_target(session, account, target)
            emitted = emit(
                session,
                rt.keys,
                account,
                EventType.CALLBACK_TEST,
                api_app=app,
                targets="app" if app else "account",
                lease_seconds=lease,
            )
            d = emitted.deliveries[0]
            claimed = delivery.load(session, [d.id])[0]
            return claimed, emitted.event.event_id

    claimed, event_id = await to_thread.run_sync(prepare)
    sender = CallbackSender(
        timeout=rt.settings.callback_timeout,
        allow_private=rt.settings.callback_allow_private,
        resolver=rt.resolver,
    )
    started = dt.datetime.now(dt.UTC)
    try:
        result = await send_claimed(sender, claimed)
    finally:
        await sender.close()

    def finish() -> None:
        with rt.unit_of_work() as session:
            delivery.record(session, [delivery.Outcome(claimed, result, started)], rt.settings)
            if result.ok:
                ep = session.get(CallbackEndpoint, claimed.endpoint_id)
                assert ep is not None
                targets.enable(session, ep)
            else:
                # A test is answered now; it is not retried in the background.
                d = session.get(CallbackDelivery, claimed.delivery_id)
                assert d is not None
                d.state = DeliveryState.FAILED
                d.next_attempt_at = None

    await to_thread.run_sync(finish)
    out = asdict(result)
    out["response_body"] = out.pop("body_excerpt")
    out["event_id"] = event_id
    out["target"] = target
    out["url"] = claimed.url
    return out
