"""The process-wide objects every request and job needs, built once from Settings."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session

from paraph.config import Settings
from paraph.db import Database
from paraph.security import KeyBox

T = TypeVar("T")
PDF_TIMEOUT_SECONDS = 120
PDF_PROCESSES = 2

if TYPE_CHECKING:
    from paraph.callbacks.guard import Resolver
    from paraph.storage import Storage


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


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT held back in this thread while it may spawn PDF processes: a child inherits the mask, so a Ctrl+C
    at the terminal (sent to the whole process group) cannot interrupt it while it imports the PDF stack; it
    ignores SIGINT for good in ``_pdf_process_start`` and is ended by the pool's shutdown instead."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _pdf_process_start() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # also drops a SIGINT pending since the spawn
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    from paraph.documents.processing import warm_up

    warm_up()


class Runtime:
    def __init__(self, settings: Settings) -> None:
        settings.ensure_dirs()
        self.settings = settings
        self.db = Database(settings.effective_database_url)
        self.keys = KeyBox(settings.effective_secret_key)
        self.wakeup = Wakeup()
        self._resolver: Resolver | None = None
        self._pdf_pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @property
    def resolver(self) -> Resolver:
        """Resolves callback and file_url hosts; tests replace it with a stub (no DNS traffic)."""
        if self._resolver is None:
            from paraph.callbacks.guard import SystemResolver

            self._resolver = SystemResolver()
        return self._resolver

    @resolver.setter
    def resolver(self, value: Resolver) -> None:
        self._resolver = value

    @cached_property
    def storage(self) -> Storage:
        from paraph.storage import make_storage

        return make_storage(self.settings)

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """A transaction; workers are woken after a commit that queued work (``session.info["wake"]``)."""
        with self.db.unit_of_work(write=write) as session:
            session.info["runtime"] = self
            yield session
            wake = bool(session.info.get("wake"))
        if wake:
            self.wakeup.wake()

    def _pdf_processes(self) -> ProcessPoolExecutor:
        with self._pool_lock:
            if self._pdf_pool is None:
                self._pdf_pool = ProcessPoolExecutor(
                    max_workers=PDF_PROCESSES,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_pdf_process_start,
                )
            return self._pdf_pool

    def warm_pdf_pool(self) -> None:
        """Start the PDF processes now rather than on the first document: spawning one and importing the PDF
        stack takes a few hundred milliseconds (``paraph serve`` and ``paraph worker`` call this at start)."""
        pool = self._pdf_processes()
        with _sigint_blocked():
            for _ in range(PDF_PROCESSES):  # no process is idle yet, so each submission spawns one
                pool.submit(os.getpid)

    def run_pdf(self, fn: Callable[..., T], *args: Any) -> T:
        """Run PDF work in a worker process: pypdfium2 is not thread-safe, and a pathological file must not
        take the server down with it."""
        pool = self._pdf_processes()
        try:
            with _sigint_blocked():  # a submission may spawn a process
                future = pool.submit(fn, *args)
            return future.result(timeout=PDF_TIMEOUT_SECONDS)
        except BrokenProcessPool:
            with self._pool_lock:
                self._pdf_pool = None
            raise

    def close(self) -> None:
        with self._pool_lock:
            if self._pdf_pool is not None:
                self._pdf_pool.shutdown(wait=False, cancel_futures=True)
                self._pdf_pool = None
        self.db.dispose()


def runtime_of(session: Session) -> Runtime:
    rt = session.info.get("runtime")
    if not isinstance(rt, Runtime):
        raise RuntimeError("session was not opened through Runtime.unit_of_work")
    return rt
