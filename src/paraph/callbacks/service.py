"""Emitting events: rows inserted in the caller's transaction (a transactional outbox).

An event is stored once (``callback_events``) and bound for each endpoint that should hear of it
(``callback_deliveries``), each with its own frozen body: the same bytes go out on every retry, so
``event_time``, ``event_hash`` and ``webhook-id`` never change for one event.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from paraph.account.keys import primary_api_key
from paraph.api_app import repository as apps
from paraph.callbacks import repository
from paraph.callbacks import targets as callback_targets
from paraph.callbacks.events import EventType
from paraph.callbacks.webhook_signature import callback_json, event_hash
from paraph.db import utcnow
from paraph.errors import BadRequest, NotFound
from paraph.models import Account, ApiApp, CallbackDelivery, CallbackEndpoint, CallbackEvent
from paraph.models.callback import DeliveryState
from paraph.security import KeyBox
from paraph.worker.wakeup import wake

Targets = Literal["default", "account", "app"]


@dataclass(slots=True)
class EmittedEvent:
    event: CallbackEvent
    deliveries: list[CallbackDelivery]


def emit(
    session: Session,
    keys: KeyBox,
    account: Account,
    event_type: EventType,
    *,
    api_app: ApiApp | None = None,
    object_kind: Literal["signature_request", "template", "account"] | None = None,
    object_json: dict[str, Any] | None = None,
    signature_request_id: str | None = None,
    template_id: str | None = None,
    related_signature_id: str | None = None,
    event_message: str | None = None,
    targets: Targets = "default",
    lease_seconds: float | None = None,
) -> EmittedEvent:
    """Record ``event_type`` for ``account`` and queue its deliveries, in the current transaction.

    ``targets``: ``default`` sends to the account URL and, when the event concerns an app, to the app URL
    (both when both are set); ``account`` or ``app`` limit it to one (callback_test, account_confirmed).
    ``lease_seconds`` creates the deliveries already leased, for a caller that sends them inline.
    """
    now = utcnow()
    event_time = str(int(time.time()))
    event = CallbackEvent(
        event_id="evt_" + uuid.uuid4().hex,
        account_id=account.id,
        api_app_id=api_app.id if api_app else None,
        event_type=str(event_type),
        event_time=int(event_time),
        event_message=event_message,
        related_signature_id=related_signature_id,
        signature_request_id=signature_request_id,
        template_id=template_id,
        object_kind=object_kind,
        object_json=object_json,
        created_at=now,
    )
    session.add(event)
    session.flush()

    wanted: list[ApiApp | None] = []
    if targets in ("default", "account") and account.callback_url:
        wanted.append(None)
    if targets in ("default", "app") and api_app is not None and api_app.callback_url:
        wanted.append(api_app)
    deliveries = add_deliveries(session, keys, event, account, api_app, wanted, lease_seconds=lease_seconds)
    return EmittedEvent(event, deliveries)


def add_deliveries(
    session: Session,
    keys: KeyBox,
    event: CallbackEvent,
    account: Account,
    request_app: ApiApp | None,
    targets: list[ApiApp | None],
    *,
    lease_seconds: float | None = None,
) -> list[CallbackDelivery]:
    """Bind ``event`` for each target (None = the account URL), each with its own frozen body."""
    if not targets:
        return []
    now = utcnow()
    hash_ = event_hash(primary_api_key(session, keys, account), str(event.event_time), event.event_type)
    leased_until = now + dt.timedelta(seconds=lease_seconds) if lease_seconds is not None else None
    deliveries: list[CallbackDelivery] = []
    for app in targets:
        ep = callback_targets.get_or_create(session, account, app)
        body = build_payload(event, account, hash_, reported_for_app=app, request_app=request_app)
        held = ep.disabled_at is not None and leased_until is None
        d = CallbackDelivery(
            event_id=event.id,
            endpoint_id=ep.id,
            webhook_id=event.event_id,
            state=DeliveryState.HELD if held else DeliveryState.PENDING,
            body_json=callback_json(body),
            next_attempt_at=now,
            locked_until=leased_until,
            locked_by="inline" if leased_until else None,
            created_at=now,
        )
        session.add(d)
        deliveries.append(d)
    session.flush()
    wake(session)
    return deliveries


def build_payload(
    event: CallbackEvent,
    account: Account,
    event_hash_: str,
    *,
    reported_for_app: ApiApp | None,
    request_app: ApiApp | None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event": {
            "event_time": str(event.event_time),
            "event_type": event.event_type,
            "event_hash": event_hash_,
            "event_metadata": {
                "related_signature_id": event.related_signature_id,
                "reported_for_account_id": account.account_id,
                "reported_for_app_id": reported_for_app.client_id if reported_for_app else None,
                "event_message": event.event_message,
            },
        },
        "account_guid": account.account_id,
        "client_id": request_app.client_id if request_app else None,
    }
    if event.object_kind and event.object_json is not None:
        payload[event.object_kind] = event.object_json
    return payload


def endpoint_for_target(session: Session, account: Account, target: str) -> tuple[CallbackEndpoint, ApiApp | None]:
    """``account`` or an owned app's client_id -> its endpoint."""
    if target == "account":
        if not account.callback_url:
            raise BadRequest("The account has no callback URL.", error_path="target")
        return callback_targets.get_or_create(session, account, None), None
    app = apps.get_owned(session, account, target)
    if app is None:
        raise NotFound("No API app with that client_id.", error_path="target")
    if not app.callback_url:
        raise BadRequest("The API app has no callback URL.", error_path="target")
    return callback_targets.get_or_create(session, account, app), app


@dataclass(slots=True)
class EventsPage:
    events: list[CallbackEvent]
    #: endpoint id -> ``account`` or the app's client_id, for serializing the deliveries
    targets: dict[int, str]
    #: the row id to pass as ``before_id`` for the next (older) page; None on the last page
    next_before_id: int | None


def events_page(
    session: Session,
    account: Account,
    *,
    limit: int,
    event_type: str | None = None,
    signature_request_id: str | None = None,
    template_id: str | None = None,
    state: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    before_id: int | None = None,
) -> EventsPage:
    """One page of the event list, newest first (keyset pagination on the row id): for the API's
    ``GET /paraph/v1/events`` and the dashboard's callbacks page."""
    rows = repository.list_events(
        session,
        account,
        event_type=event_type,
        signature_request_id=signature_request_id,
        template_id=template_id,
        state=state,
        since=since,
        until=until,
        before_id=before_id,
        limit=limit + 1,
    )
    page = rows[:limit]
    return EventsPage(page, repository.target_names(session, account), page[-1].id if len(rows) > limit else None)
