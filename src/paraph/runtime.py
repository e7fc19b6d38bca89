"""The process-wide objects every request and job needs, built once from Settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from paraph.config import Settings
from paraph.db import Database
from paraph.pdf.pool import PdfPool
from paraph.security import KeyBox
from paraph.worker.wakeup import Wakeup

if TYPE_CHECKING:
    from paraph.outbound.guard import Resolver
    from paraph.storage import Storage


class Runtime:
    def __init__(self, settings: Settings) -> None:
        settings.ensure_dirs()
        self.settings = settings
        self.db = Database(settings.effective_database_url)
        self.keys = KeyBox(settings.effective_secret_key)
        self.wakeup = Wakeup()
        self._resolver: Resolver | None = None
        self.pdf_pool = PdfPool(timeout=settings.pdf_timeout, memory_mb=settings.pdf_memory_mb)

    @property
    def resolver(self) -> Resolver:
        """Resolves callback and file_url hosts; tests replace it with a stub (no DNS traffic)."""
        if self._resolver is None:
            from paraph.outbound.guard import SystemResolver

            self._resolver = SystemResolver()
        return self._resolver

    @resolver.setter
    def resolver(self, value: Resolver) -> None:
        self._resolver = value

    @cached_property
    def storage(self) -> Storage:
        from paraph.storage import open_storage

        return open_storage(self.settings)

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """A transaction; workers are woken after a commit that queued work (``session.info["wake"]``)."""
        with self.db.unit_of_work(write=write) as session:
            yield session
            wake = bool(session.info.get("wake"))
        if wake:
            self.wakeup.wake()

    def close(self) -> None:
        self.pdf_pool.close()
        self.db.dispose()
