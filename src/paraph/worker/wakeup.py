"""Waking workers when there is work, instead of letting them wait out a poll.

Three ways, one module: :class:`Wakeup` in the process (set after a commit that left work behind), ``NOTIFY``
on PostgreSQL for the other processes (:func:`wake`, sent inside the transaction, so it is delivered on
commit), and the :class:`Listener` thread that turns those notifications back into an in-process wake-up.
Polling stays the fallback.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from paraph.db import is_postgres

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "paraph_work"


class Wakeup:
    """In-process wake-up for workers: set after a commit that left work behind, so a worker in this process
    starts at once instead of waiting out its poll interval. Other processes learn of work through
    LISTEN/NOTIFY on PostgreSQL, and by polling as the fallback."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, fn: Callable[[], None]) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(fn)

        def unsubscribe() -> None:
            with self._lock:
                if fn in self._listeners:
                    self._listeners.remove(fn)

        return unsubscribe

    def wake(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for fn in listeners:
            fn()


def wake(session: Session) -> None:
    """Tell workers there is work: in this process after commit, and on PostgreSQL other processes too."""
    session.info["wake"] = True
    if is_postgres(session) and not session.info.get("notified"):
        session.execute(sa.text(f"NOTIFY {NOTIFY_CHANNEL}"))
        session.info["notified"] = True


class Listener:
    """On PostgreSQL, a thread that LISTENs on :data:`NOTIFY_CHANNEL` and wakes ``wakeup`` for each
    notification; on SQLite, nothing (there is one process)."""

    def __init__(self, db_url: str, wakeup: Wakeup) -> None:
        self._db_url = db_url
        self._wakeup = wakeup
        self._listener: threading.Thread | None = None
        self._listener_stop = threading.Event()

    def start(self) -> None:
        url = make_url(self._db_url)
        if not url.drivername.startswith("postgresql"):
            return
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)

        def listen() -> None:
            import psycopg

            while not self._listener_stop.is_set():
                try:
                    with psycopg.connect(dsn, autocommit=True) as conn:
                        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                        while not self._listener_stop.is_set():
                            for _ in conn.notifies(timeout=1.0, stop_after=1):
                                self._wakeup.wake()
                except Exception:
                    log.warning("LISTEN connection lost; polling until it is back", exc_info=True)
                    self._listener_stop.wait(2.0)

        self._listener = threading.Thread(target=listen, name="paraph-listen", daemon=True)
        self._listener.start()

    async def stop(self) -> None:
        self._listener_stop.set()
        if self._listener is not None:
            await asyncio.to_thread(self._listener.join, 3.0)


async def until(event: asyncio.Event, stopping: asyncio.Event, seconds: float) -> None:
    """Until ``event`` is set (stopping sets every wake event) or ``seconds`` pass: one future and one
    timer, no task per wait."""
    if event.is_set() or stopping.is_set():
        return
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        pass
