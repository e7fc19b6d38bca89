"""Routers of the features beyond the foundation; each feature adds its router here."""

from __future__ import annotations

from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    routers: list[APIRouter] = []
    return routers
