"""/v3/template/*, and the sends from templates (/v3/signature_request/send_with_template and
create_embedded_with_template): thin handlers, one service call each; and the signed template file link."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from paraph.errors import BadRequest
from paraph.models import Account, Template
from paraph.request_scope import ApiContext, api_call, in_uow, runtime
from paraph.scope import Scope
from paraph.signature_request import edit, events
from paraph.signature_request.create import check_client_id
from paraph.signature_request.files import FileBody
from paraph.template import files, send, service
from paraph.template.schemas import (
    SendWithTemplateRequest,
    TemplateCreateRequest,
    TemplateUpdateFilesRequest,
    TemplateUpdateRequest,
    TemplateUserRequest,
    serialize_template,
)
from paraph.wire.decode import coerce_bool, decode_query, read_body
from paraph.wire.parse import parse
from paraph.wire.responses import empty, list_info, ok, page_params

router = APIRouter(prefix="/v3")
#: A title search longer than any title is refused rather than scanned for.
MAX_QUERY_LENGTH = 255
public_router = APIRouter()


def _scope(ctx: ApiContext) -> Scope:
    return Scope.of(ctx.session, ctx.runtime)


def _one(t: Template, viewer: Account) -> Response:
    return ok({"template": serialize_template(t, viewer)})


async def _body(request: Request) -> Any:
    settings = runtime(request).settings
    return await read_body(
        request,
        max_file_size=settings.max_file_bytes,
        max_files=settings.max_files,
        max_files_total=settings.max_upload_bytes,
    )


@router.post("/template/create")
async def template_create(request: Request) -> Response:
    rt = runtime(request)
    body = await _body(request)
    req = parse(TemplateCreateRequest, body.data)
    draft = service.draft(req, body.files.get("files", []), rt.settings)
    await api_call(request, lambda ctx: check_client_id(ctx.session, ctx.account, req.client_id), write=False)
    await to_thread.run_sync(service.store_uploads, rt.storage, draft.documents)

    def run(ctx: ApiContext) -> Response:
        t = service.create(ctx.session, ctx.account, draft)
        out: dict[str, Any] = {"template": {"template_id": t.template_id}}
        if draft.warnings:
            out["warnings"] = draft.warnings
        return ok(out)

    try:
        return await api_call(request, run)
    except Exception:  # nothing refers to the stored files: remove them
        await to_thread.run_sync(service.discard_uploads, rt.storage, draft.documents)
        raise


@router.get("/template/list")
async def template_list(request: Request) -> Response:
    q = decode_query(request)
    page, size = page_params(q.get("page"), q.get("page_size"))
    query, account_id = q.get("query"), q.get("account_id")
    if query is not None and (not isinstance(query, str) or len(query) > MAX_QUERY_LENGTH):
        raise BadRequest(f"query: must be a string of at most {MAX_QUERY_LENGTH} characters", error_path="query")
    if account_id is not None and not isinstance(account_id, str):
        raise BadRequest("account_id: must be a string", error_path="account_id")

    def run(ctx: ApiContext) -> Response:
        rows, total = service.list_templates(ctx.session, ctx.account, account_id, query, page, size)
        return ok(
            {"templates": [serialize_template(t, ctx.account) for t in rows], "list_info": list_info(page, size, total)}
        )

    return await api_call(request, run)


def _flag(q: dict[str, Any], name: str, default: bool) -> bool:
    value = q.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value) != 0
    try:
        return coerce_bool(value)
    except ValueError:
        raise BadRequest(f"{name}: must be 1 or 0", error_path=name) from None


def _download(body: FileBody, *, attachment: bool = True) -> Response:
    disposition = "attachment" if attachment else "inline"
    return Response(
        body.data,
        media_type=body.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{body.filename}"'},
    )


@router.get("/template/files/{template_id}")
async def template_files(request: Request, template_id: str) -> Response:
    q = decode_query(request)
    file_type = q.get("file_type") or "pdf"
    if not isinstance(file_type, str):
        raise BadRequest("file_type: must be pdf or zip", error_path="file_type")

    def run(ctx: ApiContext) -> Response:
        return _download(files.files(_scope(ctx), ctx.account, template_id, file_type))

    return await api_call(request, run)


@router.get("/template/files_as_data_uri/{template_id}")
async def template_files_as_data_uri(request: Request, template_id: str) -> Response:
    def run(ctx: ApiContext) -> Response:
        return ok({"data_uri": files.data_uri(_scope(ctx), ctx.account, template_id)})

    return await api_call(request, run)


@router.get("/template/files_as_file_url/{template_id}")
async def template_files_as_file_url(request: Request, template_id: str) -> Response:
    force_download = _flag(decode_query(request), "force_download", True)

    def run(ctx: ApiContext) -> Response:
        url, expires = files.file_url(_scope(ctx), ctx.account, template_id, force_download)
        return ok({"file_url": url, "expires_at": expires})

    return await api_call(request, run)


@router.post("/template/delete/{template_id}")
async def template_delete(request: Request, template_id: str) -> Response:
    def run(ctx: ApiContext) -> Response:
        service.delete(ctx.session, ctx.account, template_id)
        return empty()

    return await api_call(request, run)


@router.post("/template/update/{template_id}")
async def template_update(request: Request, template_id: str) -> Response:
    req = parse(TemplateUpdateRequest, (await read_body(request)).data)

    def run(ctx: ApiContext) -> Response:
        return _one(service.update(ctx.session, ctx.account, template_id, req), ctx.account)

    return await api_call(request, run)


@router.post("/template/add_user/{template_id}")
async def template_add_user(request: Request, template_id: str) -> Response:
    req = parse(TemplateUserRequest, (await read_body(request)).data)

    def run(ctx: ApiContext) -> Response:
        return _one(service.add_user(ctx.session, ctx.account, template_id, req), ctx.account)

    return await api_call(request, run)


@router.post("/template/remove_user/{template_id}")
async def template_remove_user(request: Request, template_id: str) -> Response:
    req = parse(TemplateUserRequest, (await read_body(request)).data)

    def run(ctx: ApiContext) -> Response:
        return _one(service.remove_user(ctx.session, ctx.account, template_id, req), ctx.account)

    return await api_call(request, run)


@router.post("/template/update_files/{template_id}")
async def template_update_files(request: Request, template_id: str) -> Response:
    body = await _body(request)
    req = parse(TemplateUpdateFilesRequest, body.data)
    uploads = body.files.get("files", [])

    def run(ctx: ApiContext) -> Response:
        t = service.update_files(_scope(ctx), ctx.account, template_id, req, uploads)
        return ok({"template": {"template_id": t.template_id}})

    return await api_call(request, run)


@router.get("/template/{template_id}")
async def template_get(request: Request, template_id: str) -> Response:
    def run(ctx: ApiContext) -> Response:
        return _one(service.get(ctx.session, ctx.account, template_id), ctx.account)

    return await api_call(request, run)


async def _send(request: Request, *, embedded: bool, edit_id: str | None = None) -> Response:
    """A send from templates, or (``edit_id``) a new version of the caller's request ``edit_id`` made from
    templates (:mod:`paraph.signature_request.edit`)."""
    rt = runtime(request)
    body = await _body(request)
    req = parse(SendWithTemplateRequest, body.data)
    draft = send.draft(req, body.files.get("files", []), rt.settings, embedded=embedded, signature_request_id=edit_id)
    if draft.extra:
        await to_thread.run_sync(service.store_uploads, rt.storage, draft.extra)

    def run(ctx: ApiContext) -> Response:
        replaced = None
        if edit_id is not None:
            replaced = edit.replace(
                _scope(ctx),
                ctx.account,
                edit_id,
                embedded=embedded,
                ip_address=ctx.ip_address,
                user_agent=ctx.user_agent,
            )
            draft.bulk_send_job_id, draft.bulk_row = replaced.bulk_send_job_id, replaced.bulk_row
        sr = send.create(
            ctx.runtime, _scope(ctx), ctx.account, draft, ip_address=ctx.ip_address, user_agent=ctx.user_agent
        )
        if replaced is not None:
            replaced.keep(sr)
        out: dict[str, Any] = {"signature_request": events.serialize(_scope(ctx), sr)}
        if draft.warnings:
            out["warnings"] = draft.warnings
        return ok(out)

    try:
        return await api_call(request, run)
    except Exception:  # nothing refers to the stored files: remove them
        await to_thread.run_sync(service.discard_uploads, rt.storage, draft.extra)
        raise


@router.post("/signature_request/send_with_template")
async def signature_request_send_with_template(request: Request) -> Response:
    return await _send(request, embedded=False)


@router.post("/signature_request/create_embedded_with_template")
async def signature_request_create_embedded_with_template(request: Request) -> Response:
    return await _send(request, embedded=True)


@router.put("/signature_request/edit_with_template/{signature_request_id}")
async def signature_request_edit_with_template(request: Request, signature_request_id: str) -> Response:
    return await _send(request, embedded=False, edit_id=signature_request_id)


@router.put("/signature_request/edit_embedded_with_template/{signature_request_id}")
async def signature_request_edit_embedded_with_template(request: Request, signature_request_id: str) -> Response:
    return await _send(request, embedded=True, edit_id=signature_request_id)


@public_router.get("/paraph/files/template/{template_id}")
async def signed_template_download(request: Request, template_id: str) -> Response:
    """The target of ``template/files_as_file_url``: no API key, the link's signature and expiry instead."""
    q = request.query_params
    expires, force, mac = q.get("expires", ""), q.get("force_download", "1"), q.get("signature", "")
    rt = runtime(request)

    def run(session: Session) -> Response:
        body = files.signed_download(Scope.of(session, rt), template_id, expires, force, mac)
        return _download(body, attachment=force == "1")

    return await in_uow(request, run, write=False)
