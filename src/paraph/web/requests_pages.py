"""Signature requests in the dashboard: the list (the API's search syntax, state and test-mode filters) and a
request's page (signers, status timeline, document pages, the PDF, the callbacks sent about it)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from paraph.callbacks import repository as callback_repository
from paraph.errors import ApiError
from paraph.signature_request import browse
from paraph.signature_request.files import FileBody, attachment_file, current_pdf
from paraph.signature_request.schemas import serialize_signature_request
from paraph.signature_request.state import LABELS, LISTED, state_of
from paraph.storage import Storage
from paraph.web.core import PageContext, PageNotFound, PageRoute, page_call
from paraph.web.dashboard import event_rows

router = APIRouter(route_class=PageRoute)

PAGE_SIZE = 25
EVENTS_SHOWN = 50
_RID = re.compile(r"^[0-9a-f]{40}$")
_TEST_MODES = {"test": True, "live": False}


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 0 < len(value) < 6 and int(value) > 0 else 1


@router.get("/dashboard/requests")
async def request_list(request: Request) -> Response:
    q = request.query_params
    query = (q.get("q") or "").strip()[:200] or None
    state = q.get("state") if q.get("state") in LISTED else None
    mode = q.get("mode") if q.get("mode") in _TEST_MODES else None
    page = _page_number(q.get("page"))
    filters = {k: v for k, v in (("q", query), ("state", state), ("mode", mode)) if v}

    def run(ctx: PageContext) -> Response:
        error = None
        try:
            rows, total = browse.list_page(
                ctx.session,
                ctx.account,
                browse.Filters(query=query, state=state, test_mode=_TEST_MODES.get(mode or "")),
                page,
                PAGE_SIZE,
            )
        except ApiError as exc:  # a malformed search: say why, list nothing
            error, rows, total = exc.error_msg, [], 0
        pages = max(1, -(-total // PAGE_SIZE))
        return ctx.render(
            "requests.html",
            {
                "requests": [_row(sr) for sr in rows],
                "total": total,
                "page": page,
                "pages": pages,
                "newer": urlencode({**filters, "page": page - 1}) if page > 1 else None,
                "older": urlencode({**filters, "page": page + 1}) if page < pages else None,
                "filters": filters,
                "filtered": bool(filters),
                "states": [(s, LABELS[s]) for s in LISTED],
                "error": error,
            },
            nav="requests",
            status=400 if error else 200,
        )

    return await page_call(request, run)


def _row(sr: Any) -> dict[str, Any]:
    signers = list(sr.signers)
    return {
        "id": sr.signature_request_id,
        "title": sr.title or "(untitled)",
        "state": state_of(sr),
        "test_mode": sr.test_mode,
        "is_embedded": sr.is_embedded,
        "signers": signers,
        "signed": sum(1 for s in signers if s.signed_at is not None),
        "created_at": sr.created_at,
    }


def _owned(ctx: PageContext, rid: str) -> Any:
    try:
        return browse.owned(ctx.session, ctx.account, rid)
    except ApiError as exc:
        raise PageNotFound() from exc


@router.get("/dashboard/requests/{rid}")
async def request_detail(request: Request, rid: str) -> Response:
    if not _RID.match(rid):
        raise PageNotFound()

    def run(ctx: PageContext) -> Response:
        sr = _owned(ctx, rid)
        data = serialize_signature_request(sr, ctx.runtime.settings.base_url)
        events = callback_repository.list_events(
            ctx.session, ctx.account, signature_request_id=rid, limit=EVENTS_SHOWN + 1
        )
        targets = callback_repository.target_names(ctx.session, ctx.account)
        signers = {s.signature_id: s for s in sr.signers}
        return ctx.render(
            "request.html",
            {
                "sr": sr,
                "data": data,
                "state": state_of(sr),
                "state_label": LABELS[state_of(sr)],
                "signers": [(s, data_s) for s, data_s in zip(sr.signers, data["signatures"], strict=True)],
                "signer_names": {sid: s.name or s.email_address for sid, s in signers.items()},
                "attachment_signers": {s.signer_index: s.name or s.email_address for s in sr.signers},
                "timeline": browse.status_timeline(ctx.session, sr),
                "documents": sr.documents,
                "has_pdf": sr.files_state == "ready" and bool(sr.final_pdf_key or sr.current_pdf_key),
                "is_final": bool(sr.final_pdf_key),
                "events": event_rows(events[:EVENTS_SHOWN], targets),
                "more_events": len(events) > EVENTS_SHOWN,
                "events_link": urlencode({"signature_request_id": rid}),
            },
            nav="requests",
        )

    return await page_call(request, run)


@router.get("/dashboard/signature_requests/{rid}")
async def legacy_request_detail(rid: str) -> Response:
    """Where ``details_url`` pointed before: links already delivered in callbacks and mails keep working."""
    if not _RID.match(rid):
        raise PageNotFound()
    return RedirectResponse(f"/dashboard/requests/{rid}", status_code=301)


@router.get("/dashboard/requests/{rid}/pages/{document_index}/{page}")
async def request_page_image(request: Request, rid: str, document_index: int, page: int) -> Response:
    """A rendered page of one of the request's documents (the image the signing page shows)."""
    if not _RID.match(rid):
        raise PageNotFound()

    def run(ctx: PageContext) -> tuple[Storage, str | None]:
        return ctx.runtime.storage, browse.page_image_key(_owned(ctx, rid), document_index, page)

    storage, key = await page_call(request, run)
    if key is None:
        raise PageNotFound()
    data = await to_thread.run_sync(storage.get, key)
    return Response(data, media_type="image/png", headers={"cache-control": "private, max-age=600"})


@router.get("/dashboard/requests/{rid}/pdf")
async def request_pdf(request: Request, rid: str) -> Response:
    """The final, sealed PDF once the request is complete; the processed documents before."""
    if not _RID.match(rid):
        raise PageNotFound()

    def run(ctx: PageContext) -> FileBody:
        return current_pdf(ctx.runtime.storage, _owned(ctx, rid))

    body = await page_call(request, run)
    return Response(
        body.data,
        media_type=body.media_type,
        headers={"content-disposition": f'attachment; filename="{body.filename}"'},
    )


@router.get("/dashboard/requests/{rid}/attachments/{index}")
async def request_attachment(request: Request, rid: str, index: int) -> Response:
    """A file a signer attached, downloaded (never shown inline: it is the signer's file, not Paraph's)."""
    if not _RID.match(rid):
        raise PageNotFound()

    def run(ctx: PageContext) -> FileBody | None:
        return attachment_file(ctx.runtime.storage, _owned(ctx, rid), index)

    body = await page_call(request, run)
    if body is None:
        raise PageNotFound()
    return Response(
        body.data,
        media_type=body.media_type,
        headers={
            "content-disposition": f'attachment; filename="{body.filename}"',
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
        },
    )
