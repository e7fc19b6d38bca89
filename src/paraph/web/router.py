"""The dashboard's routers, assembled in order: pages first, the HTML 404 for unknown /dashboard paths last."""

from __future__ import annotations

import re
from functools import cache

from fastapi import APIRouter, Request
from starlette.responses import Response

from paraph.web import (
    auth_pages,
    bulk_pages,
    dashboard,
    editor_pages,
    inspector,
    mail_pages,
    requests_pages,
    settings_pages,
    simulate_pages,
    templates_pages,
)
from paraph.web.core import STATIC_DIR, PageNotFound, PageRoute, redirect

_STATIC_NAME = re.compile(r"^[a-z0-9-]{1,40}\.(css|js|svg)$")
_TYPES = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml"}

assets = APIRouter(route_class=PageRoute)


@cache
def _static(name: str) -> bytes | None:
    path = STATIC_DIR / name
    return path.read_bytes() if path.is_file() else None


@assets.get("/dashboard/static/{name}")
async def static_file(name: str) -> Response:
    data = _static(name) if _STATIC_NAME.match(name) else None
    if data is None:
        raise PageNotFound()
    # URLs carry ?v=<digest of the files>, so a long cache is safe.
    return Response(
        data,
        media_type=_TYPES[name.rsplit(".", 1)[1]],
        headers={"cache-control": "public, max-age=86400, immutable"},
    )


fallback = APIRouter(route_class=PageRoute)


@fallback.get("/")
async def home() -> Response:
    """The site root is the dashboard (it sends a signed-out visitor to /login)."""
    return redirect("/dashboard")


@fallback.api_route("/dashboard/{rest:path}", methods=["GET", "POST"])
async def not_found(request: Request, rest: str) -> Response:
    if rest == "" and request.method == "GET":
        return redirect("/dashboard")
    raise PageNotFound()


def routers() -> list[APIRouter]:
    """Every dashboard router, in the order they must be registered."""
    return [
        auth_pages.router,
        dashboard.router,
        requests_pages.router,
        simulate_pages.router,  # the request page's test-mode buttons
        editor_pages.router,  # before templates_pages: /dashboard/templates/new
        templates_pages.router,
        bulk_pages.router,
        settings_pages.router,
        mail_pages.router,
        inspector.router,
        assets,
        fallback,
    ]


#: The inspector's catch endpoint: plain text, no sign-in, no dashboard error pages.
inspect_router = inspector.catch_router


def _assemble() -> APIRouter:
    combined = APIRouter()
    for r in routers():
        combined.include_router(r, include_in_schema=False)  # HTML pages: not part of the API schema
    return combined


#: Every dashboard page (/login, /logout, /dashboard/...), ready for ``app.include_router``.
dashboard_router = _assemble()
