"""create_app(): routers, error rendering, the API gate (authentication, rate limit) and the in-process worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from paraph.account.endpoints import router as account_router
from paraph.api_app.endpoints import router as api_app_router
from paraph.api_gate import ApiGate
from paraph.bulk_send.endpoints import router as bulk_send_router
from paraph.callbacks.endpoints import router as callbacks_router
from paraph.config import Settings
from paraph.editor.endpoints import page_router as editor_page_router
from paraph.editor.endpoints import router as editor_router
from paraph.embedded.endpoints import router as embedded_router
from paraph.errors import ApiError, BadRequest, Maintenance, MethodNotSupported, NotFound
from paraph.hot_reads import ROUTE_NAMES, HotReads
from paraph.inspector.endpoints import router as inspector_router
from paraph.ops.endpoints import router as ops_router
from paraph.ops.telemetry import Telemetry
from paraph.runtime import Runtime
from paraph.signature_request.detect_endpoints import router as detect_router
from paraph.signature_request.endpoints import public_router as signature_request_files_router
from paraph.signature_request.endpoints import router as signature_request_router
from paraph.signing.endpoints import router as signing_router
from paraph.simulate.endpoints import router as simulate_router
from paraph.storage import StorageUnavailable
from paraph.template.endpoints import public_router as template_files_router
from paraph.template.endpoints import router as template_router
from paraph.web.router import dashboard_router, inspect_router
from paraph.wire.decode import DecodeError
from paraph.wire.parse import error_path
from paraph.wire.responses import ApiJSONResponse
from paraph.wire.text import StorableTextOnly

log = logging.getLogger(__name__)


def render(err: ApiError) -> ApiJSONResponse:
    return ApiJSONResponse(err.body(), status_code=err.status_code)


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
    hot = _hot_reads(rt)

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
            await hot.close()
            rt.close()

    app = FastAPI(
        title="Paraph",
        description="A self-hostable, drop-in replacement for the Dropbox Sign API v3.",
        # No Swagger UI page: FastAPI's loads its code from a public CDN, and a self-hosted server must not make
        # browsers fetch code from elsewhere. The schema itself is served.
        docs_url=None,
        redoc_url=None,
        openapi_url="/paraph/openapi.json",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    _install_error_handlers(app)
    _include_routers(app)
    app.add_middleware(
        ApiGate,
        runtime=rt,
        limit_per_hour=rt.settings.rate_limit_per_hour,
        max_tracked=rt.settings.rate_limit_max_keys,
        hot=hot,
    )
    app.add_middleware(StorableTextOnly)  # refuses NUL in a path or query before any lookup
    app.add_middleware(Telemetry)  # outermost: the request id and the HTTP metrics cover every answer
    return app


def _hot_reads(rt: Runtime) -> HotReads:
    """The gate's lane for the three busiest reads (``paraph.hot_reads``), with the routes it stands for."""
    names = {name: kind for kind, name in ROUTE_NAMES.items()}
    routes = {
        names[route.name]: route
        for router in (account_router, signature_request_router)
        for route in router.routes
        if isinstance(route, APIRoute) and route.name in names
    }
    assert len(routes) == len(ROUTE_NAMES), "a hot read's route was renamed"
    return HotReads(rt.db.url, rt.settings.base_url, routes)


def _include_routers(app: FastAPI) -> None:
    """Every router, in the order it is mounted: the first route that matches wins (within a router, literal
    paths such as /signature_request/list come before /{id}). No router registers background work; that is
    ``paraph.tasks``.

    FastAPI tries the routes one by one (for ~150 routes that was a quarter of a read's time in the read path's
    profile), so the API's busiest routes come first and the pages last. Only routers whose paths can overlap
    need a given order among themselves (those under /v3/signature_request, /v3/template and /v3/embedded keep
    theirs); the others have prefixes of their own (/v3/account, /v3/api_app, /paraph/v1, /paraph/inspect,
    /dashboard, /sign, /editor), so moving them changes what they match in no way."""
    app.include_router(ops_router)  # /healthz, /readyz, /metrics
    app.include_router(account_router, prefix="/v3")
    for router in (
        signature_request_router,
        signature_request_files_router,
        embedded_router,
        detect_router,  # /v3/document/detect_fields
        editor_router,  # /v3/unclaimed_draft/*, /v3/template/create_embedded_draft, /v3/embedded/edit_url/{id}
        template_router,  # /v3/template/*, and the sends from templates (/v3/signature_request/send_with_template)
        template_files_router,
        bulk_send_router,  # /v3/signature_request/bulk_*, /v3/bulk_send_job/*
    ):
        app.include_router(router)
    app.include_router(api_app_router, prefix="/v3")
    app.include_router(callbacks_router, prefix="/paraph/v1")
    app.include_router(inspector_router, prefix="/paraph/v1")
    app.include_router(simulate_router, prefix="/paraph/v1")  # /paraph/v1/test/*: simulated signers
    for router in (
        inspect_router,  # the callback inspector
        dashboard_router,  # the dashboard's pages
        signing_router,  # the signing page (embedded and mailed) and final copies
        editor_page_router,  # the editor page (/editor/claim, /editor/template)
    ):
        app.include_router(router)


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

    @app.exception_handler(StorageUnavailable)
    async def _storage_unavailable(request: Request, exc: StorageUnavailable) -> Response:
        log.warning("the document storage failed on %s %s: %s", request.method, request.url.path, exc)
        resp = render(Maintenance("The document storage cannot be reached; try again in a moment."))
        resp.headers["Retry-After"] = "30"
        return resp

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return ApiJSONResponse(
            {"error": {"error_msg": "An unexpected error occurred.", "error_name": "unknown"}},
            status_code=500,
        )
