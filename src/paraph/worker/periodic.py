"""Periodic sweeps (expiry, retention), each run at most once per interval by some worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paraph.runtime import Runtime

TICK_SECONDS = 5.0


@dataclass
class PeriodicTask:
    name: str
    interval: float
    fn: Callable[[Runtime], None]
    last_run: float = field(default=0.0)

    def run(self, rt: Runtime) -> None:
        self.last_run = time.monotonic()
        self.fn(rt)


_TASKS: list[PeriodicTask] = []


def every(seconds: float, name: str) -> Callable[[Callable[[Runtime], None]], Callable[[Runtime], None]]:
    def register(fn: Callable[[Runtime], None]) -> Callable[[Runtime], None]:
        _TASKS.append(PeriodicTask(name, seconds, fn))
        return fn

    return register


def due() -> list[PeriodicTask]:
    now = time.monotonic()
    return [t for t in _TASKS if now - t.last_run >= t.interval]


def names() -> frozenset[str]:
    return frozenset(t.name for t in _TASKS)
