"""``GET /healthz`` (the process answers), ``GET /readyz`` (database reachable, migrations applied, storage
writable) and ``GET /metrics`` (Prometheus text; a bearer token when ``PARAPH_METRICS_TOKEN`` is set). None
needs an API key; none shows a secret, a URL or an error text (the reason for a failed check goes to the log)."""

from __future__ import annotations

import functools
import logging
import os

import sqlalchemy as sa
from anyio import to_thread
from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from paraph.ops import metrics
from paraph.request_scope import runtime
from paraph.runtime import Runtime
from paraph.security import constant_time_equals

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/healthz")
async def healthz() -> Response:
    return JSONResponse({"status": "ok"})


@functools.cache
def migration_head() -> str | None:
    from alembic.script import ScriptDirectory

    from paraph.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def readiness(rt: Runtime) -> dict[str, str]:
    checks = {"database": "ok", "migrations": "ok", "storage": "ok"}
    try:
        with rt.unit_of_work(write=False) as session:
            applied = session.scalar(sa.text("SELECT version_num FROM alembic_version"))
        if applied != migration_head():
            checks["migrations"] = "pending"
    except Exception:
        log.warning("readyz: the database cannot be read", exc_info=True)
        checks["database"] = checks["migrations"] = "failing"
    probe = f"readyz/{os.getpid()}"
    try:
        rt.storage.put(probe, b"ok")
        if rt.storage.get(probe) != b"ok":
            raise OSError("the storage returned other bytes than written")
        rt.storage.delete(probe)
    except Exception:
        log.warning("readyz: the storage cannot be written", exc_info=True)
        checks["storage"] = "failing"
    return checks


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    checks = await to_thread.run_sync(readiness, runtime(request))
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics_page(request: Request) -> Response:
    rt = runtime(request)
    expected = rt.settings.metrics_token
    if expected:
        scheme, _, presented = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not constant_time_equals(presented.strip(), expected):
            return Response("unauthorized\n", status_code=401, headers={"WWW-Authenticate": "Bearer"})
    body = await to_thread.run_sync(metrics.exposition, rt)
    return Response(body, media_type=metrics.CONTENT_TYPE)
