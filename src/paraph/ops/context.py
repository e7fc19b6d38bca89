"""What is known about the request being served, for log lines: its id, and once known its account and
signature request. One mutable dict per request in a context variable, so a worker thread that learns the
account (``request_scope.api_call``) fills in the same dict the event loop's log lines read."""

from __future__ import annotations

import contextvars
import re
import secrets

_CURRENT: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("paraph_request", default=None)
#: An id a client or proxy sent in X-Request-Id is kept if it is this short and plain; else one is made.
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def new_request_id(given: str | None) -> str:
    return given if given is not None and _ACCEPTED_ID.match(given) else secrets.token_hex(12)


def begin(request_id: str) -> contextvars.Token[dict[str, str] | None]:
    return _CURRENT.set({"request_id": request_id})


def end(token: contextvars.Token[dict[str, str] | None]) -> None:
    _CURRENT.reset(token)


def note(**values: str | None) -> None:
    """Add what became known (``account_id``, ``signature_request_id``) to the current request, if any."""
    current = _CURRENT.get()
    if current is not None:
        current.update({k: v for k, v in values.items() if v})


def current() -> dict[str, str]:
    return dict(_CURRENT.get() or {})
