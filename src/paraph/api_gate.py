"""The API's front door: every request to an API surface (/v3, /paraph/v1) is authenticated before any other
work (no body is read, nothing is parsed for an unknown caller) and counted against its API key.

The rate table is keyed by the id of the authenticated key, so it holds at most one entry per API key that
called in the current hour: junk or varied Authorization headers (a key with different ignored passwords)
neither grow it nor escape the limit. It is also capped at ``max_tracked`` entries whatever happens.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from anyio import to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paraph.auth import authenticate
from paraph.errors import ApiError, ExceededRate
from paraph.models import Account, ApiKey
from paraph.runtime import Runtime
from paraph.wire.responses import ApiJSONResponse

API_PREFIXES = ("/v3", "/paraph/v1")
#: Where the gate leaves the caller it authenticated, for ``request_scope.api_call`` (a read then needs no
#: second lookup): ``(authorization header, account, api key)``, detached from the gate's session.
AUTHENTICATED = "paraph.authenticated"
DEFAULT_MAX_TRACKED = 100_000
K = TypeVar("K", bound=Hashable)


def is_api_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in API_PREFIXES)


class RateTable(Generic[K]):
    """Hits per key in the current fixed window (an hour by default); bounded: past ``max_tracked`` keys the
    least recently seen one is dropped first. The API counts per key id; the callback inspector per client IP."""

    def __init__(self, max_tracked: int = DEFAULT_MAX_TRACKED, window_seconds: int = 3600) -> None:
        self.max_tracked = max_tracked
        self.window_seconds = window_seconds
        self.window = 0
        self._counts: OrderedDict[K, int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._counts)

    def hit(self, key: K, now: float | None = None) -> tuple[int, int]:
        """Count one request of ``key``: (requests in this window so far, the window's reset time)."""
        window = int((time.time() if now is None else now) // self.window_seconds)
        if window != self.window:
            self.window = window
            self._counts.clear()
        used = self._counts.pop(key, 0) + 1
        self._counts[key] = used
        while len(self._counts) > self.max_tracked:
            self._counts.popitem(last=False)
        return used, (window + 1) * self.window_seconds


class ApiGate:
    """Authenticates and counts API requests; X-RateLimit-* on each of their responses. Throttles only when
    PARAPH_RATE_LIMIT_PER_HOUR is set: a self-hosted server does not throttle by default."""

    def __init__(self, app: ASGIApp, runtime: Runtime, limit_per_hour: int, max_tracked: int = DEFAULT_MAX_TRACKED):
        self.app = app
        self.runtime = runtime
        self.limit = limit_per_hour
        self.shown_limit = limit_per_hour or 100_000
        self.table: RateTable[int] = RateTable(max_tracked)

    def _authenticate(self, authorization: str | None) -> tuple[Account, ApiKey]:
        with self.runtime.unit_of_work(write=False) as session:
            return authenticate(session, self.runtime.keys, authorization)

    def _headers(self, remaining: int, reset: int) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", str(self.shown_limit).encode()),
            (b"x-ratelimit-remaining", str(max(0, remaining)).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
        ]

    async def _refuse(self, err: ApiError, headers: list[tuple[bytes, bytes]], scope: Scope, send: Send) -> None:
        resp = ApiJSONResponse(err.body(), status_code=err.status_code)
        resp.raw_headers.extend(headers)

        async def no_body() -> Message:  # the request's body is never read
            return {"type": "http.disconnect"}

        await resp(scope, no_body, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        raw = dict(scope.get("headers") or []).get(b"authorization")
        authorization = raw.decode("latin-1") if raw is not None else None
        try:
            account, key = await to_thread.run_sync(self._authenticate, authorization)
        except ApiError as err:
            reset = (int(time.time() // 3600) + 1) * 3600
            await self._refuse(err, self._headers(self.shown_limit, reset), scope, send)
            return
        scope[AUTHENTICATED] = (authorization, account, key)
        used, reset = self.table.hit(key.id)
        headers = self._headers(self.shown_limit - used, reset)
        if self.limit and used > self.limit:
            await self._refuse(ExceededRate("Too many requests."), headers, scope, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
