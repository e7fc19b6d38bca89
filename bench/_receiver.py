"""A loopback callback receiver in its own process: answers the acknowledgement, records receipt times."""

from __future__ import annotations

import json
import sys
import time

from aiohttp import web

received: dict[str, float] = {}


async def hook(request: web.Request) -> web.Response:
    await request.read()
    received.setdefault(request.headers.get("webhook-id", ""), time.time())
    return web.Response(text="Hello API Event Received")


async def stats(request: web.Request) -> web.Response:
    return web.json_response({"count": len(received), "received": received if "full" in request.query else {}})


async def reset(request: web.Request) -> web.Response:
    received.clear()
    return web.json_response({"ok": True})


def main() -> None:
    port = int(sys.argv[1])
    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    print(json.dumps({"port": port}), flush=True)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
