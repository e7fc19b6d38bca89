"""/v3/signature_request/bulk_send_with_template, bulk_create_embedded_with_template and /v3/bulk_send_job/*:
thin handlers, one service call each."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from paraph.bulk_send import service
from paraph.bulk_send.schemas import BulkSendRequest, serialize_job
from paraph.errors import BadRequest
from paraph.request_scope import ApiContext, api_call, runtime
from paraph.scope import Scope
from paraph.signature_request import events
from paraph.wire.decode import decode_query, read_body
from paraph.wire.parse import parse
from paraph.wire.responses import list_info, ok, page_params

router = APIRouter(prefix="/v3")


def _scope(ctx: ApiContext) -> Scope:
    return Scope.of(ctx.session, ctx.runtime)


async def _bulk_send(request: Request, *, embedded: bool) -> Response:
    settings = runtime(request).settings
    body = await read_body(
        request, max_file_size=settings.max_file_bytes, max_files=1, max_files_total=settings.max_file_bytes
    )
    req = parse(BulkSendRequest, body.data)
    uploads = body.files.get("signer_file", [])
    if len(uploads) > 1:
        raise BadRequest("signer_file: one file at most", error_path="signer_file")
    upload = uploads[0] if uploads else None

    def run(ctx: ApiContext) -> Response:
        job = service.create_job(_scope(ctx), ctx.account, req, upload, embedded=embedded)
        return ok({"bulk_send_job": serialize_job(job, ctx.account)})

    return await api_call(request, run)


@router.post("/signature_request/bulk_send_with_template")
async def bulk_send_with_template(request: Request) -> Response:
    return await _bulk_send(request, embedded=False)


@router.post("/signature_request/bulk_create_embedded_with_template")
async def bulk_create_embedded_with_template(request: Request) -> Response:
    return await _bulk_send(request, embedded=True)


@router.get("/bulk_send_job/list")
async def bulk_send_job_list(request: Request) -> Response:
    q = decode_query(request)
    page, size = page_params(q.get("page"), q.get("page_size"))

    def run(ctx: ApiContext) -> Response:
        rows, total = service.list_jobs(_scope(ctx), ctx.account, page, size)
        return ok(
            {"bulk_send_jobs": [serialize_job(j, ctx.account) for j in rows], "list_info": list_info(page, size, total)}
        )

    return await api_call(request, run)


@router.get("/bulk_send_job/{bulk_send_job_id}")
async def bulk_send_job_get(request: Request, bulk_send_job_id: str) -> Response:
    q = decode_query(request)
    page, size = page_params(q.get("page"), q.get("page_size"))

    def run(ctx: ApiContext) -> Response:
        job, rows, total = service.get(_scope(ctx), ctx.account, bulk_send_job_id, page, size)
        return ok(
            {
                "bulk_send_job": serialize_job(job, ctx.account),
                "list_info": list_info(page, size, total),
                "signature_requests": [events.serialize(_scope(ctx), sr) for sr in rows],
            }
        )

    return await api_call(request, run)
