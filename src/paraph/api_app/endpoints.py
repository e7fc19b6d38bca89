"""/v3/api_app."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from paraph.api_app import repository, service
from paraph.api_app.schemas import ApiAppCreateRequest, ApiAppUpdateRequest, serialize_api_app
from paraph.outbound.check import check_callback_url
from paraph.request_scope import ApiContext, api_call
from paraph.wire.decode import decode_query, read_body
from paraph.wire.parse import parse
from paraph.wire.responses import empty, list_info, ok, page_params

router = APIRouter()


@router.post("/api_app")
async def api_app_create(request: Request) -> Response:
    body = await read_body(request)
    req = parse(ApiAppCreateRequest, body.data)
    if req.callback_url:
        req.callback_url = await check_callback_url(request, req.callback_url)

    def run(ctx: ApiContext) -> Response:
        return ok({"api_app": serialize_api_app(service.create(ctx.session, ctx.account, req))}, 201)

    return await api_call(request, run)


@router.get("/api_app/list")
async def api_app_list(request: Request) -> Response:
    q = decode_query(request)
    page, size = page_params(q.get("page"), q.get("page_size"))

    def run(ctx: ApiContext) -> Response:
        rows, total = repository.list_owned(ctx.session, ctx.account, (page - 1) * size, size)
        return ok({"api_apps": [serialize_api_app(a) for a in rows], "list_info": list_info(page, size, total)})

    return await api_call(request, run)


@router.get("/api_app/{client_id}")
async def api_app_get(request: Request, client_id: str) -> Response:
    def run(ctx: ApiContext) -> Response:
        return ok({"api_app": serialize_api_app(service.get(ctx.session, ctx.account, client_id))})

    return await api_call(request, run)


async def api_app_update(request: Request, client_id: str) -> Response:
    body = await read_body(request)
    req = parse(ApiAppUpdateRequest, body.data)
    if req.callback_url:
        req.callback_url = await check_callback_url(request, req.callback_url)

    def run(ctx: ApiContext) -> Response:
        return ok({"api_app": serialize_api_app(service.update(ctx.session, ctx.account, client_id, req))})

    return await api_call(request, run)


router.add_api_route("/api_app/{client_id}", api_app_update, methods=["PUT"], name="api_app_update")
# The legacy Python SDK updates an app with POST; both are accepted (as for POST /account).
router.add_api_route("/api_app/{client_id}", api_app_update, methods=["POST"], name="api_app_update_legacy")


@router.delete("/api_app/{client_id}")
async def api_app_delete(request: Request, client_id: str) -> Response:
    def run(ctx: ApiContext) -> Response:
        service.delete(ctx.session, ctx.account, client_id)
        return empty(204)

    return await api_call(request, run)
