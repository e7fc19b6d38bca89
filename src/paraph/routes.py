"""Routers of the features beyond the foundation; each feature adds its router here."""

from __future__ import annotations

from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    routers: list[APIRouter] = []
    from paraph.web.router import dashboard_router, inspect_router  # dashboard pages + callback inspector

    routers += [inspect_router, dashboard_router]
    return routers
