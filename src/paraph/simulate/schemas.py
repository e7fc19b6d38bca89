"""What the simulation API reads: JSON (or a form) with optional, bounded fields."""

from __future__ import annotations

from typing import Any

from paraph.errors import BadRequest
from paraph.signing.schemas import MAX_REASON

MAX_FIELDS = 500
MAX_VALUE = 4000


def text(body: dict[str, Any], name: str, *, limit: int = MAX_REASON, default: str = "") -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise BadRequest(f"{name}: must be a string", error_path=name)
    if len(value) > limit:
        raise BadRequest(f"{name}: at most {limit} characters", error_path=name)
    return value


def field_values(body: dict[str, Any]) -> dict[str, str | bool | int | float | None]:
    """``fields``: an object of api_id -> value (text, a number, true/false or null)."""
    fields = body.get("fields") or {}
    if not isinstance(fields, dict):
        raise BadRequest("fields: must be an object of api_id to value", error_path="fields")
    if len(fields) > MAX_FIELDS:
        raise BadRequest(f"fields: at most {MAX_FIELDS} values", error_path="fields")
    out: dict[str, str | bool | int | float | None] = {}
    for key, value in fields.items():
        if value is not None and not isinstance(value, str | bool | int | float):
            raise BadRequest(f"fields[{key}]: must be text, a number, true or false", error_path=f"fields[{key}]")
        if isinstance(value, str) and len(value) > MAX_VALUE:
            raise BadRequest(f"fields[{key}]: at most {MAX_VALUE} characters", error_path=f"fields[{key}]")
        out[str(key)] = value
    return out
