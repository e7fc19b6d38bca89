"""Templates in the dashboard, read-only (authoring comes with the editor): the list, and a template's page
(roles, merge fields, each page with its fields drawn over it, the requests sent from it)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import APIRouter, Request
from starlette.responses import Response

from paraph.errors import ApiError
from paraph.models import Template
from paraph.models.template import TemplateState
from paraph.signature_request import repository as requests
from paraph.signature_request.state import state_of
from paraph.storage import Storage
from paraph.template import service
from paraph.web.core import PageContext, PageNotFound, PageRoute, page_call

router = APIRouter(route_class=PageRoute)

PAGE_SIZE = 25
REQUESTS_SHOWN = 50
_TID = re.compile(r"^[0-9a-f]{40}$")


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 0 < len(value) < 6 and int(value) > 0 else 1


@router.get("/dashboard/templates")
async def template_list(request: Request) -> Response:
    q = request.query_params
    query = (q.get("q") or "").strip()[:200] or None
    page = _page_number(q.get("page"))
    filters = {"q": query} if query else {}

    def run(ctx: PageContext) -> Response:
        rows, total = service.list_templates(ctx.session, ctx.account, None, query, page, PAGE_SIZE)
        pages = max(1, -(-total // PAGE_SIZE))
        return ctx.render(
            "templates.html",
            {
                "templates": [_row(t, ctx) for t in rows],
                "total": total,
                "page": page,
                "pages": pages,
                "newer": urlencode({**filters, "page": page - 1}) if page > 1 else None,
                "older": urlencode({**filters, "page": page + 1}) if page < pages else None,
                "query": query or "",
            },
            nav="templates",
        )

    return await page_call(request, run)


def _row(t: Template, ctx: PageContext) -> dict[str, Any]:
    return {
        "id": t.template_id,
        "title": t.title or "(untitled)",
        "state": t.state,
        "test_mode": t.test_mode,
        "is_creator": t.account_id == ctx.account.id,
        "roles": [r.name for r in t.signer_roles],
        "documents": len(t.documents),
        "updated_at": t.updated_at,
    }


def _visible(ctx: PageContext, tid: str) -> Template:
    try:
        return service.get(ctx.session, ctx.account, tid)
    except ApiError as exc:
        raise PageNotFound() from exc


def _pages(t: Template) -> list[dict[str, Any]]:
    """Each document's pages, with the fields placed on them (72-DPI points from the top left)."""
    roles = {str(r.position): r.name for r in t.signer_roles}
    out: list[dict[str, Any]] = []
    for doc in t.documents:
        pages = []
        for number, key in enumerate(doc.page_image_keys, start=1):
            width, height = doc.page_sizes[number - 1] if number <= len(doc.page_sizes) else (612.0, 792.0)
            fields = [
                {
                    "api_id": f.api_id,
                    "type": f.type,
                    "name": f.spec.get("name") or f.api_id,
                    "who": roles.get(f.role_index, "Sender"),
                    "merge": f.role_index == "sender",
                    "x": f.spec["x"],
                    "y": f.spec["y"],
                    "width": f.spec["width"],
                    "height": f.spec["height"],
                }
                for f in t.fields
                if f.document_index == doc.index and f.page == number
            ]
            pages.append({"number": number, "width": width, "height": height, "fields": fields, "key": key})
        out.append({"index": doc.index, "filename": doc.filename, "pages": pages})
    return out


@router.get("/dashboard/templates/{tid}")
async def template_detail(request: Request, tid: str) -> Response:
    if not _TID.match(tid):
        raise PageNotFound()

    def run(ctx: PageContext) -> Response:
        t = _visible(ctx, tid)
        sent = requests.sent_from_template(ctx.session, ctx.account, tid, REQUESTS_SHOWN)
        return ctx.render(
            "template.html",
            {
                "t": t,
                "ready": t.state == TemplateState.READY,
                "is_creator": t.account_id == ctx.account.id,
                "documents": _pages(t),
                "sent": [(sr, state_of(sr)) for sr in sent],
            },
            nav="templates",
        )

    return await page_call(request, run)


@router.get("/dashboard/templates/{tid}/pages/{document_index}/{page}")
async def template_page_image(request: Request, tid: str, document_index: int, page: int) -> Response:
    """A rendered page of one of the template's documents."""
    if not _TID.match(tid):
        raise PageNotFound()

    def run(ctx: PageContext) -> tuple[Storage, str | None]:
        t = _visible(ctx, tid)
        doc = next((d for d in t.documents if d.index == document_index), None)
        keys = doc.page_image_keys if doc is not None else []
        return ctx.runtime.storage, keys[page - 1] if 0 < page <= len(keys) else None

    storage, key = await page_call(request, run)
    if key is None:
        raise PageNotFound()
    data = await to_thread.run_sync(storage.get, key)
    return Response(data, media_type="image/png", headers={"cache-control": "private, max-age=600"})
