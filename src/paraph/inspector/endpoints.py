"""/paraph/v1/inspectors: the callback inspector names of the API key's account (Paraph's extension)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from paraph.inspector import service
from paraph.inspector.schemas import serialize_name
from paraph.request_scope import ApiContext, api_call
from paraph.wire.decode import read_body
from paraph.wire.responses import empty, ok

router = APIRouter()


@router.get("/inspectors")
async def inspectors_list(request: Request) -> Response:
    def run(ctx: ApiContext) -> Response:
        base = ctx.runtime.settings.base_url
        return ok({"inspectors": [serialize_name(row, base) for row in service.names(ctx.session, ctx.account)]})

    return await api_call(request, run)


@router.post("/inspectors")
async def inspectors_create(request: Request) -> Response:
    body = (await read_body(request, max_parts=10, max_fields_size=4096)).data
    name = body.get("name")
    name = name.strip() if isinstance(name, str) else ""

    def run(ctx: ApiContext) -> Response:
        row = service.create_name(ctx.session, ctx.account, name)
        return ok({"inspector": serialize_name(row, ctx.runtime.settings.base_url)}, status_code=201)

    return await api_call(request, run)


@router.delete("/inspectors/{name}")
async def inspectors_delete(request: Request, name: str) -> Response:
    await api_call(request, lambda ctx: service.delete_name(ctx.session, ctx.account, name))
    return empty(204)
