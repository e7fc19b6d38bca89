"""/v3/signature_request/*: thin handlers, one service call each; and the signed file download link."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from paraph.errors import BadRequest, NotFound
from paraph.models import SignatureRequest
from paraph.request_scope import ApiContext, api_call, in_uow, runtime
from paraph.scope import Scope
from paraph.signature_request import create, edit, events, files, service
from paraph.signature_request.schemas import (
    SignatureRequestCreateRequest,
    SignatureRequestRemindRequest,
    SignatureRequestUpdateRequest,
)
from paraph.wire.decode import coerce_bool, decode_query, read_body
from paraph.wire.parse import parse
from paraph.wire.responses import empty, list_info, ok, page_params

#: Uploads up to this size in total are written inside the create transaction (one round trip fewer).
INLINE_STORE_BYTES = 1024 * 1024

router = APIRouter(prefix="/v3")


def _scope(ctx: ApiContext) -> Scope:
    return Scope.of(ctx.session, ctx.runtime)


public_router = APIRouter()


def _one(ctx: ApiContext, sr: SignatureRequest, warnings: list[dict[str, str]] | None = None) -> Response:
    body: dict[str, Any] = {"signature_request": events.serialize(_scope(ctx), sr)}
    if warnings:
        body["warnings"] = warnings
    return ok(body)


async def _create(request: Request, *, embedded: bool, edit_id: str | None = None) -> Response:
    """A new request, or (``edit_id``) a new version of the caller's request ``edit_id`` (:mod:`.edit`)."""
    rt = runtime(request)
    settings = rt.settings
    body = await read_body(
        request,
        max_file_size=settings.max_file_bytes,
        max_files=settings.max_files,
        max_files_total=settings.max_upload_bytes,
    )
    req = parse(SignatureRequestCreateRequest, body.data)
    draft = create.draft(req, body.files.get("files", []), settings, embedded=embedded, signature_request_id=edit_id)
    # Small uploads are stored inside the transaction; big ones before it, so that the database's writer is
    # not held while megabytes go to disk, and only after authenticating (and checking client_id).
    inline = draft.upload_bytes <= INLINE_STORE_BYTES
    if not inline:
        await api_call(
            request, lambda ctx: create.check_client_id(ctx.session, ctx.account, req.client_id), write=False
        )
        await to_thread.run_sync(create.store_uploads, rt.storage, draft)

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
        if inline:
            create.check_client_id(ctx.session, ctx.account, req.client_id)
            create.store_uploads(rt.storage, draft)
        sr = create.create(_scope(ctx), ctx.account, draft, ip_address=ctx.ip_address, user_agent=ctx.user_agent)
        if replaced is not None:
            replaced.keep(sr)
        return _one(ctx, sr, draft.warnings)

    try:
        return await api_call(request, run)
    except Exception:  # nothing refers to the stored files: remove them
        await to_thread.run_sync(create.discard_uploads, rt.storage, draft)
        raise


@router.post("/signature_request/send")
async def signature_request_send(request: Request) -> Response:
    return await _create(request, embedded=False)


@router.post("/signature_request/create_embedded")
async def signature_request_create_embedded(request: Request) -> Response:
    return await _create(request, embedded=True)


@router.put("/signature_request/edit/{signature_request_id}")
async def signature_request_edit(request: Request, signature_request_id: str) -> Response:
    return await _create(request, embedded=False, edit_id=signature_request_id)


@router.put("/signature_request/edit_embedded/{signature_request_id}")
async def signature_request_edit_embedded(request: Request, signature_request_id: str) -> Response:
    return await _create(request, embedded=True, edit_id=signature_request_id)


@router.get("/signature_request/list")
async def signature_request_list(request: Request) -> Response:
    q = decode_query(request)
    page, size = page_params(q.get("page"), q.get("page_size"))
    query = q.get("query")
    if query is not None and not isinstance(query, str):
        raise BadRequest("query: must be a string", error_path="query")
    account_id = q.get("account_id")

    def run(ctx: ApiContext) -> Response:
        if account_id not in (None, "", "all", ctx.account.account_id):
            raise NotFound("Account not found.", error_path="account_id")
        rows, total = service.list_requests(ctx.session, ctx.account, query, page, size)
        return ok(
            {
                "signature_requests": [events.serialize(_scope(ctx), sr) for sr in rows],
                "list_info": list_info(page, size, total),
            }
        )

    return await api_call(request, run)


# Right after /list (the one literal GET path it could shadow): FastAPI tries routes in order, and this is the
# busiest. The paths of the routes below it have two segments or another method, so none is shadowed.
@router.get("/signature_request/{signature_request_id}")
async def signature_request_get(request: Request, signature_request_id: str) -> Response:
    def run(ctx: ApiContext) -> Response:
        return _one(ctx, service.view(ctx.session, ctx.account, signature_request_id))

    return await api_call(request, run)


def _flag(q: dict[str, Any], name: str, default: bool) -> bool:
    value = q.get(name)
    if value is None or value == "":
        return default
    try:
        return coerce_bool(value)
    except ValueError:
        raise BadRequest(f"{name}: must be 1 or 0", error_path=name) from None


def _int_flag(q: dict[str, Any], name: str, default: bool) -> bool:
    """An integer flag (``force_download=1``): 0 is false, any other integer true; true/false accepted."""
    value = q.get(name)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value) != 0
    return _flag(q, name, default)


def _download(body: files.FileBody, *, attachment: bool = True) -> Response:
    disposition = "attachment" if attachment else "inline"
    return Response(
        body.data,
        media_type=body.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{body.filename}"'},
    )


@router.get("/signature_request/files/{signature_request_id}")
async def signature_request_files(request: Request, signature_request_id: str) -> Response:
    q = decode_query(request)
    file_type = q.get("file_type") or "pdf"
    # Legacy (2022) clients ask for a link or a data URI through flags of this endpoint.
    get_url, get_data_uri = _flag(q, "get_url", False), _flag(q, "get_data_uri", False)

    def run(ctx: ApiContext) -> Response:
        if get_url:
            url, expires = files.file_url(_scope(ctx), ctx.account, signature_request_id, 1)
            return ok({"file_url": url, "expires_at": expires})
        if get_data_uri:
            return ok({"data_uri": files.data_uri(_scope(ctx), ctx.account, signature_request_id)})
        if not isinstance(file_type, str):
            raise BadRequest("file_type: must be pdf or zip", error_path="file_type")
        return _download(files.files(_scope(ctx), ctx.account, signature_request_id, file_type))

    return await api_call(request, run)


@router.get("/signature_request/files_as_data_uri/{signature_request_id}")
async def signature_request_files_as_data_uri(request: Request, signature_request_id: str) -> Response:
    def run(ctx: ApiContext) -> Response:
        return ok({"data_uri": files.data_uri(_scope(ctx), ctx.account, signature_request_id)})

    return await api_call(request, run)


@router.get("/signature_request/files_as_file_url/{signature_request_id}")
async def signature_request_files_as_file_url(request: Request, signature_request_id: str) -> Response:
    force_download = _int_flag(decode_query(request), "force_download", True)

    def run(ctx: ApiContext) -> Response:
        url, expires = files.file_url(_scope(ctx), ctx.account, signature_request_id, int(force_download))
        return ok({"file_url": url, "expires_at": expires})

    return await api_call(request, run)


@router.post("/signature_request/cancel/{signature_request_id}")
async def signature_request_cancel(request: Request, signature_request_id: str) -> Response:
    def run(ctx: ApiContext) -> Response:
        service.cancel(
            ctx.session, ctx.account, signature_request_id, ip_address=ctx.ip_address, user_agent=ctx.user_agent
        )
        return empty()

    return await api_call(request, run)


@router.post("/signature_request/remove/{signature_request_id}")
async def signature_request_remove(request: Request, signature_request_id: str) -> Response:
    def run(ctx: ApiContext) -> Response:
        service.remove(
            ctx.session, ctx.account, signature_request_id, ip_address=ctx.ip_address, user_agent=ctx.user_agent
        )
        return empty()

    return await api_call(request, run)


@router.post("/signature_request/remind/{signature_request_id}")
async def signature_request_remind(request: Request, signature_request_id: str) -> Response:
    req = parse(SignatureRequestRemindRequest, (await read_body(request)).data)

    def run(ctx: ApiContext) -> Response:
        sr = service.remind(
            _scope(ctx),
            ctx.account,
            signature_request_id,
            req.email_address,
            req.name,
            ip_address=ctx.ip_address,
            user_agent=ctx.user_agent,
        )
        return _one(ctx, sr)

    return await api_call(request, run)


@router.post("/signature_request/update/{signature_request_id}")
async def signature_request_update(request: Request, signature_request_id: str) -> Response:
    req = parse(SignatureRequestUpdateRequest, (await read_body(request)).data)

    def run(ctx: ApiContext) -> Response:
        sr = service.update(
            ctx.session, ctx.account, signature_request_id, req, ip_address=ctx.ip_address, user_agent=ctx.user_agent
        )
        return _one(ctx, sr)

    return await api_call(request, run)


@router.post("/signature_request/release_hold/{signature_request_id}")
async def signature_request_release_hold(request: Request, signature_request_id: str) -> Response:
    def run(ctx: ApiContext) -> Response:
        sr = service.release_hold(
            ctx.session, ctx.account, signature_request_id, ip_address=ctx.ip_address, user_agent=ctx.user_agent
        )
        return _one(ctx, sr)

    return await api_call(request, run)


@public_router.get("/paraph/files/signature_request/{signature_request_id}")
async def signed_file_download(request: Request, signature_request_id: str) -> Response:
    """The target of ``files_as_file_url``: no API key, the link's signature and expiry instead."""
    q = request.query_params
    expires, force, mac = q.get("expires", ""), q.get("force_download", "1"), q.get("signature", "")

    rt = runtime(request)

    def run(session: Session) -> Response:
        body = files.signed_download(Scope.of(session, rt), signature_request_id, expires, force, mac)
        return _download(body, attachment=force == "1")

    return await in_uow(request, run, write=False)
