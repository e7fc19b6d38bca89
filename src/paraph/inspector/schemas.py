"""The wire shape of an inspector name (/paraph/v1/inspectors)."""

from __future__ import annotations

from typing import Any

from paraph.models import InspectorName


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
