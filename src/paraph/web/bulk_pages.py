"""Bulk send jobs in the dashboard: the list (each job's progress), and a job's page (its progress, each
request made with its state, the rows that failed)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from paraph.bulk_send import service
from paraph.errors import ApiError
from paraph.models import BulkSendJob
from paraph.scope import Scope
from paraph.signature_request.state import state_of
from paraph.web.core import PageContext, PageNotFound, PageRoute, page_call

router = APIRouter(route_class=PageRoute)

PAGE_SIZE = 25
REQUESTS_PER_PAGE = 100
_JOB_ID = re.compile(r"^[0-9a-f]{40}$")


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 0 < len(value) < 6 and int(value) > 0 else 1


def _progress(job: BulkSendJob) -> dict[str, Any]:
    failed = len(job.failures or [])
    return {
        "id": job.bulk_send_job_id,
        "total": job.total,
        "done": job.next_row,
        "made": job.next_row - failed,
        "failed": failed,
        "percent": round(100 * job.next_row / job.total) if job.total else 100,
        "finished": job.finished_at is not None or job.next_row >= job.total,
        "embedded": job.is_embedded,
        "test_mode": bool((job.request or {}).get("test_mode")),
        "title": (job.request or {}).get("title") or "",
        "created_at": job.created_at,
    }


@router.get("/dashboard/bulk-sends")
async def bulk_list(request: Request) -> Response:
    page = _page_number(request.query_params.get("page"))

    def run(ctx: PageContext) -> Response:
        rows, total = service.list_jobs(Scope.of(ctx.session, ctx.runtime), ctx.account, page, PAGE_SIZE)
        pages = max(1, -(-total // PAGE_SIZE))
        return ctx.render(
            "bulk_sends.html",
            {
                "jobs": [_progress(j) for j in rows],
                "total": total,
                "page": page,
                "pages": pages,
                "newer": urlencode({"page": page - 1}) if page > 1 else None,
                "older": urlencode({"page": page + 1}) if page < pages else None,
            },
            nav="bulk",
        )

    return await page_call(request, run)


@router.get("/dashboard/bulk-sends/{job_id}")
async def bulk_detail(request: Request, job_id: str) -> Response:
    if not _JOB_ID.match(job_id):
        raise PageNotFound()
    page = _page_number(request.query_params.get("page"))

    def run(ctx: PageContext) -> Response:
        try:
            job, rows, total = service.get(
                Scope.of(ctx.session, ctx.runtime), ctx.account, job_id, page, REQUESTS_PER_PAGE
            )
        except ApiError as exc:
            raise PageNotFound() from exc
        pages = max(1, -(-total // REQUESTS_PER_PAGE))
        return ctx.render(
            "bulk_send.html",
            {
                "job": _progress(job),
                "requests": [(sr, state_of(sr)) for sr in rows],
                "failures": list(job.failures or []),
                "page": page,
                "pages": pages,
                "newer": urlencode({"page": page - 1}) if page > 1 else None,
                "older": urlencode({"page": page + 1}) if page < pages else None,
            },
            nav="bulk",
        )

    return await page_call(request, run)
