"""Paraph's own view of events and attempts (/paraph/v1/events, the dashboard)."""

from __future__ import annotations

import json
from typing import Any

from paraph.models import CallbackAttempt, CallbackDelivery, CallbackEndpoint, CallbackEvent
from paraph.models.callback import DeliveryState


def ts(value: Any) -> int | None:
    return int(value.timestamp()) if value is not None else None


def event_state(event: CallbackEvent) -> str:
    """One word for an event: the worst state among its deliveries (``no_endpoint`` if it had none)."""
    states = {d.state for d in event.deliveries}
    if not states:
        return "no_endpoint"
    for s in (DeliveryState.FAILED, DeliveryState.HELD, DeliveryState.PENDING):
        if s in states:
            return str(s)
    return str(DeliveryState.DELIVERED)


def serialize_attempt(a: CallbackAttempt) -> dict[str, Any]:
    return {
        "url": a.url,
        "started_at": ts(a.started_at),
        "started_at_iso": a.started_at.isoformat(),
        "latency_ms": a.latency_ms,
        "status_code": a.status_code,
        "ok": a.ok,
        "response_body": a.body_excerpt,
        "error": a.error,
    }


def serialize_delivery(d: CallbackDelivery, endpoint: CallbackEndpoint, target: str) -> dict[str, Any]:
    return {
        "delivery_id": d.id,
        "target": target,
        "url": endpoint.url,
        "state": d.state,
        "attempt_count": d.attempt_count,
        "next_attempt_at": ts(d.next_attempt_at) if d.state == DeliveryState.PENDING else None,
        "delivered_at": ts(d.delivered_at),
        "payload": json.loads(d.body_json) if d.body_json else None,
        "attempts": [serialize_attempt(a) for a in d.attempts],
    }


def serialize_event(event: CallbackEvent, targets: dict[int, str], *, detail: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "event_time": event.event_time,
        "signature_request_id": event.signature_request_id,
        "template_id": event.template_id,
        "related_signature_id": event.related_signature_id,
        "event_message": event.event_message,
        "state": event_state(event),
        "created_at": ts(event.created_at),
    }
    if detail:
        out["deliveries"] = [
            serialize_delivery(d, d.endpoint, targets.get(d.endpoint_id, "account")) for d in event.deliveries
        ]
    return out


def serialize_endpoint(ep: CallbackEndpoint, target: str) -> dict[str, Any]:
    return {
        "target": target,
        "url": ep.url,
        "secret": ep.secret,
        "enabled": ep.disabled_at is None,
        "disabled_at": ts(ep.disabled_at),
        "consecutive_failures": ep.consecutive_failures,
    }
