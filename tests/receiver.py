"""A real callback receiver on a loopback port, in its own thread, recording every request it gets."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.base_protocol import BaseProtocol
from aiohttp.streams import StreamReader
from multidict import CIMultiDictProxy


async def parse_form(headers: CIMultiDictProxy[str], body: bytes) -> dict[str, str]:
    """aiohttp's multipart parser over bytes already read (the raw bytes are kept to verify signatures)."""
    loop = asyncio.get_running_loop()
    stream = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
    stream.feed_data(body)
    stream.feed_eof()
    form: dict[str, str] = {}
    async for part in MultipartReader(headers, stream):
        if isinstance(part, BodyPartReader) and part.name is not None:
            form[part.name] = await part.text()
    return form


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    form: dict[str, str]
    at: float

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.form["json"])  # type: ignore[no-any-return]


@dataclass
class Behaviour:
    status: int = 200
    body: str = "Hello API Event Received"
    delay: float = 0.0
    #: Answer this many requests, then hold every later one unanswered until ``released`` is set.
    hold_after: int | None = None
    released: threading.Event = field(default_factory=threading.Event)


@dataclass
class Receiver:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    behaviour: Behaviour = field(default_factory=Behaviour)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, n: int, timeout: float = 15.0, path: str | None = None) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [r for r in self.received if path is None or r.path == path]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {n} callbacks at {path or 'any path'}, got {len(got)}")
                self._cond.wait(left)

    def events(self, path: str | None = None) -> list[str]:
        return [r.payload["event"]["event_type"] for r in self.received if path is None or r.path == path]


class ReceiverServer:
    def __init__(self) -> None:
        self.state = Receiver()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        form: dict[str, str] = {}
        if request.content_type.startswith("multipart/"):
            form = await parse_form(request.headers, body)
        rec = Received(request.path, dict(request.headers), body, form, time.time())
        with self.state._cond:
            self.state.received.append(rec)
            seen = len(self.state.received)
            self.state._cond.notify_all()
        b = self.state.behaviour
        if b.hold_after is not None and seen > b.hold_after:
            # ``released`` is set from the test's thread: polled, as an asyncio.Event cannot be set from there.
            while not b.released.is_set():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        if b.delay:
            await asyncio.sleep(b.delay)
        return web.Response(status=b.status, text=b.body)

    def start(self) -> Receiver:
        self._thread.start()

        async def boot() -> str:
            app = web.Application(client_max_size=50 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            return f"http://127.0.0.1:{port}"

        self.state.url = asyncio.run_coroutine_threadsafe(boot(), self._loop).result(10)
        return self.state

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


class HangingServer:
    """A loopback endpoint that accepts connections, reads what is sent and never answers: the slow receiver
    a callback sender must not let hold everyone else's callbacks back. Stopping it closes every connection."""

    def __init__(self) -> None:
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._lock = threading.Lock()
        self._connections = 0

    @property
    def connections(self) -> int:
        """Connections accepted so far (each one a request left unanswered)."""
        with self._lock:
            return self._connections

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self._connections += 1
        self._writers.append(writer)
        while await reader.read(65536):
            pass  # read everything, answer nothing

    def start(self) -> HangingServer:
        self._thread.start()

        async def boot() -> str:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            port = self._server.sockets[0].getsockname()[1]
            return f"http://127.0.0.1:{port}"

        self.url = asyncio.run_coroutine_threadsafe(boot(), self._loop).result(10)
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for w in self._writers:
                w.close()

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
