"""The API's front door: every request to an API surface (/v3, /paraph/v1) is authenticated before any other
work (no body is read, nothing is parsed for an unknown caller) and counted against its API key.

The rate table is keyed by the id of the authenticated key, so it holds at most one entry per API key that
called in the current hour: junk or varied Authorization headers (a key with different ignored passwords)
neither grow it nor escape the limit. It is also capped at ``max_tracked`` entries whatever happens.

Reads of a known key take one thread hop and one transaction, not two: the gate remembers which key row a
presented key is (:class:`KnownKeys`: the key's lookup digest to its row id and a SHA-256 of its value, never
the value; what it maps never changes, a key's value being fixed for the life of its row), lets a GET or HEAD
of a remembered key in without a query, and ``request_scope.api_call`` then reads that key row, unrevoked, with
its account, inside the handler's own transaction. Revocation, deletion of the key or of its account thus take
effect at once, on every node: every request still reads the key row in the transaction that serves it. A
response that no ``api_call`` checked (a route without one, a 404, a 429, a bad query) is held at its start
until the gate has checked the key in the database, and replaced by the 401 if the key is no longer valid:
what a caller sees is what it saw when the gate always looked the key up first. Writes are always looked up
by the gate before their body is read.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Hashable
from enum import Enum
from typing import Generic, TypeVar

from anyio import to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paraph.auth import api_key_from_header, authenticate
from paraph.errors import ApiError, ExceededRate, Unauthorized
from paraph.hot_reads import HotReads, match
from paraph.models import Account, ApiKey
from paraph.runtime import Runtime
from paraph.wire.responses import ApiJSONResponse

API_PREFIXES = ("/v3", "/paraph/v1")
#: Where the gate leaves the :class:`Caller` it let in, for ``request_scope.api_call``.
AUTHENTICATED = "paraph.authenticated"
DEFAULT_MAX_TRACKED = 100_000
#: At most this many keys are remembered by :class:`KnownKeys` (least recently used dropped first).
MAX_KNOWN_KEYS = 10_000
K = TypeVar("K", bound=Hashable)


class Check(Enum):
    PENDING = "pending"  # let in from memory: the key row is still to be read (api_call, or the gate at the end)
    VALID = "valid"  # the key row was read, unrevoked, during this request
    INVALID = "invalid"  # the key is no longer valid: the request is answered with the gate's 401


class Caller:
    """The caller the gate let in. ``account`` and ``key`` are set (detached from the gate's session) when the
    gate read them itself; when it let a read in from memory (``check`` PENDING) only ``key_id`` is known and
    ``request_scope.api_call`` reads the row (:meth:`confirm` or :meth:`refuse`)."""

    __slots__ = ("account", "authorization", "check", "key", "key_id", "lookup")

    def __init__(
        self,
        authorization: str | None,
        lookup: str,
        key_id: int,
        account: Account | None = None,
        key: ApiKey | None = None,
    ) -> None:
        self.authorization = authorization
        self.lookup = lookup
        self.key_id = key_id
        self.account = account
        self.key = key
        self.check = Check.PENDING if key is None else Check.VALID


class KnownKeys:
    """Which key row a presented API key is: its lookup digest to (row id, SHA-256 of the value). Holds no
    secret, and nothing that can change: validity is read from the database on every request. Bounded."""

    def __init__(self, max_size: int = MAX_KNOWN_KEYS) -> None:
        self.max_size = max_size
        self._rows: OrderedDict[str, tuple[int, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._rows)

    def remember(self, lookup: str, presented: str, key_id: int) -> None:
        self._rows[lookup] = (key_id, hashlib.sha256(presented.encode()).digest())
        self._rows.move_to_end(lookup)
        while len(self._rows) > self.max_size:
            self._rows.popitem(last=False)

    def find(self, lookup: str, presented: str) -> int | None:
        row = self._rows.get(lookup)
        # the lookup digest found it; the value is still compared (as digests) in constant time
        if row is None or not hmac.compare_digest(row[1], hashlib.sha256(presented.encode()).digest()):
            return None
        self._rows.move_to_end(lookup)
        return row[0]

    def forget(self, lookup: str) -> None:
        self._rows.pop(lookup, None)


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

    def unhit(self, key: K) -> None:
        """Take back one request of ``key`` (it turned out not to be the key's: refused as unauthorized)."""
        used = self._counts.get(key)
        if used is not None:
            if used > 1:
                self._counts[key] = used - 1
            else:
                del self._counts[key]


class ApiGate:
    """Authenticates and counts API requests; X-RateLimit-* on each of their responses. Throttles only when
    PARAPH_RATE_LIMIT_PER_HOUR is set: a self-hosted server does not throttle by default."""

    def __init__(
        self,
        app: ASGIApp,
        runtime: Runtime,
        limit_per_hour: int,
        max_tracked: int = DEFAULT_MAX_TRACKED,
        hot: HotReads | None = None,
    ):
        self.app = app
        self.hot = hot if hot is not None and hot.enabled else None
        self.runtime = runtime
        self.limit = limit_per_hour
        self.shown_limit = limit_per_hour or 100_000
        self.table: RateTable[int] = RateTable(max_tracked)
        self.known = KnownKeys()

    def _authenticate(self, authorization: str | None) -> tuple[Account, ApiKey]:
        with self.runtime.unit_of_work(write=False) as session:
            return authenticate(session, self.runtime.keys, authorization)

    def _headers(self, remaining: int, reset: int) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", str(self.shown_limit).encode()),
            (b"x-ratelimit-remaining", str(max(0, remaining)).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
        ]

    def _refused_headers(self) -> list[tuple[bytes, bytes]]:
        return self._headers(self.shown_limit, (int(time.time() // 3600) + 1) * 3600)

    async def _refuse(self, err: ApiError, headers: list[tuple[bytes, bytes]], scope: Scope, send: Send) -> None:
        resp = ApiJSONResponse(err.body(), status_code=err.status_code)
        resp.raw_headers.extend(headers)

        async def no_body() -> Message:  # the request's body is never read
            return {"type": "http.disconnect"}

        await resp(scope, no_body, send)

    async def _let_in(self, scope: Scope, authorization: str | None) -> Caller:
        """The caller, from memory (a GET or HEAD of a key seen before) or from the database; raises the 401."""
        presented = api_key_from_header(authorization)
        keys = self.runtime.keys
        lookup = keys.lookup(presented)
        if scope.get("method") in ("GET", "HEAD"):
            key_id = self.known.find(lookup, presented)
            if key_id is not None:
                return Caller(authorization, lookup, key_id)
        account, key = await to_thread.run_sync(self._authenticate, authorization)
        self.known.remember(lookup, presented, key.id)
        return Caller(authorization, lookup, key.id, account, key)

    async def _still_valid(self, caller: Caller) -> bool:
        """Read the key of a caller let in from memory that nothing checked during the request."""
        try:
            await to_thread.run_sync(self._authenticate, caller.authorization)
        except ApiError:
            caller.check = Check.INVALID
            return False
        caller.check = Check.VALID
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        raw = dict(scope.get("headers") or []).get(b"authorization")
        authorization = raw.decode("latin-1") if raw is not None else None
        try:
            caller = await self._let_in(scope, authorization)
        except ApiError as err:
            await self._refuse(err, self._refused_headers(), scope, send)
            return
        scope[AUTHENTICATED] = caller
        used, reset = self.table.hit(caller.key_id)
        headers = self._headers(self.shown_limit - used, reset)
        if self.limit and used > self.limit:
            if caller.check is Check.PENDING and not await self._still_valid(caller):
                await self._unauthorized(caller, scope, send)
            else:
                await self._refuse(ExceededRate("Too many requests."), headers, scope, send)
            return
        if self.hot is not None and caller.check is Check.PENDING:
            # a GET of a known key: the gate may answer it itself (paraph.hot_reads), reading the key row
            hot = match(scope)
            if hot is not None and await self.hot.serve(hot, caller.key_id, scope, receive, send, headers):
                caller.check = Check.VALID
                return
        refused = False

        async def send_with_headers(message: Message) -> None:
            nonlocal refused
            if refused:  # the app's answer to a caller whose key turned out not to be valid is dropped
                return
            if message["type"] == "http.response.start":
                if caller.check is Check.PENDING:
                    await self._still_valid(caller)
                if caller.check is Check.INVALID:
                    refused = True
                    await self._unauthorized(caller, scope, send)
                    return
                message["headers"] = list(message.get("headers", [])) + headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _unauthorized(self, caller: Caller, scope: Scope, send: Send) -> None:
        """The 401 the gate gives an unknown key, uncounted, for a caller let in from memory whose key is no
        longer valid (revoked, or its row or account deleted)."""
        self.known.forget(caller.lookup)
        self.table.unhit(caller.key_id)
        await self._refuse(
            Unauthorized("Unauthorized user. The API key is not valid."), self._refused_headers(), scope, send
        )
