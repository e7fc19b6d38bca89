"""The bare FastAPI ping of bench_api: ``GET /ping`` -> ``{"ok": true}``, on paraph serve's uvicorn settings."""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI

from paraph import logredact

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        log_level="info",
        log_config=logredact.uvicorn_log_config(),
    )
