"""Engine, sessions and the unit of work.

One request or job is one transaction, opened and committed by :func:`unit_of_work` at the edge, never by
domain code. On SQLite, write transactions start with ``BEGIN IMMEDIATE`` so two writers queue on the lock
instead of failing half-way with ``database is locked``; reads use a deferred ``BEGIN`` and run beside the
writer thanks to WAL.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: JSON column that is JSONB on PostgreSQL and JSON text on SQLite.
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# -- statements straight to the driver ---------------------------------------------------------------------
# For the few hot paths where SQLAlchemy's compilation and per-value type processing cost more than the
# statement itself (callback delivery, applying a request's fields): what the types would have done is done
# here, once.


def driver_style(session: Session) -> tuple[bool, str]:
    """(SQLite?, the driver's placeholder) for statements sent with ``exec_driver_sql``."""
    dialect = session.get_bind().dialect
    return dialect.name == "sqlite", "?" if dialect.paramstyle == "qmark" else "%s"


def utc_driver_value(value: dt.datetime, sqlite: bool) -> str | dt.datetime:
    """What a :class:`UTCDateTime` column stores for ``value``, as a driver bind value: on SQLite the text
    SQLAlchemy writes (naive UTC, microseconds), on PostgreSQL the aware datetime itself."""
    if not sqlite:
        return value
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def insert_many(session: Session, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """INSERT ``rows`` (values already in their stored form) straight to the driver: on SQLite one executemany;
    on PostgreSQL one statement, each column sent as an array and the rows unzipped by ``unnest``, instead of a
    statement per row: the server parses, plans and runs one statement for a batch of callback attempts."""
    if not rows:
        return
    sqlite, mark = driver_style(session)
    if sqlite:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
        session.connection().exec_driver_sql(sql, rows)
        return
    session.connection().exec_driver_sql(
        _unnest_insert(session.get_bind().dialect, table, tuple(columns)), tuple(map(list, zip(*rows, strict=True)))
    )


_UNNEST_INSERTS: dict[tuple[str, tuple[str, ...]], str] = {}


def _unnest_insert(dialect: Dialect, table: str, columns: tuple[str, ...]) -> str:
    """``INSERT INTO table (columns) SELECT * FROM unnest(%s::type[], ...)``, the types from the models."""
    sql = _UNNEST_INSERTS.get((table, columns))
    if sql is None:
        t = Base.metadata.tables[table]
        arrays = ", ".join(f"%s::{t.c[c].type.compile(dialect)}[]" for c in columns)
        sql = _UNNEST_INSERTS[table, columns] = (
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
        )
    return sql


# -- plans: reads written once, run on any driver -------------------------------------------------------
#: A read as a generator: it yields a statement and its parameters, is sent back the rows (sequences of values
#: in the statement's column order) and returns what it built. :func:`run_plan` runs one on a SQLAlchemy
#: connection; ``paraph.hot_reads`` also on asyncpg.
T = TypeVar("T")
Rows = Sequence[Sequence[Any]]
Plan = Generator[tuple[sa.Executable, dict[str, Any]], Rows, T]


def run_plan(conn: sa.Connection, plan: Plan[T]) -> T:
    try:
        statement, params = next(plan)
        while True:
            statement, params = plan.send(conn.execute(statement, params).all())
    except StopIteration as done:
        return cast(T, done.value)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


#: Connections kept open per process, and how many more may be opened for a burst (closed when returned). The
#: kept ones cover the API's usual concurrency (a read holds one connection; 16 clients at once in the read
#: bench): below that, connections were opened and closed under load, a new PostgreSQL backend each time.
POOL_SIZE = 20
POOL_OVERFLOW = 10


def create_engine(url: str, *, pool_size: int = POOL_SIZE, max_overflow: int = POOL_OVERFLOW, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=max_overflow,
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True, **kwargs)


#: An execution option: the caller sends SQLite's deferred BEGIN itself, straight to the driver (the API gate's
#: hot reads, where the event's statement cost as much as a query).
BEGUN_BY_CALLER = "paraph_begun_by_caller"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours to emit.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        options = conn.get_execution_options()
        if options.get("paraph_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif not options.get(BEGUN_BY_CALLER):
            conn.exec_driver_sql("BEGIN")


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


class Database:
    """An engine and its session factory; one per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        # SQLite has one writer at a time. Threads of this process queue on a lock instead of colliding in
        # SQLite's busy handler, which sleeps in growing steps (up to 100 ms) and made tail latency spiky.
        # Other processes still meet at busy_timeout.
        self._write_lock: threading.RLock | None = threading.RLock() if url.startswith("sqlite") else None

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: committed when the block ends normally, rolled back on any exception."""
        lock = self._write_lock if write else None
        if lock is not None:
            lock.acquire()
        session = self.sessions()
        try:
            session.connection(execution_options={"paraph_write": write})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if lock is not None:
                lock.release()

    def dispose(self) -> None:
        self.engine.dispose()
