"""/paraph/v1: events, resend, replay, callback test and endpoints (Paraph's extensions; not in Dropbox Sign)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from paraph.callbacks import replay, repository, service
from paraph.callbacks import targets as callback_targets
from paraph.callbacks.inline import send_test
from paraph.callbacks.schemas import serialize_endpoint, serialize_event
from paraph.errors import BadRequest, NotFound
from paraph.request_scope import ApiContext, api_call, runtime
from paraph.wire.decode import decode_query, read_body
from paraph.wire.responses import ok

router = APIRouter()


def _time(value: Any, name: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        pass
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise BadRequest(f"{name} must be unix seconds or an ISO 8601 time", error_path=name) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _int(value: Any, name: str, default: int, lo: int, hi: int) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be an integer", error_path=name) from None
    if not lo <= n <= hi:
        raise BadRequest(f"{name} must be between {lo} and {hi}", error_path=name)
    return n


@dataclass(frozen=True, slots=True)
class EventFilters:
    """``GET /paraph/v1/events``'s query: read with the bracket rules of :func:`decode_query`, and answered
    with this API's own messages (``limit must be between 1 and 100``)."""

    limit: int
    cursor: int | None
    state: str | None
    since: dt.datetime | None
    until: dt.datetime | None
    event_type: str | None
    signature_request_id: str | None
    template_id: str | None


def event_filters(request: Request) -> EventFilters:
    q = decode_query(request)
    limit = _int(q.get("limit"), "limit", 20, 1, 100)
    cursor = _int(q.get("cursor"), "cursor", 0, 0, 2**62) or None
    state = q.get("state") or None
    if state is not None and state not in repository.STATES:
        raise BadRequest(f"state must be one of {', '.join(repository.STATES)}", error_path="state")
    since, until = _time(q.get("since"), "since"), _time(q.get("until"), "until")
    return EventFilters(
        limit,
        cursor,
        state,
        since,
        until,
        q.get("event_type") or None,
        q.get("signature_request_id") or None,
        q.get("template_id") or None,
    )


@router.get("/events")
async def events_list(request: Request, f: Annotated[EventFilters, Depends(event_filters)]) -> Response:
    def run(ctx: ApiContext) -> Response:
        page = service.events_page(
            ctx.session,
            ctx.account,
            limit=f.limit,
            event_type=f.event_type,
            signature_request_id=f.signature_request_id,
            template_id=f.template_id,
            state=f.state,
            since=f.since,
            until=f.until,
            before_id=f.cursor,
        )
        return ok(
            {
                "events": [serialize_event(e, page.targets) for e in page.events],
                "next_cursor": str(page.next_before_id) if page.next_before_id is not None else None,
            }
        )

    return await api_call(request, run)


@router.get("/events/{event_id}")
async def events_get(request: Request, event_id: str) -> Response:
    def run(ctx: ApiContext) -> Response:
        event = repository.get_event(ctx.session, ctx.account, event_id)
        if event is None:
            raise NotFound("No event with that id.")
        return ok({"event": serialize_event(event, repository.target_names(ctx.session, ctx.account))})

    return await api_call(request, run)


@router.post("/events/{event_id}/resend")
async def events_resend(request: Request, event_id: str) -> Response:
    def run(ctx: ApiContext) -> Response:
        event = replay.resend(ctx.session, ctx.runtime.keys, ctx.account, event_id)
        return ok({"event": serialize_event(event, repository.target_names(ctx.session, ctx.account))})

    return await api_call(request, run)


@router.post("/events/replay")
async def events_replay(request: Request) -> Response:
    body = (await read_body(request)).data
    since, until = _time(body.get("since"), "since"), _time(body.get("until"), "until")
    state = str(body.get("state") or "failed")

    def run(ctx: ApiContext) -> Response:
        n = replay.replay(ctx.session, ctx.account, since=since, until=until, state=state)
        return ok({"replayed": n})

    return await api_call(request, run)


@router.post("/callbacks/test")
async def callbacks_test(request: Request) -> Response:
    body = (await read_body(request)).data
    target = str(body.get("target") or "account")
    account_pk = await api_call(request, lambda ctx: ctx.account.id, write=False)
    return ok({"result": await send_test(runtime(request), account_pk, target)})


@router.get("/callbacks/endpoints")
async def callbacks_endpoints(request: Request) -> Response:
    def run(ctx: ApiContext) -> Response:
        targets = repository.target_names(ctx.session, ctx.account)
        eps = callback_targets.for_account(ctx.session, ctx.account)
        return ok({"endpoints": [serialize_endpoint(e, targets.get(e.id, "account")) for e in eps]})

    return await api_call(request, run)
