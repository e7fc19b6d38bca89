"""Scripted answers of the callback inspector: a test tells a name to fail (``POST /paraph/v1/inspect/{name}
/script``) so that it can watch Paraph's real retry schedule, or its own idempotency, at work.

A script is held in the serving process's memory (one table per app, at most :data:`MAX_SCRIPTS` names; it
is gone after a restart): the next ``times`` requests caught at the name are stored as usual, then answered
with ``status`` and ``body`` after ``delay_ms``. Then the name answers like a good receiver again.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

from paraph.errors import BadRequest

MAX_SCRIPTS = 1000
MAX_TIMES = 1000
MAX_DELAY_MS = 120_000
MAX_BODY = 4096
FAILURE_BODY = "Scripted failure (Paraph inspector)"


@dataclass(slots=True)
class Script:
    status: int
    body: str | None  # None: the usual acknowledgement for a 2xx, FAILURE_BODY otherwise
    delay_ms: int
    times: int  # answers left

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def parse(body: dict[str, Any]) -> Script | None:
    """The script a JSON body describes, or None to clear (``{"times": 0}``); ``BadRequest`` names the field."""

    def whole(name: str, default: int, low: int, high: int) -> int:
        value = body.get(name, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise BadRequest(f"{name}: a whole number from {low} to {high}", error_path=name)
        return value

    status = whole("status", 200, 200, 599)
    delay_ms = whole("delay_ms", 0, 0, MAX_DELAY_MS)
    times = whole("times", 1, 0, MAX_TIMES)
    text = body.get("body")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_BODY):
        raise BadRequest(f"body: text of at most {MAX_BODY} characters", error_path="body")
    if times == 0:
        return None
    return Script(status=status, body=text, delay_ms=delay_ms, times=times)


class ScriptTable:
    """The scripts of one app, shared by its request handlers (thread-safe: read in the event loop, written
    from worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, Script] = {}

    def set(self, name: str, script: Script | None) -> None:
        with self._lock:
            self._scripts.pop(name, None)
            if script is None:
                return
            if len(self._scripts) >= MAX_SCRIPTS:
                self._scripts.pop(next(iter(self._scripts)))  # the oldest script gives way
            self._scripts[name] = script

    def peek(self, name: str) -> Script | None:
        with self._lock:
            found = self._scripts.get(name)
            return None if found is None else Script(found.status, found.body, found.delay_ms, found.times)

    def take(self, name: str) -> Script | None:
        """The answer for one request caught at ``name`` now (one of the script's ``times`` used), or None."""
        with self._lock:
            found = self._scripts.get(name)
            if found is None:
                return None
            found.times -= 1
            if found.times <= 0:
                del self._scripts[name]
            return Script(found.status, found.body, found.delay_ms, found.times)


def table(state: Any) -> ScriptTable:
    """The app's table (kept on ``app.state``), created on first use."""
    found = getattr(state, "inspector_scripts", None)
    if not isinstance(found, ScriptTable):
        found = ScriptTable()
        state.inspector_scripts = found
    return found
