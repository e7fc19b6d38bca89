"""The API's three busiest reads, answered by the API gate itself: ``GET /v3/account``,
``GET /v3/signature_request/{id}`` and ``GET /v3/signature_request/list`` (ADR 0018).

An integrator polls these; each used to cost 6 to 15 times a bare FastAPI ping, most of it in the machinery
around a few indexed queries: a hand-off to a worker thread and back (and, under load, the threads' contention
for the GIL: a third of the server's CPU time was system time), an ORM session and its transaction, FastAPI's
routing and dependency layers. Here the gate answers a GET of a key it already knows (``api_gate.KnownKeys``)
on the event loop's thread, with Core statements on connections of its own: on SQLite a dedicated read-only
connection used synchronously (a WAL read does not wait for the writer; a lock it would have to wait for makes
it give up after :data:`SQLITE_BUSY_MS` and leave the request to the app), on PostgreSQL an asyncpg pool of
read-only sessions in autocommit (each statement its own snapshot, as under READ COMMITTED in a transaction).

The answers are the app's answers, byte for byte: the same rows (``repository.held_view`` and ``held_page``
give the views of ``view_by_public_id`` and ``list_visible_views``), the same serializers, the same JSON
encoder. The lane answers only the plain case and hands everything else to the app unchanged, which answers
it as before: a key no longer valid (the 401), a request that is not the caller's, removed or canceled (the
404, the 410), a query it does not take (a search, ``account_id`` or ``email_address`` on the account), a bad
page number, an empty page, and any database error. Every answer reads the key row, unrevoked, in the same
statement as the data: revocation takes effect at the next request on every node, as on the app's path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl

import asyncpg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import URL, make_url
from starlette.types import Receive, Scope, Send

from paraph.account import repository as accounts
from paraph.account.schemas import serialize_account
from paraph.db import BEGUN_BY_CALLER, Plan, create_engine, run_plan
from paraph.errors import ApiError
from paraph.ops import context
from paraph.signature_request import repository as requests
from paraph.signature_request.schemas import serialize_signature_request
from paraph.wire.responses import ApiJSONResponse, list_info, page_params

log = logging.getLogger(__name__)
T = TypeVar("T")

ACCOUNT_PATH = "/v3/account"
LIST_PATH = "/v3/signature_request/list"
ONE_PREFIX = "/v3/signature_request/"
#: The app's route each hot read stands for (by name): the metrics' route label and the logs use it.
ROUTE_NAMES = {"account": "account_get", "get": "signature_request_get", "list": "signature_request_list"}
#: The query parameters the list takes here; any other (a search) goes to the app.
LIST_PARAMS = frozenset({"page", "page_size", "account_id"})
#: How long the SQLite read waits for a lock (in WAL mode, only a checkpoint or a recovery takes one a reader
#: must wait for) before it leaves the request to the app: the event loop is not held longer.
SQLITE_BUSY_MS = 50
#: PostgreSQL connections the lane opens at most. Past that many reads at once, a read waits for a connection.
PG_POOL_SIZE = 20
#: After the lane failed to connect to PostgreSQL, the app answers for this long before it tries again.
RETRY_AFTER_SECONDS = 30.0


def supported_url(url: str) -> URL | None:
    """The URL the lane connects with, or None where it stands aside: an in-memory SQLite database (a second
    connection would be another database), or a database other than SQLite and PostgreSQL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        memory = parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
        return None if memory else parsed
    if backend == "postgresql":
        return parsed
    return None


class Hot:
    """One read the lane may answer: which one, and its path parameter."""

    __slots__ = ("arg", "kind")

    def __init__(self, kind: str, arg: str = "") -> None:
        self.kind = kind
        self.arg = arg


def match(scope: Scope) -> Hot | None:
    """The hot read a request is, if any (GET only)."""
    if scope.get("method") != "GET":
        return None
    path = scope.get("path", "")
    if path == ACCOUNT_PATH:
        return None if scope.get("query_string") else Hot("account")
    if path == LIST_PATH:
        return Hot("list")
    if path.startswith(ONE_PREFIX):
        rid = path[len(ONE_PREFIX) :]
        if rid and "/" not in rid:
            return Hot("get", rid)
    return None


def list_params(query_string: bytes) -> tuple[int, int, str | None] | None:
    """(page, page_size, account_id) of a plain list query, or None for the app to decode (and refuse)."""
    try:
        items = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, strict_parsing=False)
    except ValueError:
        return None
    given: dict[str, str] = {}
    for name, value in items:
        if name not in LIST_PARAMS or name in given:
            return None
        given[name] = value
    try:
        page, size = page_params(given.get("page"), given.get("page_size"))
    except ApiError:
        return None
    return page, size, given.get("account_id")


def _account_id(view: Any) -> str:
    return str(view.requester_account_id)


class HotReads:
    """The lane of one app (one process): its connections and the app's routes it stands for."""

    def __init__(self, database_url: str, base_url: str, routes: dict[str, Any]) -> None:
        self.url = supported_url(database_url)
        self.base_url = base_url
        self.routes = routes
        self._sqlite_engine: sa.Engine | None = None
        self._sqlite: sa.Connection | None = None
        self._pg = AsyncpgLane(self.url) if self.url is not None and self.url.get_backend_name() != "sqlite" else None

    @property
    def enabled(self) -> bool:
        return self.url is not None

    async def serve(
        self, hot: Hot, key_id: int, scope: Scope, receive: Receive, send: Send, headers: list[tuple[bytes, bytes]]
    ) -> bool:
        """Answer ``hot`` for the holder of key row ``key_id`` and return True; or return False, having sent
        nothing, for the app to answer the request."""
        params = None
        if hot.kind == "list":
            params = list_params(scope.get("query_string", b""))
            if params is None:
                return False
        try:
            if self._pg is not None:
                found = await self._pg.run(self._plan(hot, key_id, params, arrays=True))
            else:
                found = self._run_sqlite(self._plan(hot, key_id, params, arrays=False))
        except (sa.exc.DBAPIError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            log.debug("hot read of %s left to the app: %s", scope.get("path"), exc)
            return False
        if found is None:
            return False
        account_id, body = found
        context.note(account_id=account_id)
        route = self.routes.get(hot.kind)
        if route is not None:  # the route the app would have chosen, for the metrics and the logs
            scope["route"] = route
            if hot.kind == "get":
                scope["path_params"] = {"signature_request_id": hot.arg}
        response = ApiJSONResponse(body)
        response.raw_headers.extend(headers)
        await response(scope, receive, send)
        return True

    def _plan(
        self, hot: Hot, key_id: int, params: tuple[int, int, str | None] | None, *, arrays: bool
    ) -> Plan[tuple[str, dict[str, Any]] | None]:
        """(the caller's public account id, the body), or None for the app to answer. Every statement checks
        the key row: None when it is revoked, or the key or its account deleted (the app answers the 401)."""
        if hot.kind == "account":
            holder = yield from accounts.key_holder(key_id)
            if holder is None:
                return None
            return holder.account_id, {"account": serialize_account(holder)}  # type: ignore[arg-type]
        if hot.kind == "get":
            sr = yield from requests.held_view(hot.arg, key_id)
            # unknown or another account's (or the key no longer valid), removed (the app's 404), canceled (410)
            if sr is None or sr.removed_at is not None or sr.cancel_requested_at is not None:
                return None
            return _account_id(sr), {"signature_request": serialize_signature_request(sr, self.base_url)}
        assert params is not None
        page, size, account_id = params
        found = yield from requests.held_page(key_id, (page - 1) * size, size, arrays=arrays)
        if found is None:  # an empty page: the app answers it
            return None
        rows, total = found
        if account_id not in (None, "", "all", _account_id(rows[0])):
            return None  # the app's 404 (another account's list)
        return _account_id(rows[0]), {
            "signature_requests": [serialize_signature_request(sr, self.base_url) for sr in rows],
            "list_info": list_info(page, size, total),
        }

    def _run_sqlite(self, plan: Plan[T]) -> T:
        """One read transaction on the lane's connection, on the event loop's thread: SQLite answers these in
        tens of microseconds, less than a hand-off to a thread costs."""
        conn = self._sqlite_connection()
        try:
            conn.connection.driver_connection.execute("BEGIN")  # type: ignore[union-attr]
            try:
                found = run_plan(conn, plan)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            return found
        except sa.exc.DBAPIError:
            if conn.invalidated:
                self._sqlite = None
            raise

    def _sqlite_connection(self) -> sa.Connection:
        if self._sqlite is None:
            if self._sqlite_engine is None:
                assert self.url is not None
                engine = create_engine(self.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)

                @event.listens_for(engine, "connect")
                def _reader(dbapi_conn: Any, _record: Any) -> None:  # after db's own connect listener
                    cur = dbapi_conn.cursor()
                    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
                    cur.execute("PRAGMA query_only=ON")
                    cur.close()

                self._sqlite_engine = engine
            self._sqlite = self._sqlite_engine.connect().execution_options(**{BEGUN_BY_CALLER: True})
        return self._sqlite

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._sqlite_engine is not None:
            self._sqlite_engine.dispose()
            self._sqlite_engine = None
        if self._pg is not None:
            await self._pg.close()


class AsyncpgLane:
    """The PostgreSQL side: an asyncpg pool per event loop (a test client may run each request on a loop of its
    own; connections never cross loops), read-only sessions, and each statement compiled once to asyncpg's
    SQL. asyncpg because, measured on this machine, it spends 63 µs of CPU on such a statement where psycopg's
    asyncio mode spends 105 µs and SQLAlchemy's asyncio layer over it 214 µs (ADR 0018)."""

    def __init__(self, url: URL) -> None:
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._pool: asyncpg.Pool | None = None
        self._creating: asyncio.Task[asyncpg.Pool] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._retry_at = 0.0
        self._dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
        self._compiled: dict[sa.Executable, tuple[str, list[str], dict[str, Any]]] = {}

    async def run(self, plan: Plan[T]) -> T:
        pool = await self._pool_of_this_loop()
        async with pool.acquire() as conn:
            try:
                statement, params = next(plan)
                while True:
                    sql, names, defaults = self._compile(statement)
                    rows = await conn.fetch(sql, *[params.get(n, defaults[n]) for n in names])
                    statement, params = plan.send(rows)
            except StopIteration as done:
                return cast(T, done.value)

    def _compile(self, statement: sa.Executable) -> tuple[str, list[str], dict[str, Any]]:
        found = self._compiled.get(statement)
        if found is None:
            compiled = statement.compile(dialect=self._dialect)  # type: ignore[attr-defined]
            names = list(compiled.positiontup or ())
            found = str(compiled), names, {n: compiled.binds[n].effective_value for n in names}
            self._compiled[statement] = found
        return found

    async def _pool_of_this_loop(self) -> asyncpg.Pool:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._pool, self._creating, self._loop = None, None, loop
        if self._pool is not None:
            return self._pool
        if self._creating is None:
            if time.monotonic() < self._retry_at:
                raise OSError("the hot reads' PostgreSQL pool failed a moment ago")
            self._creating = asyncio.ensure_future(self._create())
        creating = self._creating
        try:
            self._pool = await asyncio.shield(creating)
        except BaseException:
            if self._creating is creating:
                self._creating = None
                self._retry_at = time.monotonic() + RETRY_AFTER_SECONDS
            raise
        return self._pool

    async def _create(self) -> asyncpg.Pool:
        try:
            return await asyncpg.create_pool(
                self.dsn,
                min_size=1,
                max_size=PG_POOL_SIZE,
                init=_json_codecs,
                server_settings={"default_transaction_read_only": "on", "application_name": "paraph hot reads"},
            )
        except Exception as exc:
            log.warning("the hot reads cannot connect to PostgreSQL (the app answers them meanwhile): %s", exc)
            raise

    async def close(self) -> None:
        if self._pool is not None and self._loop is asyncio.get_running_loop():
            await self._pool.close()
        self._pool, self._creating, self._loop = None, None, None


async def _json_codecs(conn: asyncpg.Connection) -> None:
    """json and jsonb decoded as SQLAlchemy's JSON type does (the driver gives text otherwise)."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
