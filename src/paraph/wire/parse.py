"""Turning decoded request data into typed request models, with Dropbox Sign's ``error_path``."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from paraph.errors import BadRequest

M = TypeVar("M", bound=BaseModel)


class RequestModel(BaseModel):
    """Base for request bodies: unknown keys are ignored (the SDK sends every defaulted flag)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


def error_path(loc: tuple[int | str, ...]) -> str:
    """``("signers", 0, "email_address")`` -> ``signers[0].email_address``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not out:
            out = part
        else:
            out += f".{part}"
    return out


def _message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "missing":
        return "This value should not be blank"
    msg = str(err.get("msg", "Invalid value"))
    return msg.removeprefix("Value error, ")


def parse(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = tuple(p for p in first.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-")))
        path = error_path(loc) or None
        label = f"{path}: " if path else ""
        raise BadRequest(f"{label}{_message(dict(first))}", error_path=path) from None
