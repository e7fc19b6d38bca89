"""Fixtures of the callback tests: a worker running the dispatcher on its own event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from paraph.callbacks.dispatcher import Dispatcher
from paraph.runtime import Runtime
from paraph.worker.runner import Worker


class Running:
    """A worker on its own event loop in a thread, as ``paraph serve`` runs it beside the web server."""

    def __init__(self, worker: Worker, dispatcher: Dispatcher) -> None:
        self.worker = worker
        self.dispatcher = dispatcher
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(worker.run(),), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.worker.stop)
        self.thread.join(30)
        assert not self.thread.is_alive()
        self.loop.close()


@pytest.fixture
def start_worker(runtime: Runtime) -> Iterator[Any]:
    started: list[Running] = []

    def start() -> Running:
        dispatcher = Dispatcher(runtime, poll_interval=0.1)
        running = Running(Worker(runtime, [dispatcher]), dispatcher)
        started.append(running)
        return running

    yield start
    for r in started:
        if r.thread.is_alive():
            r.stop()
