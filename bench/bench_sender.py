"""How fast CallbackSender posts compared with a bare aiohttp loop (both at concurrency 100, loopback).

The receiver runs in its own process so client and server do not share a CPU. Usage:
    .venv/bin/python bench/bench_sender.py [--posts 20000] [--concurrency 100] [--uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import time
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from paraph.callbacks.sender import CallbackSender
from paraph.callbacks.webhook_signature import encode_callback_body, new_webhook_secret, standard_webhook_headers


class LoopbackResolver:
    async def resolve(self, host: str, port: int) -> list[str]:
        return ["127.0.0.1"]


def serve(sock: socket.socket) -> None:
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="Hello API Event Received")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    web.run_app(app, sock=sock, access_log=None, print=None, handle_signals=True)


async def timed(n: int, concurrency: int, post: Callable[[], Awaitable[bool]]) -> float:
    left = n
    failures = 0

    async def worker() -> None:
        nonlocal left, failures
        while left > 0:
            left -= 1
            if not await post():
                failures += 1

    for _ in range(min(200, n)):  # warm up the pool
        await post()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    assert failures == 0, f"{failures} failed posts"
    return n / elapsed


async def run(port: int, n: int, concurrency: int) -> None:
    body, ctype = encode_callback_body({"event": {"event_type": "callback_test", "event_time": "1700000000"}})
    secret = new_webhook_secret()
    headers = {"Content-Type": ctype, **standard_webhook_headers(secret, "evt", int(time.time()), body)}

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def bare() -> bool:
            async with session.post(f"http://127.0.0.1:{port}/cb", data=body, headers=headers) as resp:
                text = await resp.read()
                return resp.status == 200 and b"Hello API Event Received" in text

        print(f"bare aiohttp loop        : {await timed(n, concurrency, bare):8.0f} posts/s")

    for label, url in (
        ("CallbackSender, name     ", f"http://callback.test:{port}/cb"),
        ("CallbackSender, IP       ", f"http://127.0.0.1:{port}/cb"),
    ):
        sender = CallbackSender(allow_private=True, resolver=LoopbackResolver(), limit=concurrency)

        async def guarded(sender: CallbackSender = sender, url: str = url) -> bool:
            return (await sender.post(url, body, headers)).ok

        try:
            print(f"{label}: {await timed(n, concurrency, guarded):8.0f} posts/s")
        finally:
            await sender.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    port = sock.getsockname()[1]
    server = multiprocessing.get_context("fork").Process(target=serve, args=(sock,), daemon=True)
    server.start()
    try:
        time.sleep(1.0)
        if args.uvloop:
            import uvloop

            uvloop.run(run(port, args.posts, args.concurrency))
        else:
            asyncio.run(run(port, args.posts, args.concurrency))
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
