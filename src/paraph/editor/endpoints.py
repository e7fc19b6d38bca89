"""The editor's routes: the API (/v3/unclaimed_draft/*, /v3/template/create_embedded_draft,
/v3/embedded/edit_url/{template_id}) and the editor page (/editor/claim, /editor/template), its page images and
its submit.

The page runs in a cross-site iFrame like the signing page: no cookies for embedded use; the token travels in
the page's and images' URLs and in the ``X-Paraph-Token`` header of the submit, checked before the body is
read (which is read with a cap). A draft made by ``unclaimed_draft/create`` (not embedded) opens only for its
account signed in to the dashboard.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from anyio import to_thread
from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from paraph.account import repository as accounts
from paraph.db import utcnow
from paraph.editor import access, repository, service
from paraph.editor.access import STATUS, EditorProblem, Problem
from paraph.editor.schemas import (
    EditorSubmit,
    EmbeddedEditUrlRequest,
    TemplateEmbeddedDraftRequest,
    UnclaimedDraftCreateRequest,
    UnclaimedDraftEditAndResendRequest,
    UnclaimedDraftWithTemplateRequest,
    serialize_draft,
)
from paraph.models import ApiApp, UnclaimedDraft
from paraph.request_scope import ApiContext, api_call, client_ip, in_uow, runtime
from paraph.scope import Scope
from paraph.signature_request.create import DraftDocument, check_client_id
from paraph.signing.page import EmbedParams, frame_ancestors, origin_of, theme
from paraph.template import repository as templates
from paraph.template import service as template_service
from paraph.template.schemas import serialize_template
from paraph.web.sessions import SESSION_COOKIE, parse_session_cookie
from paraph.wire import framed_page
from paraph.wire.decode import read_body
from paraph.wire.parse import parse
from paraph.wire.responses import ok
from paraph.wire.text import bad_text
from paraph.wire.validators import safe_link

router = APIRouter(prefix="/v3")
page_router = APIRouter()

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
STATIC_TYPES = {"editor.js": "text/javascript; charset=utf-8", "editor.css": "text/css; charset=utf-8"}
TOKEN_HEADER = "X-Paraph-Token"  # noqa: S105 - a header name
#: The largest submit the page sends (2000 fields of a few hundred bytes).
MAX_SUBMIT_BYTES = 2 * 1024 * 1024

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)


# -- the API -------------------------------------------------------------------------------------------------


async def _body(request: Request) -> Any:
    settings = runtime(request).settings
    return await read_body(
        request,
        max_file_size=settings.max_file_bytes,
        max_files=settings.max_files,
        max_files_total=settings.max_upload_bytes,
    )


async def _with_uploads(
    request: Request, client_id: str | None, documents: list[DraftDocument], run: Callable[[ApiContext], Response]
) -> Response:
    """``run`` once the caller's ``client_id`` is known to be theirs and the uploaded ``documents`` are stored;
    should ``run`` fail, nothing refers to them: they are removed."""
    rt = runtime(request)
    if documents:
        await api_call(request, lambda ctx: check_client_id(ctx.session, ctx.account, client_id), write=False)
        await to_thread.run_sync(template_service.store_uploads, rt.storage, documents)
    try:
        return await api_call(request, run)
    except Exception:
        await to_thread.run_sync(template_service.discard_uploads, rt.storage, documents)
        raise


async def _create_draft(request: Request, *, embedded: bool) -> Response:
    rt = runtime(request)
    body = await _body(request)
    req = parse(UnclaimedDraftCreateRequest, body.data)
    nd = service.new_draft(req, body.files.get("files", []), rt.settings, embedded=embedded)

    def run(ctx: ApiContext) -> Response:
        d, url, expires = service.create_draft(Scope.of(ctx.session, ctx.runtime), ctx.account, nd, embedded=embedded)
        return ok({"unclaimed_draft": serialize_draft(d, url, expires)})

    return await _with_uploads(request, req.client_id, nd.documents, run)


@router.post("/unclaimed_draft/create")
async def unclaimed_draft_create(request: Request) -> Response:
    return await _create_draft(request, embedded=False)


@router.post("/unclaimed_draft/create_embedded")
async def unclaimed_draft_create_embedded(request: Request) -> Response:
    return await _create_draft(request, embedded=True)


@router.post("/unclaimed_draft/create_embedded_with_template")
async def unclaimed_draft_create_embedded_with_template(request: Request) -> Response:
    rt = runtime(request)
    body = await _body(request)
    uploads = body.files.get("files", [])
    req = parse(UnclaimedDraftWithTemplateRequest, {**body.data, "files": bool(uploads)})
    draft_id, extra = service.extra_documents(req, uploads, rt.settings)

    def run(ctx: ApiContext) -> Response:
        d, url, expires = service.draft_from_templates(
            Scope.of(ctx.session, ctx.runtime), ctx.account, req, draft_id=draft_id, extra=extra
        )
        return ok({"unclaimed_draft": serialize_draft(d, url, expires)})

    return await _with_uploads(request, req.client_id, extra, run)


@router.post("/unclaimed_draft/edit_and_resend/{signature_request_id}")
async def unclaimed_draft_edit_and_resend(request: Request, signature_request_id: str) -> Response:
    body = await _body(request)
    req = parse(UnclaimedDraftEditAndResendRequest, body.data)

    def run(ctx: ApiContext) -> Response:
        d, url, expires = service.edit_and_resend(
            Scope.of(ctx.session, ctx.runtime), ctx.account, signature_request_id, req
        )
        return ok({"unclaimed_draft": serialize_draft(d, url, expires)})

    return await api_call(request, run)


@router.post("/template/create_embedded_draft")
async def template_create_embedded_draft(request: Request) -> Response:
    rt = runtime(request)
    body = await _body(request)
    req = parse(TemplateEmbeddedDraftRequest, body.data)
    td = template_service.draft(req, body.files.get("files", []), rt.settings)

    def run(ctx: ApiContext) -> Response:
        t, url, expires = service.create_template_draft(Scope.of(ctx.session, ctx.runtime), ctx.account, td)
        out: dict[str, Any] = {"template": {"template_id": t.template_id, "edit_url": url, "expires_at": expires}}
        if td.warnings:
            out["warnings"] = td.warnings
        return ok(out)

    return await _with_uploads(request, req.client_id, td.documents, run)


@router.post("/embedded/edit_url/{template_id}")
async def embedded_edit_url(request: Request, template_id: str) -> Response:
    body = await _body(request)
    req = parse(EmbeddedEditUrlRequest, body.data)

    def run(ctx: ApiContext) -> Response:
        url, expires = service.embedded_edit_url(Scope.of(ctx.session, ctx.runtime), ctx.account, template_id, req)
        return ok({"embedded": {"edit_url": url, "expires_at": expires}})

    return await api_call(request, run)


# -- the page ------------------------------------------------------------------------------------------------


@cache
def _asset_version(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def _render(data: dict[str, Any], *, status: int, ancestors: str) -> HTMLResponse:
    body = _env.get_template("editor.html").render(
        data=data,
        data_json=framed_page.json_for_html(data),
        css=f"/editor/static/editor.css?v={_asset_version('editor.css')}",
        js=f"/editor/static/editor.js?v={_asset_version('editor.js')}",
    )
    return HTMLResponse(body, status_code=status, headers=framed_page.headers(ancestors))


def _problem_page(p: EditorProblem, embedded: dict[str, Any] | None) -> HTMLResponse:
    data = {"state": str(p.problem), "message": p.message, "embedded": embedded, "theme": {}}
    return _render(data, status=STATUS[p.problem], ancestors="*" if embedded else "'self'")


def _embed_context(params: EmbedParams, verify: bool, domains: list[str] | None) -> dict[str, Any]:
    return {"parentOrigin": origin_of(params.parent_url), "verifyDomain": verify, "domains": domains or []}


def _signed_in_account_id(request: Request, session: Session) -> int | None:
    rt = runtime(request)
    token = parse_session_cookie(rt.keys, request.cookies.get(SESSION_COOKIE))
    if token is None:
        return None
    row = accounts.session_by_lookup(session, token.lookup, utcnow())
    return row.account.id if row is not None else None


def _who_opens(
    request: Request,
    session: Session,
    params: EmbedParams,
    *,
    embedded: bool,
    app: ApiApp | None,
    test_mode: bool,
    owner: int,
) -> tuple[dict[str, Any] | None, str] | Response:
    """Who may see an editor page: embedded, a page on the API app's domains (the context for the page and
    the CSP ``frame-ancestors``, or EditorProblem); else the owner signed in to the dashboard (``'self'``), or
    a redirect to sign in."""
    if embedded:
        parent_host = urlsplit(params.parent_url).hostname if params.parent_url else None
        domains = access.check_embedding(app, test_mode, params.client_id, parent_host, params.skip_domain_verification)
        return _embed_context(params, domains is not None, domains), frame_ancestors(domains)
    if _signed_in_account_id(request, session) != owner:
        login = f"/login?{urlencode({'next': str(request.url.path) + '?' + request.url.query})}"
        return RedirectResponse(login, status_code=303)
    return None, "'self'"


def _ready(state: str, error_message: str | None) -> None:
    if state == "error":
        raise EditorProblem(Problem.FAILED, error_message or "The documents could not be processed.")
    if state == "processing":
        raise EditorProblem(Problem.NOT_READY, "The documents are still being processed; reload in a moment.")


def _draft_image_url(d: UnclaimedDraft, token: str) -> Callable[[int, int], str]:
    return lambda doc, page: f"/editor/claim/{d.draft_id}/page/{doc}/{page}?{urlencode({'token': token})}"


@page_router.get("/editor/claim", include_in_schema=False)
async def claim_page(request: Request) -> Response:
    query = dict(request.query_params)
    draft_id, token = query.get("draft_id", ""), query.get("token", "")
    params = EmbedParams.from_query(query)
    rt = runtime(request)

    def run(session: Session) -> Response:
        scope = Scope.of(session, rt)
        d = repository.draft(session, draft_id)
        embedded: dict[str, Any] | None = None
        try:
            if d is None:
                raise EditorProblem(Problem.INVALID)
            access.check(scope, token, draft=d)
            opened = _who_opens(
                request,
                session,
                params,
                embedded=d.is_embedded,
                app=d.api_app,
                test_mode=d.test_mode,
                owner=d.account_id,
            )
            if isinstance(opened, Response):
                return opened
            embedded, ancestors = opened
            _ready(d.state, d.error_message)
        except EditorProblem as p:
            if p.problem in (Problem.OTHER_APP, Problem.DOMAIN, Problem.INVALID, Problem.USED, Problem.EXPIRED):
                embedded = {"parentOrigin": origin_of(params.parent_url), "verifyDomain": False, "domains": []}
            return _problem_page(p, embedded)
        data = service.draft_page(d, _draft_image_url(d, token))
        data.update(
            state="ready",
            submitUrl=f"/editor/claim/{d.draft_id}/send",
            token=token,
            embedded=embedded,
            theme=theme(d.api_app.white_labeling_options if d.api_app else None, params.white_labeling),
            redirectUrl=_after_send(d, params),
        )
        return _render(data, status=200, ancestors=ancestors)

    return await in_uow(request, run, write=False)


def _after_send(d: UnclaimedDraft, params: EmbedParams) -> str | None:
    """Where the page goes once the draft is sent: ``requesting_redirect_url``; else, embedded, the library's
    ``redirectTo``, and in the dashboard the request's page."""
    asked = safe_link((d.params or {}).get("requesting_redirect_url"))
    if asked:
        return asked
    if d.is_embedded:
        return safe_link(params.redirect_url)
    return f"/dashboard/requests/{d.draft_id}"


@page_router.get("/editor/claim/{draft_id}/page/{document_index}/{page}", include_in_schema=False)
async def claim_page_image(request: Request, draft_id: str, document_index: int, page: int) -> Response:
    token = request.query_params.get("token", "")
    rt = runtime(request)

    def run(session: Session) -> str | None:
        d = repository.draft(session, draft_id)
        if d is None:
            return None
        access.check(Scope.of(session, rt), token, draft=d)
        doc = next((x for x in d.documents if int(x["index"]) == document_index), None)
        keys = (doc or {}).get("page_image_keys") or []
        return str(keys[page - 1]) if 1 <= page <= len(keys) else None

    return await _image(request, run)


async def _image(request: Request, run: Callable[[Session], str | None]) -> Response:
    rt = runtime(request)
    try:
        key = await in_uow(request, run, write=False)
    except EditorProblem as p:
        return Response(status_code=STATUS[p.problem], headers={"Cache-Control": "no-store"})
    if key is None:
        return Response(status_code=404)
    data = await to_thread.run_sync(rt.storage.get, key)
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})


def _problem_json(p: EditorProblem) -> JSONResponse:
    first = next(iter(p.errors), None)
    error: dict[str, Any] = {
        "error_msg": p.message,
        "error_name": "bad_request" if p.problem == Problem.FORM else str(p.problem),
    }
    if first is not None:
        error["error_path"] = first if first.startswith(("signers", "form")) else f"fields[{first}]"
    return JSONResponse(
        {"error": error, "fields": p.errors}, status_code=STATUS[p.problem], headers={"Cache-Control": "no-store"}
    )


async def _read_submit(request: Request) -> EditorSubmit:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_SUBMIT_BYTES):
        raise EditorProblem(Problem.FORM, "The layout is larger than the editor ever sends.")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_SUBMIT_BYTES:
            raise EditorProblem(Problem.FORM, "The layout is larger than the editor ever sends.")
    try:
        body = EditorSubmit.model_validate_json(bytes(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first.get("loc", ())
        path = f"{loc[0]}[{loc[1]}]" if len(loc) >= 2 else "form"
        where = str(loc[1]) if len(loc) >= 2 and loc[0] == "fields" else path
        raise EditorProblem(Problem.FORM, f"{path}: {first.get('msg')}", {where: str(first.get("msg"))}) from None
    found = bad_text(body.model_dump())
    if found is not None:
        path, why = found
        index = path.split("[", 1)[1].split("]", 1)[0] if path.startswith("fields[") else "form"
        raise EditorProblem(Problem.FORM, f"{path} {why}.", {index: f"{path} {why}."})
    return body


@page_router.post("/editor/claim/{draft_id}/send", include_in_schema=False)
async def claim_send(request: Request, draft_id: str) -> Response:
    token = request.headers.get(TOKEN_HEADER, "")
    rt = runtime(request)
    ip, ua = client_ip(request), request.headers.get("user-agent")
    try:
        # The token first (a stranger's body is never read), then the body, capped.
        await in_uow(request, lambda s: _check_draft_token(Scope.of(s, rt), draft_id, token), write=False)
        body = await _read_submit(request)

        def run(session: Session) -> dict[str, Any]:
            scope = Scope.of(session, rt)
            d = repository.draft(session, draft_id, lock=True)
            row = _check_draft_token(scope, draft_id, token)
            assert d is not None
            if not d.is_embedded and _signed_in_account_id(request, session) != d.account_id:
                raise EditorProblem(Problem.SIGN_IN, "Sign in to the dashboard to send this document.")
            sr = service.send_draft(scope, d, body, ip_address=ip, user_agent=ua)
            access.consume(row)
            return {"signatureRequestId": sr.signature_request_id}

        return JSONResponse(await in_uow(request, run), headers={"Cache-Control": "no-store"})
    except EditorProblem as p:
        return _problem_json(p)


def _check_draft_token(scope: Scope, draft_id: str, token: str) -> Any:
    d = repository.draft(scope.session, draft_id)
    if d is None:
        raise EditorProblem(Problem.INVALID)
    return access.check(scope, token, draft=d)


# -- the template editor -------------------------------------------------------------------------------------


@page_router.get("/editor/template", include_in_schema=False)
async def template_page(request: Request) -> Response:
    query = dict(request.query_params)
    template_id, token = query.get("template_id", ""), query.get("token", "")
    params = EmbedParams.from_query(query)
    rt = runtime(request)

    def run(session: Session) -> Response:
        scope = Scope.of(session, rt)
        t = templates.by_public_id(session, template_id)
        embedded: dict[str, Any] | None = None
        try:
            if t is None:
                raise EditorProblem(Problem.INVALID)
            row = access.check(scope, token, template=t)
            opened = _who_opens(  # opened by hellosign-embedded (a client_id); else in the dashboard, by the owner
                request,
                session,
                params,
                embedded=bool(params.client_id),
                app=t.api_app,
                test_mode=t.test_mode or bool(row.options.get("test_mode")),
                owner=t.account_id,
            )
            if isinstance(opened, Response):
                return opened
            embedded, ancestors = opened
            _ready(t.state, t.error_message)
        except EditorProblem as p:
            if embedded is None and params.parent_url:
                embedded = {"parentOrigin": origin_of(params.parent_url), "verifyDomain": False, "domains": []}
            return _problem_page(p, embedded)
        quoted = quote(t.template_id)
        data = service.template_page(
            t,
            row.options,
            lambda doc, page: f"/editor/template/{quoted}/page/{doc}/{page}?{urlencode({'token': token})}",
        )
        data.update(
            state="ready",
            submitUrl=f"/editor/template/{quoted}/save",
            token=token,
            embedded=embedded,
            theme=theme(t.api_app.white_labeling_options if t.api_app else None, params.white_labeling),
            redirectUrl=safe_link(params.redirect_url),
        )
        if embedded is None:
            data["redirectUrl"] = f"/dashboard/templates/{t.template_id}"
        return _render(data, status=200, ancestors=ancestors)

    return await in_uow(request, run, write=False)


@page_router.get("/editor/template/{template_id}/page/{document_index}/{page}", include_in_schema=False)
async def template_page_image(request: Request, template_id: str, document_index: int, page: int) -> Response:
    token = request.query_params.get("token", "")
    rt = runtime(request)

    def run(session: Session) -> str | None:
        t = templates.by_public_id(session, template_id)
        if t is None:
            return None
        access.check(Scope.of(session, rt), token, template=t)
        doc = next((x for x in t.documents if x.index == document_index), None)
        keys = doc.page_image_keys if doc is not None else []
        return keys[page - 1] if 1 <= page <= len(keys) else None

    return await _image(request, run)


@page_router.post("/editor/template/{template_id}/save", include_in_schema=False)
async def template_save(request: Request, template_id: str) -> Response:
    token = request.headers.get(TOKEN_HEADER, "")
    rt = runtime(request)

    def check(session: Session) -> None:
        t = templates.by_public_id(session, template_id)
        if t is None:
            raise EditorProblem(Problem.INVALID)
        access.check(Scope.of(session, rt), token, template=t)

    try:
        await in_uow(request, check, write=False)
        body = await _read_submit(request)

        def run(session: Session) -> dict[str, Any]:
            scope = Scope.of(session, rt)
            t = templates.by_public_id(session, template_id, lock=True)
            if t is None:
                raise EditorProblem(Problem.INVALID)
            row = access.check(scope, token, template=t)
            if t.api_app is None and not t.is_embedded and _signed_in_account_id(request, session) != t.account_id:
                raise EditorProblem(Problem.SIGN_IN, "Sign in to the dashboard to save this template.")
            service.save_template(scope, t, row.options, body)
            access.consume(row)
            return {"templateId": t.template_id, "template": serialize_template(t, t.account)}

        return JSONResponse(await in_uow(request, run), headers={"Cache-Control": "no-store"})
    except EditorProblem as p:
        return _problem_json(p)


@page_router.get("/editor/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    kind = STATIC_TYPES.get(name)
    if kind is None:
        return Response(status_code=404)
    data = (STATIC_DIR / name).read_bytes()
    return Response(data, media_type=kind, headers={"Cache-Control": "public, max-age=31536000, immutable"})
