"""The PDF process pool: pypdfium2 is not thread-safe, and a pathological file must not take the server down
with it, so PDF work runs in a few spawned processes. What they run is in :mod:`paraph.pdf.stored`, which
also warms each process as it starts."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
PDF_TIMEOUT_SECONDS = 120
PDF_PROCESSES = 2


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT held back in this thread while it may spawn PDF processes: a child inherits the mask, so a Ctrl+C
    at the terminal (sent to the whole process group) cannot interrupt it while it imports the PDF stack; it
    ignores SIGINT for good in ``_process_start`` and is ended by the pool's shutdown instead."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _process_start() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # also drops a SIGINT pending since the spawn
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    from paraph.pdf.stored import warm_up  # the PDF stack is heavy: loaded in the pool process only

    warm_up()


class PdfPool:
    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _processes(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=PDF_PROCESSES,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_process_start,
                )
            return self._pool

    def warm(self) -> None:
        """Start the PDF processes now rather than on the first document: spawning one and importing the PDF
        stack takes a few hundred milliseconds (``paraph serve`` and ``paraph worker`` call this at start)."""
        pool = self._processes()
        with _sigint_blocked():
            for _ in range(PDF_PROCESSES):  # no process is idle yet, so each submission spawns one
                pool.submit(os.getpid)

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in a pool process; a broken pool is dropped and rebuilt on the next call."""
        pool = self._processes()
        try:
            with _sigint_blocked():  # a submission may spawn a process
                future = pool.submit(fn, *args)
            return future.result(timeout=PDF_TIMEOUT_SECONDS)
        except BrokenProcessPool:
            with self._lock:
                self._pool = None
            raise

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
