"""The wire shapes of an inspector name (/paraph/v1/inspectors) and of a caught request (/paraph/v1/inspect)."""

from __future__ import annotations

from typing import Any

from paraph.models import InspectedRequest, InspectorName


def inspect_url(base_url: str, name: str) -> str:
    """Where senders post: ``POST <base>/paraph/inspect/<name>``."""
    return f"{base_url}/paraph/inspect/{name}"


def serialize_name(row: InspectorName, base_url: str) -> dict[str, Any]:
    return {
        "name": row.name,
        "url": inspect_url(base_url, row.name),
        "dashboard_url": f"{base_url}/dashboard/inspector/{row.name}",
        "created_at": int(row.created_at.timestamp()),
    }


def serialize_capture(row: InspectedRequest, payload: dict[str, Any] | None, checks: dict[str, Any]) -> dict[str, Any]:
    """One caught request as ``GET /paraph/v1/inspect/{name}`` lists it. ``checks``: ``event_hash`` and
    ``signature``, each ``{"status": "verified" | "failed" | "absent", "detail"}``."""
    event = (payload or {}).get("event")
    event = event if isinstance(event, dict) else {}
    request = (payload or {}).get("signature_request")
    template = (payload or {}).get("template")
    return {
        "capture_id": row.id,
        "received_at": int(row.received_at.timestamp()),
        "method": row.method,
        "remote_addr": row.remote_addr,
        "headers": [list(pair) for pair in row.headers],
        "form": row.form,
        "json": row.json_text,
        "payload": payload,
        "event_type": event.get("event_type"),
        "signature_request_id": request.get("signature_request_id") if isinstance(request, dict) else None,
        "template_id": template.get("template_id") if isinstance(template, dict) else None,
        "event_hash_verified": checks["event_hash"]["status"] == "verified",
        "signature_verified": checks["signature"]["status"] == "verified",
        "checks": checks,
        "body_size": row.body_size,
        "body_truncated": row.body_truncated,
    }
