"""Text a client sends must be storable text: no NUL (PostgreSQL refuses it in text columns) and no unpaired
UTF-16 surrogate (JSON's ``"\\ud800"``; it cannot be encoded as UTF-8, for the database or for a response).

Checked once where strings enter: every request's path and query (``StorableTextOnly``, for every route),
every decoded API body and JSON form value (``wire.decode``), every dashboard form (``web.core.form_fields``)
and the signing page's JSON actions (``signing.schemas``). A bad string is a 400 naming its parameter.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

_BAD = re.compile("[\x00\ud800-\udfff]")


def problem(text: str) -> str | None:
    """What is wrong with ``text`` as stored text, or None."""
    found = _BAD.search(text)
    if found is None:
        return None
    return "contains a NUL character" if found.group() == "\x00" else "contains an unpaired UTF-16 surrogate"


def bad_text(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first (path, problem) among the strings of ``value`` (keys included), or None.

    Paths are written as in ``error_path``: ``signers[0].name``, ``metadata.key``.
    """
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            why = problem(node)
            if why is not None:
                return where, why
        elif isinstance(node, dict):
            for key, child in node.items():
                here = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and (why := problem(key)) is not None:
                    return _printable(where) or "body", f"has a key that {why}"
                stack.append((child, _printable(here)))
        elif isinstance(node, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(node))
    return None


def _printable(path: str) -> str:
    """A path safe to put in an error message (itself free of the characters it reports)."""
    return _BAD.sub("\ufffd", path)[:200]


class StorableTextOnly:
    """ASGI middleware: a request whose path or query holds a NUL or an unpaired surrogate (``%00`` in an id,
    ``?signature_id=a%00b``) is a 400 before any route looks it up in the database; every route, API or page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"").decode("latin-1")
            pairs = parse_qsl(query, keep_blank_values=True, errors="replace")
            found = bad_text(scope.get("path", ""), "path") or bad_text(dict(pairs))
            if found is not None:
                where, why = found
                error = {"error_msg": f"{where} {why}", "error_path": where, "error_name": "bad_request"}
                await JSONResponse({"error": error}, status_code=400)(scope, receive, send)
                return
        await self.app(scope, receive, send)
