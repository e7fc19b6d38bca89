"""Signing routes: the page (embedded and mailed), its images and actions, and final-copy links.

The page runs in a cross-site iFrame: nothing relies on cookies. The token travels in the URL of the page
and its images, and in the ``X-Paraph-Token`` header of every action (:func:`read_action`: the token is
checked before a byte of the body is read, and the body is read with a cap). Responses never go to caches
shared between users, and never leak the URL through ``Referer``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlencode, urlsplit

import jinja2
from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from paraph import i18n
from paraph.account import repository as accounts
from paraph.db import utcnow
from paraph.i18n import N_
from paraph.models import SignatureRequest
from paraph.request_scope import client_ip, in_uow, runtime
from paraph.scope import Scope
from paraph.signature_request.browse import page_image_key
from paraph.signature_request.schemas import REQUEST_SIGN_PATH
from paraph.signing import service
from paraph.signing.access import (
    PIN_LOCKED_MESSAGE,
    PIN_TRIES,
    Reason,
    SigningProblem,
    authorize,
    final_copy_for_signer,
    final_copy_link,
    final_copy_token_ok,
    open_embedded,
    open_mailed,
    pin_problem,
    signer_final_copy_link,
    signer_for_account,
    signing_link,
)
from paraph.signing.images import ImageRefused, prepare_all
from paraph.signing.page import (
    EmbedParams,
    embed_context,
    frame_ancestors,
    page_data,
    pin_page_data,
    skips_verification,
)
from paraph.signing.schemas import DeclineBody, PinBody, ReassignBody, SubmitBody
from paraph.web.sessions import SESSION_COOKIE, parse_session_cookie
from paraph.wire import framed_page

#: The HTTP status of each reason a signer cannot go on (the service says why, the edge says how).
STATUS: dict[Reason, int] = {
    Reason.LINK_INVALID: 404,
    Reason.LINK_USED: 410,
    Reason.LINK_EXPIRED: 410,
    Reason.OTHER_APP: 403,
    Reason.DOMAIN: 403,
    Reason.REQUEST_REMOVED: 404,
    Reason.REQUEST_CANCELED: 410,
    Reason.REQUEST_PROCESSING: 409,
    Reason.REQUEST_FAILED: 400,
    Reason.REQUEST_EXPIRED: 400,
    Reason.REQUEST_COMPLETE: 409,
    Reason.REQUEST_DECLINED: 409,
    Reason.REQUEST_CLOSED: 409,
    Reason.SIGNER_DONE: 409,
    Reason.NOT_YOUR_TURN: 409,
    Reason.NOT_ALLOWED: 403,
    Reason.FORM: 422,
    Reason.TOO_LARGE: 413,
    Reason.PIN_REQUIRED: 401,
    Reason.PIN_LOCKED: 403,
}

Audience = Literal["json", "status"]


@dataclass(frozen=True, slots=True)
class ProblemPage:
    """How a page route shows a problem: the page's data, whose frames may embed it, in which language (a
    supported ``user_culture``, :func:`paraph.i18n.choose`)."""

    data: dict[str, Any]
    ancestors: str
    lang: str


def render_problem(p: SigningProblem, audience: Audience, page: ProblemPage | None = None) -> Response:
    """The one renderer of a :class:`SigningProblem`: an HTML page, the JSON the page's script reads, or only
    a status (for images)."""
    status = STATUS[p.reason]
    if page is not None:
        return _render(page.data, status=status, ancestors=page.ancestors, lang=page.lang)
    if audience == "status":
        return Response(status_code=status, headers={"Cache-Control": "no-store"})
    error: dict[str, Any] = {"message": p.message, "state": p.state, "fields": p.errors}
    if isinstance(p.message, i18n.Message):  # for the page's script to show in the signer's language
        error |= {"message_id": p.message.msgid, "message_vars": p.message.values}
    return JSONResponse(
        {"error": error},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def answers_problems_with(audience: Audience) -> Callable[[Any], Any]:
    """Mark a route whose problems are not JSON (the default of :class:`SigningRoute`)."""

    def mark(fn: Any) -> Any:
        fn.signing_problems = audience
        return fn

    return mark


class SigningRoute(APIRoute):
    """A signing route: a :class:`SigningProblem` that leaves its handler is rendered here, as the route's
    audience reads it. A route that takes a body (an action of the page) must take it through
    :func:`read_action`, which checks the token first: declaring one without it fails at import."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        reads_first = any(d.call in (read_action, read_pin_action) for d in self.dependant.dependencies)
        if (self.methods or set()) - {"GET", "HEAD"} and not reads_first:
            raise TypeError(f"signing action {path} must read its body through read_action (token first)")

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        audience: Audience = getattr(self.endpoint, "signing_problems", "json")

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except SigningProblem as p:
                return render_problem(p, audience)

        return handler


router = APIRouter(route_class=SigningRoute)

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
STATIC_TYPES = {"sign.js": "text/javascript; charset=utf-8", "sign.css": "text/css; charset=utf-8"}
MAX_BODY_BYTES = 12 * 1024 * 1024
#: The header carrying the token of every action the page posts (not the body: it is checked first).
ACTION_TOKEN_HEADER = "X-Paraph-Token"  # noqa: S105 - a header name, not a secret
#: The header of a signer's PIN pass (``paraph.signing.access.pin_pass``), on every action.
PIN_HEADER = "X-Paraph-Pin"
#: ``hellosign:error`` codes the page posts for each problem state.
ERROR_CODES = {
    "invalid": "sign_url_invalid",
    "used": "sign_url_invalid",
    "expired": "sign_url_invalid",
    "canceled": "signature_request_canceled",
    "domain": "domain_not_allowed",
    "pin_locked": "pin_locked",
}

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)


@cache
def _asset_version(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def _headers(ancestors: str) -> dict[str, str]:
    return framed_page.headers(ancestors, img_src="'self' data: blob:")


def _render(data: dict[str, Any], *, status: int, ancestors: str, lang: str) -> HTMLResponse:
    """The page in the language ``lang`` (a supported culture): its template's strings, the server's message
    of a notice, the strings its script shows (``#paraph-i18n``), the date the request was sent."""
    sent = data.pop("sentAt", None)
    body = _env.get_template("sign.html").render(
        data=data,
        data_json=framed_page.json_for_html(data),
        i18n_json=framed_page.json_for_html(i18n.page_strings(lang)),
        _=i18n.template_gettext(lang),
        # A notice's message is the server's (translated); a document's is the sender's own words (as written).
        message=i18n.translate(lang, data.get("message") or "") if data.get("state") != "ready" else "",
        sent_on=i18n.format_date(sent, lang) if sent is not None else None,
        attachment_mb=i18n.format_number(10, lang),
        signature_mb=i18n.format_number(5, lang),
        lang=i18n.html_lang(lang),
        css=f"/signing/static/sign.css?v={_asset_version('sign.css')}",
        js=f"/signing/static/sign.js?v={_asset_version('sign.js')}",
    )
    return HTMLResponse(body, status_code=status, headers=_headers(ancestors))


def _problem_data(p: SigningProblem, *, mode: str, signature_id: str) -> dict[str, Any]:
    return {
        "state": p.state,
        "mode": mode,
        "message": p.message,
        "signatureId": signature_id,
        "title": p.sr.title if p.sr is not None else "",
        "code": ERROR_CODES.get(p.state, p.state),
        "theme": {},
    }


# -- the page ----------------------------------------------------------------------------------------------


async def _open_page(
    request: Request,
    open_page: Callable[[Session], Response],
    describe: Callable[[SigningProblem], ProblemPage],
) -> Response:
    """Open the page in one transaction that commits even when the signer may not go on (an expired sign URL
    emits ``sign_url_invalid``); the problem page is described while the request's rows are at hand."""

    def run(session: Session) -> Response:
        try:
            return open_page(session)
        except SigningProblem as p:
            return render_problem(p, "json", describe(p))

    return await in_uow(request, run)


@router.get("/editor/embeddedSign", include_in_schema=False)
async def embedded_sign(request: Request) -> Response:
    query = dict(request.query_params)
    signature_id, token = query.get("signature_id", ""), query.get("token", "")
    pin = query.get("pin")
    params = EmbedParams.from_query(query)
    accept = request.headers.get("accept-language")
    parent_host = urlsplit(params.parent_url).hostname if params.parent_url else None
    ip, ua = client_ip(request), request.headers.get("user-agent")
    rt = runtime(request)

    def run(session: Session) -> Response:
        access = open_embedded(
            Scope.of(session, rt),
            signature_id,
            token,
            params.client_id,
            parent_host=parent_host,
            skip_verification=params.skip_domain_verification,
            pin=pin,
            ip=ip,
            ua=ua,
        )
        if access.pin_needed:
            data = pin_page_data(access, mode="embedded", token=token, params=params)
        else:
            data = page_data(session, access, mode="embedded", token=token, params=params, pin=pin)
        sr = access.sr
        domains = None if skips_verification(sr, params) else list(sr.api_app.domains if sr.api_app else [])
        return _render(data, status=200, ancestors=frame_ancestors(domains), lang=_language(params, sr, accept))

    def describe(p: SigningProblem) -> ProblemPage:
        data = _problem_data(p, mode="embedded", signature_id=signature_id)
        data["embedded"] = embed_context(p.sr, params)
        skip = p.sr is None or p.state == "domain" or skips_verification(p.sr, params)
        domains = None if skip or p.sr is None or p.sr.api_app is None else list(p.sr.api_app.domains or [])
        return ProblemPage(data, frame_ancestors(domains), _language(params, p.sr, accept))

    return await _open_page(request, run, describe)


@router.get("/sign/final/{signature_request_id}", include_in_schema=False)
async def final_copy(request: Request, signature_request_id: str) -> Response:
    """A final copy linked from a mail: the sealed PDF, for anyone holding the link."""
    token = request.query_params.get("token", "")
    rt = runtime(request)
    lang = i18n.choose(None, None, request.headers.get("accept-language"))
    if not final_copy_token_ok(rt.keys, signature_request_id, token):
        return _message_page(404, N_("This link is not valid."), lang)

    def run(session: Any) -> tuple[str, str | None, bool]:
        from paraph.signature_request import repository as requests

        sr = requests.by_public_id(session, signature_request_id)
        if sr is None or sr.removed_at is not None:
            return "", None, False
        return sr.title, sr.final_pdf_key, True

    title, key, found = await in_uow(request, run, write=False)
    if not found:
        return _message_page(404, N_("This document is no longer available."), lang)
    if key is None:
        return _message_page(409, N_("The final document is being prepared; try again in a minute."), lang)
    return await _final_pdf(request, key, title or signature_request_id)


async def _final_pdf(request: Request, key: str, title: str) -> Response:
    data = await to_thread.run_sync(runtime(request).storage.get, key)
    name = "".join(ch if ch.isalnum() or ch in " ._-" else "_" for ch in title).strip() or "document"
    headers = {
        "Content-Disposition": f'inline; filename="{name[:100]}.pdf"',
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(data, media_type="application/pdf", headers=headers)


@router.get("/sign/request/{signature_request_id}", include_in_schema=False)
async def request_signing(request: Request, signature_request_id: str) -> Response:
    """A mailed request's ``signing_url``: it carries no token, so it shows nothing of the document. A signer
    signed in (dashboard) with an account of their email goes on to their own signing link; anyone else is
    asked for the link mailed to them, or to sign in."""
    rt = runtime(request)
    token = parse_session_cookie(rt.keys, request.cookies.get(SESSION_COOKIE))

    def run(session: Any) -> tuple[str | None, bool]:
        row = None if token is None else accounts.session_by_lookup(session, token.lookup, utcnow())
        if row is None:
            return None, False
        signer = signer_for_account(session, signature_request_id, row.account.email_address)
        return (None if signer is None else signing_link(rt.settings, rt.keys, signer.signature_id)), True

    link, signed_in = await in_uow(request, run, write=False)
    if link is not None:
        return RedirectResponse(link, status_code=303, headers=_headers("'none'"))
    lang = i18n.choose(None, None, request.headers.get("accept-language"))
    opening = i18n.gettext(lang, N_("To sign, open the link in the email you received about this document."))
    if signed_in:
        opening += " " + i18n.gettext(lang, N_("The account you are signed in with is not one of its signers."))
    data = {
        "state": "signin",
        "mode": "mail",
        "message": opening,
        "signatureId": "",
        "title": "",
        "theme": {},
    }
    if not signed_in:
        data["signInUrl"] = "/login?" + urlencode({"next": f"{REQUEST_SIGN_PATH}/{signature_request_id}"})
    return _render(data, status=200, ancestors="'none'", lang=lang)


@router.get("/sign/{signature_id}", include_in_schema=False)
async def mailed_sign(request: Request, signature_id: str) -> Response:
    token = request.query_params.get("token", "")
    pin = request.query_params.get("pin")
    ip, ua = client_ip(request), request.headers.get("user-agent")
    rt = runtime(request)
    params = EmbedParams(user_culture=request.query_params.get("user_culture") or None)
    accept = request.headers.get("accept-language")

    def run(session: Session) -> Response:
        access = open_mailed(Scope.of(session, rt), signature_id, token, pin=pin, ip=ip, ua=ua)
        if access.pin_needed:
            data = pin_page_data(access, mode="mail", token=token, params=None)
        else:
            data = page_data(session, access, mode="mail", token=token, params=None, pin=pin)
        return _render(data, status=200, ancestors="'none'", lang=_language(params, access.sr, accept))

    def describe(p: SigningProblem) -> ProblemPage:
        data = _problem_data(p, mode="mail", signature_id=signature_id)
        if p.sr is not None and p.sr.is_complete and p.sr.final_pdf_key and p.state in ("signed", "complete"):
            if p.signer is None or p.signer.pin_hash is None:
                data["finalCopyUrl"] = final_copy_link(rt.settings, rt.keys, p.sr.signature_request_id)
            elif pin and pin_problem(rt.keys, p.signer, p.sr, token, pin) is None:
                # A signer with an access code downloads through their own link, which asks for the pass too.
                data["finalCopyUrl"] = signer_final_copy_link(signature_id, token, pin)
        return ProblemPage(data, "'none'", _language(params, p.sr, accept))

    return await _open_page(request, run, describe)


@router.get("/sign/{signature_id}/final", include_in_schema=False)
@answers_problems_with("status")
async def signer_final_copy(request: Request, signature_id: str) -> Response:
    """The final copy a signing page offers a signer with an access code: their link's token and PIN pass."""
    token, pin = request.query_params.get("token", ""), request.query_params.get("pin")
    rt = runtime(request)

    key, title = await in_uow(
        request, lambda s: final_copy_for_signer(rt.keys, s, signature_id, token, pin), write=False
    )
    return await _final_pdf(request, key, title)


def _language(params: EmbedParams, sr: SignatureRequest | None, accept_language: str | None) -> str:
    """The page's language: ``user_culture``, else the browser's, else the sender account's locale."""
    return i18n.choose(params.user_culture, sr.account.locale if sr is not None else None, accept_language)


def _message_page(status: int, message: str, lang: str) -> HTMLResponse:
    data = {"state": "message", "mode": "mail", "message": message, "signatureId": "", "title": "", "theme": {}}
    return _render(data, status=status, ancestors="'none'", lang=lang)


# -- what the page loads and posts ---------------------------------------------------------------------------


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "state": "form", "fields": {}}}, status_code=400)


@router.get("/sign/{signature_id}/page/{document_index}/{page}", include_in_schema=False)
@answers_problems_with("status")
async def page_image(request: Request, signature_id: str, document_index: int, page: int) -> Response:
    token, pin = request.query_params.get("token", ""), request.query_params.get("pin")
    rt = runtime(request)

    def run(session: Session) -> str | None:
        access = authorize(Scope.of(session, rt), signature_id, token, pin=pin)
        return page_image_key(access.sr, document_index, page)

    key = await in_uow(request, run, write=False)
    if key is None:
        return Response(status_code=404)
    data = await to_thread.run_sync(rt.storage.get, key)
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})


@router.get("/sign/{signature_id}/typed", include_in_schema=False)
async def typed_preview(request: Request, signature_id: str) -> Response:
    """The typed signature as the final document will show it (rendered by the same code)."""
    from paraph.pdf.signature_image import render_typed_signature

    token, pin = request.query_params.get("token", ""), request.query_params.get("pin")
    text = request.query_params.get("text", "")[:200]
    rt = runtime(request)
    await in_uow(request, lambda s: authorize(Scope.of(s, rt), signature_id, token, pin=pin), write=False)
    try:
        png = await to_thread.run_sync(render_typed_signature, text)
    except ValueError as exc:
        return _bad_request(str(exc))
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """What an action of the page posted, read only once its token was found good."""

    token: str
    raw: bytes
    pin: str | None = None


def _too_large() -> SigningProblem:
    return SigningProblem(Reason.TOO_LARGE, N_("What was sent is too large."), "form")


async def read_action(request: Request, signature_id: str) -> ActionRequest:
    """The one door of every action the page posts: first the token (``X-Paraph-Token``) and, for a signer
    with an access code, the PIN pass (``X-Paraph-Pin``), checked as every door checks them
    (:func:`paraph.signing.access.authorize`: the signer's link, the sign URL's expiry and single use, the
    request's state, the PIN), then the body (:func:`_read_body`). Nothing is parsed or decoded for a caller
    without a good token and pass. The action itself checks them again in its own transaction, with the
    request locked."""
    return await _read_body(request, signature_id, pin_step=False)


async def read_pin_action(request: Request, signature_id: str) -> ActionRequest:
    """The door of the PIN step: as :func:`read_action`, without a PIN pass (entering the PIN earns it)."""
    return await _read_body(request, signature_id, pin_step=True)


async def _read_body(request: Request, signature_id: str, *, pin_step: bool) -> ActionRequest:
    """The token (and pass) checked first; then the body, refused (413) once it is larger than
    :data:`MAX_BODY_BYTES` -- from its declared length before reading it, else as its bytes arrive."""
    token = request.headers.get(ACTION_TOKEN_HEADER, "")
    pin = None if pin_step else request.headers.get(PIN_HEADER)
    rt = runtime(request)
    await in_uow(
        request,
        lambda s: authorize(Scope.of(s, rt), signature_id, token, pin=pin, pin_step=pin_step),
        write=False,
    )
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return ActionRequest(token, b"".join(chunks), pin)


Action = Annotated[ActionRequest, Depends(read_action)]
PinAction = Annotated[ActionRequest, Depends(read_pin_action)]


@router.post("/sign/{signature_id}/pin", include_in_schema=False)
async def enter_pin(request: Request, signature_id: str, action: PinAction) -> Response:
    """The PIN step: a right access code answers the PIN pass the page then carries; a wrong one is counted
    (and recorded) in a transaction that commits, and answered 403 with the tries left."""
    try:
        body = PinBody.model_validate_json(action.raw)
    except ValidationError:
        return _bad_request(N_("Enter the access code."))
    ip, ua = client_ip(request), request.headers.get("user-agent")
    rt = runtime(request)
    outcome = await in_uow(
        request, lambda s: service.check_pin(Scope.of(s, rt), signature_id, action.token, body.pin, ip=ip, ua=ua)
    )
    headers = {"Cache-Control": "no-store"}
    if outcome.pin_pass is not None or outcome.tries_left == PIN_TRIES:
        return JSONResponse({"ok": True, "pin": outcome.pin_pass or ""}, headers=headers)
    if outcome.tries_left == 0:
        error = {"message": PIN_LOCKED_MESSAGE, "state": "pin_locked", "fields": {"pin": PIN_LOCKED_MESSAGE}}
        return JSONResponse({"error": error, "tries_left": 0}, status_code=403, headers=headers)
    left = outcome.tries_left
    # The page shows "Tries left" in the signer's language from tries_left; the message is for anyone else.
    message = f"This access code is not right. {left} {'try' if left == 1 else 'tries'} left."
    error = {"message": message, "state": "form", "fields": {"pin": message}}
    return JSONResponse({"error": error, "tries_left": left}, status_code=403, headers=headers)


@router.post("/sign/{signature_id}/submit", include_in_schema=False)
async def submit(request: Request, signature_id: str, action: Action) -> Response:
    try:
        body = SubmitBody.model_validate_json(action.raw)
    except ValidationError:
        return _bad_request(N_("The submission could not be read."))
    try:
        images = await to_thread.run_sync(prepare_all, body)
    except ImageRefused as exc:
        raise SigningProblem(Reason.FORM, exc.message, "form", errors={exc.kind: exc.message}) from None
    ip, ua = client_ip(request), request.headers.get("user-agent")
    rt = runtime(request)
    sr = await in_uow(
        request,
        lambda s: service.submit(
            Scope.of(s, rt), signature_id, action.token, body, images, pin=action.pin, ip=ip, ua=ua
        ),
    )
    return JSONResponse({"ok": True, "complete": sr.is_complete}, headers={"Cache-Control": "no-store"})


@router.post("/sign/{signature_id}/attachment/{index}", include_in_schema=False)
async def attachment(request: Request, signature_id: str, index: int, action: Action) -> Response:
    """A file the signer attaches: the body is the file itself, its name in ``X-Paraph-Filename``
    (percent-encoded); what it is comes from its first bytes."""
    filename = unquote(request.headers.get("x-paraph-filename", ""))[:255]
    rt = runtime(request)
    item = await in_uow(
        request,
        lambda s: service.upload_attachment(
            Scope.of(s, rt), signature_id, action.token, index, action.raw, filename, pin=action.pin
        ),
    )
    return JSONResponse(
        {"ok": True, "filename": item["filename"], "uploaded_at": item["uploaded_at"]},
        headers={"Cache-Control": "no-store"},
    )


@router.post("/sign/{signature_id}/decline", include_in_schema=False)
async def decline(request: Request, signature_id: str, action: Action) -> Response:
    try:
        body = DeclineBody.model_validate_json(action.raw)
    except ValidationError:
        return _bad_request(N_("The request could not be read."))
    ip, ua = client_ip(request), request.headers.get("user-agent")
    rt = runtime(request)
    await in_uow(
        request,
        lambda s: service.decline(
            Scope.of(s, rt), signature_id, action.token, body.reason, pin=action.pin, ip=ip, ua=ua
        ),
    )
    return JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})


@router.post("/sign/{signature_id}/reassign", include_in_schema=False)
async def reassign(request: Request, signature_id: str, action: Action) -> Response:
    try:
        body = ReassignBody.model_validate_json(action.raw)
    except ValidationError:
        return _bad_request(N_("The request could not be read."))
    ip, ua = client_ip(request), request.headers.get("user-agent")
    rt = runtime(request)

    def run(session: Session) -> str:
        signer = service.reassign(
            Scope.of(session, rt),
            signature_id,
            action.token,
            body.name,
            body.email_address,
            body.reason,
            pin=action.pin,
            ip=ip,
            ua=ua,
        )
        return signer.signature_id

    new_id = await in_uow(request, run)
    return JSONResponse({"ok": True, "signature_id": new_id}, headers={"Cache-Control": "no-store"})


@router.get("/signing/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    media_type = STATIC_TYPES.get(name)
    if media_type is None:
        return Response(status_code=404)
    data = await to_thread.run_sync((STATIC_DIR / name).read_bytes)
    return Response(
        data,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
