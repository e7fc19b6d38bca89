"""create_app(): routers, error rendering, rate-limit headers and the in-process worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paraph.config import Settings
from paraph.errors import ApiError, BadRequest, ExceededRate, MethodNotSupported, NotFound
from paraph.runtime import Runtime
from paraph.wire.decode import DecodeError
from paraph.wire.parse import error_path
from paraph.wire.responses import ApiJSONResponse

log = logging.getLogger(__name__)


def render(err: ApiError) -> ApiJSONResponse:
    return ApiJSONResponse(err.body(), status_code=err.status_code)


class RateLimitHeaders:
    """X-RateLimit-* on every response. Throttles only when PARAPH_RATE_LIMIT_PER_HOUR is set: a self-hosted
    server does not throttle by default (test suites create requests in bursts)."""

    def __init__(self, app: ASGIApp, limit_per_hour: int) -> None:
        self.app = app
        self.limit = limit_per_hour
        self.shown_limit = limit_per_hour or 100_000
        self._counts: dict[tuple[str, int], int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/v3"):
            await self.app(scope, receive, send)
            return
        window = int(time.time() // 3600)
        auth = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        key = (auth[-24:], window)
        used = self._counts.get(key, 0) + 1
        if len(self._counts) > 50_000:
            self._counts = {k: v for k, v in self._counts.items() if k[1] == window}
        self._counts[key] = used
        remaining = max(0, self.shown_limit - used)
        reset = (window + 1) * 3600
        headers = [
            (b"x-ratelimit-limit", str(self.shown_limit).encode()),
            (b"x-ratelimit-remaining", str(remaining).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
        ]
        if self.limit and used > self.limit:
            resp = render(ExceededRate("Too many requests."))
            resp.raw_headers.extend(headers)
            await resp(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    run_worker: bool = True,
    warm_pdf_pool: bool = False,
) -> FastAPI:
    """The ASGI app. ``warm_pdf_pool`` starts the PDF processes at startup (``paraph serve``) instead of on
    the first document."""
    rt = runtime or Runtime(settings or Settings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker_task = None
        worker = None
        if warm_pdf_pool:
            rt.pdf_pool.warm()
        if run_worker:
            from paraph import tasks
            from paraph.callbacks.dispatcher import Dispatcher
            from paraph.worker.runner import JobLoops, Worker

            tasks.load()
            worker = Worker(rt, [Dispatcher(rt), JobLoops(rt)])
            worker_task = asyncio.create_task(worker.run())
        try:
            yield
        finally:
            if worker is not None and worker_task is not None:
                worker.stop()
                with contextlib.suppress(Exception):
                    await worker_task
            rt.close()

    app = FastAPI(
        title="Paraph",
        description="A self-hostable, drop-in replacement for the Dropbox Sign API v3.",
        docs_url="/paraph/docs",
        redoc_url=None,
        openapi_url="/paraph/openapi.json",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    _install_error_handlers(app)
    _include_routers(app)
    app.add_middleware(RateLimitHeaders, limit_per_hour=rt.settings.rate_limit_per_hour)
    return app


def _include_routers(app: FastAPI) -> None:
    from paraph.account.endpoints import router as account
    from paraph.api_app.endpoints import router as api_app
    from paraph.callbacks.endpoints import router as callbacks_api

    app.include_router(account, prefix="/v3")
    app.include_router(api_app, prefix="/v3")
    app.include_router(callbacks_api, prefix="/paraph/v1")
    for extra in _optional_routers():
        app.include_router(extra)


def _optional_routers() -> list[Any]:
    """Routers of features that register themselves (signature requests, signing pages, dashboard)."""
    from paraph import routes

    return routes.all_routers()


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> Response:
        return render(exc)

    @app.exception_handler(DecodeError)
    async def _decode_error(_: Request, exc: DecodeError) -> Response:
        return render(BadRequest(exc.message, error_path=exc.path))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        loc = tuple(p for p in first.get("loc", ()) if p not in ("body", "query", "path", "header"))
        path = error_path(loc) or None
        return render(BadRequest(str(first.get("msg", "Invalid request")), error_path=path))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return render(NotFound("Not found."))
        if exc.status_code == 405:
            return render(MethodNotSupported(f"Method {request.method} is not supported here."))
        err = BadRequest(str(exc.detail))
        resp = ApiJSONResponse(err.body(), status_code=exc.status_code)
        return resp

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return ApiJSONResponse(
            {"error": {"error_msg": "An unexpected error occurred.", "error_name": "unknown"}},
            status_code=500,
        )
