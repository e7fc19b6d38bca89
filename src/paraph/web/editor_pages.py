"""The dashboard's way into the editor: "Send a document" and "New template" (upload, then lay out fields in the
editor page signed in with the dashboard session), and "Edit template". The rules are the editor's
(:mod:`paraph.editor.service`); this module reads the forms and redirects to the editor."""

from __future__ import annotations

import re
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from paraph.editor import service as editor
from paraph.editor.schemas import TemplateEmbeddedDraftRequest, UnclaimedDraftCreateRequest
from paraph.errors import BadRequest
from paraph.request_scope import runtime
from paraph.scope import Scope
from paraph.template import service as template_service
from paraph.web.core import CsrfRefused, PageContext, PageNotFound, PageRoute, SignInRequired, page_call, redirect
from paraph.web.sessions import CSRF_FIELD, SESSION_COOKIE, check_csrf, parse_session_cookie
from paraph.wire.decode import UploadedFile
from paraph.wire.parse import parse

router = APIRouter(route_class=PageRoute)

#: Signer rows the "Send a document" form offers.
SIGNER_ROWS = 5
_TID = re.compile(r"^[0-9a-f]{40}$")


@router.get("/dashboard/send")
async def send_form(request: Request) -> Response:
    return await page_call(
        request, lambda ctx: ctx.render("compose.html", {"kind": "request", "rows": SIGNER_ROWS}, nav="requests")
    )


@router.get("/dashboard/templates/new")
async def template_form(request: Request) -> Response:
    return await page_call(
        request, lambda ctx: ctx.render("compose.html", {"kind": "template", "rows": 0}, nav="templates")
    )


async def _form(request: Request) -> tuple[dict[str, str], list[UploadedFile]]:
    """A signed-in form with an upload: CSRF checked, files capped as the API caps them."""
    rt = runtime(request)
    token = parse_session_cookie(rt.keys, request.cookies.get(SESSION_COOKIE))
    if token is None:
        raise SignInRequired()
    settings = rt.settings
    form = await request.form(max_files=settings.max_files, max_fields=100, max_part_size=settings.max_file_bytes)
    try:
        fields: dict[str, str] = {}
        uploads: list[UploadedFile] = []
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                if data:
                    uploads.append(UploadedFile(value.filename, value.content_type, data))
            else:
                fields[key] = value
    finally:
        await form.close()
    if not check_csrf(rt.keys, token.lookup, fields.get(CSRF_FIELD)):
        raise CsrfRefused()
    if not uploads:
        raise BadRequest("Choose a PDF (or another document) to upload.")
    return fields, uploads


@router.post("/dashboard/send")
async def send_submit(request: Request) -> Response:
    rt = runtime(request)
    fields, uploads = await _form(request)
    signers = [
        {
            "name": fields.get(f"signer_name_{i}", "").strip(),
            "email_address": fields.get(f"signer_email_{i}", "").strip(),
        }
        for i in range(SIGNER_ROWS)
    ]
    data: dict[str, Any] = {
        "title": fields.get("title") or None,
        "subject": fields.get("subject") or None,
        "message": fields.get("message") or None,
        "test_mode": fields.get("test_mode") == "1",
        "signers": [s for s in signers if s["name"] or s["email_address"]] or None,
    }
    data["type"] = "request_signature" if data["signers"] else "send_document"  # signers named later
    req = parse(UnclaimedDraftCreateRequest, data)
    nd = editor.new_draft(req, uploads, rt.settings, embedded=False)
    await to_thread.run_sync(template_service.store_uploads, rt.storage, nd.documents)

    def run(ctx: PageContext) -> str:
        _, url, _ = editor.create_draft(Scope.of(ctx.session, ctx.runtime), ctx.account, nd, embedded=False)
        return url

    url = await page_call(request, run, write=True)
    return redirect(url.removeprefix(rt.settings.base_url))


def _names(value: str) -> list[str]:
    return [n.strip() for n in value.split(",") if n.strip()]


@router.post("/dashboard/templates/new")
async def template_submit(request: Request) -> Response:
    rt = runtime(request)
    fields, uploads = await _form(request)
    roles = _names(fields.get("roles", ""))
    data: dict[str, Any] = {
        "title": fields.get("title") or None,
        "subject": fields.get("subject") or None,
        "message": fields.get("message") or None,
        "test_mode": fields.get("test_mode") == "1",
        "signer_roles": [{"name": r} for r in roles],
        "merge_fields": [
            {"name": m.strip(), "type": "text"} for m in fields.get("merge_fields", "").split(",") if m.strip()
        ]
        or None,
    }
    req = parse(TemplateEmbeddedDraftRequest, data)
    td = template_service.draft(req, uploads, rt.settings)
    await to_thread.run_sync(template_service.store_uploads, rt.storage, td.documents)

    def run(ctx: PageContext) -> str:
        scope = Scope.of(ctx.session, ctx.runtime)
        t = template_service.create(ctx.session, ctx.account, td)
        t.is_draft = True
        url, _ = editor.edit_url(scope, t, {})
        return url

    url = await page_call(request, run, write=True)
    return redirect(url.removeprefix(rt.settings.base_url))


@router.post("/dashboard/templates/{tid}/edit")
async def template_edit(request: Request, tid: str) -> Response:
    if not _TID.match(tid):
        raise PageNotFound()
    rt = runtime(request)
    token = parse_session_cookie(rt.keys, request.cookies.get(SESSION_COOKIE))
    form = await request.form(max_files=0, max_fields=5)
    presented = form.get(CSRF_FIELD)
    await form.close()
    if token is None:
        raise SignInRequired()
    if not isinstance(presented, str) or not check_csrf(rt.keys, token.lookup, presented):
        raise CsrfRefused()

    def run(ctx: PageContext) -> str:
        t = template_service.owned(ctx.session, ctx.account, tid)
        url, _ = editor.edit_url(Scope.of(ctx.session, ctx.runtime), t, {})
        return url

    url = await page_call(request, run, write=True)
    return redirect(url.removeprefix(rt.settings.base_url))
