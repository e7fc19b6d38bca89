"""Overview, callbacks (events, attempts, resend, test, endpoints) and account settings."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from paraph.account import repository as accounts
from paraph.account import service as account_service
from paraph.callbacks import replay, repository
from paraph.callbacks import service as callbacks_service
from paraph.callbacks.events import EventType
from paraph.callbacks.inline import send_test
from paraph.callbacks.schemas import event_state, serialize_event
from paraph.db import utcnow
from paraph.errors import ApiError
from paraph.models import CallbackEvent
from paraph.outbound.check import check_callback_url
from paraph.request_scope import client_ip, runtime
from paraph.security import verify_password
from paraph.signature_request import browse
from paraph.signature_request.state import LABELS
from paraph.web import stats
from paraph.web.auth_pages import throttle
from paraph.web.core import PageContext, PageNotFound, PageRoute, page_call, redirect, safe_back, signed_form
from paraph.web.snippet import first_request_snippet
from paraph.web.views import LOCALES, endpoint_views, owned_apps

router = APIRouter(route_class=PageRoute)

PAGE_SIZE = 25
EVENT_TYPES = [str(t) for t in EventType]
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


# -- overview ------------------------------------------------------------------------------------------


@router.get("/dashboard")
async def overview(request: Request) -> Response:
    def run(ctx: PageContext) -> Response:
        now = utcnow()
        attempts = repository.attempts_since(ctx.session, ctx.account, stats.window_start(now))
        health = stats.health(attempts, now)
        targets = repository.target_names(ctx.session, ctx.account)
        recent = repository.list_events(ctx.session, ctx.account, limit=6)
        apps = owned_apps(ctx.session, ctx.account)
        request_counts = browse.counts(ctx.session, ctx.account)
        is_new = not recent and not any(request_counts.values())
        is_new = is_new and not repository.has_events(ctx.session, ctx.account)
        return ctx.render(
            "overview.html",
            {
                "health": health,
                "endpoints": endpoint_views(ctx.session, ctx.account),
                "recent": [serialize_event(e, targets, detail=False) for e in recent],
                "is_new": is_new,
                "has_app": bool(apps),
                "snippet": first_request_snippet(
                    ctx.runtime.settings.base_url, None, apps[0].client_id if apps else None
                ),
                "request_counts": [(state, LABELS[state], n) for state, n in request_counts.items()],
                "request_total": sum(request_counts.values()),
            },
            nav="overview",
        )

    return await page_call(request, run)


# -- callbacks -----------------------------------------------------------------------------------------


def event_rows(events: list[CallbackEvent], targets: dict[int, str]) -> list[dict[str, Any]]:
    """Events as the events tables show them: the API's serialization plus attempt count and last result."""
    rows = []
    for e in events:
        data = serialize_event(e, targets, detail=False)
        data["attempts"] = sum(len(d.attempts) for d in e.deliveries)
        last = max((a for d in e.deliveries for a in d.attempts), key=lambda a: a.id, default=None)
        data["last_status"] = last.status_code if last else None
        data["last_error"] = last.error if last else None
        rows.append(data)
    return rows


@router.get("/dashboard/callbacks")
async def callbacks(request: Request) -> Response:
    q = request.query_params
    event_type = q.get("event_type") or None
    if event_type not in EVENT_TYPES:
        event_type = None
    state = q.get("state") or None
    if state not in repository.STATES:
        state = None
    request_id = (q.get("signature_request_id") or "").strip()[:64] or None
    before = q.get("before", "")
    before_id = int(before) if before.isdigit() and len(before) < 19 else None

    def run(ctx: PageContext) -> Response:
        page = callbacks_service.events_page(
            ctx.session,
            ctx.account,
            limit=PAGE_SIZE,
            event_type=event_type,
            signature_request_id=request_id,
            state=state,
            before_id=before_id,
        )
        filters = {
            k: v for k, v in (("event_type", event_type), ("state", state), ("signature_request_id", request_id)) if v
        }
        older = urlencode({**filters, "before": page.next_before_id}) if page.next_before_id is not None else None
        return ctx.render(
            "callbacks.html",
            {
                "events": event_rows(page.events, page.targets),
                "endpoints": endpoint_views(ctx.session, ctx.account),
                "event_types": EVENT_TYPES,
                "states": repository.STATES,
                "filters": filters,
                "filtered": bool(filters),
                "older": older,
                "first_page": before_id is None,
            },
            nav="callbacks",
        )

    return await page_call(request, run)


@router.get("/dashboard/callbacks/events/{event_id}")
async def event_detail(request: Request, event_id: str) -> Response:
    if not _ID.match(event_id):
        raise PageNotFound()

    def run(ctx: PageContext) -> Response:
        event = repository.get_event(ctx.session, ctx.account, event_id)
        if event is None:
            raise PageNotFound()
        data = serialize_event(event, repository.target_names(ctx.session, ctx.account))
        return ctx.render(
            "event.html",
            {"event": data, "state": event_state(event), "endpoints": endpoint_views(ctx.session, ctx.account)},
            nav="callbacks",
        )

    return await page_call(request, run)


@router.post("/dashboard/callbacks/events/{event_id}/resend")
async def event_resend(request: Request, event_id: str) -> Response:
    await signed_form(request)
    if not _ID.match(event_id):
        raise PageNotFound()

    def run(ctx: PageContext) -> str:
        return replay.resend(ctx.session, ctx.runtime.keys, ctx.account, event_id).event_id

    found = await page_call(request, run, write=True)
    return redirect(f"/dashboard/callbacks/events/{found}?done=resent")


@router.post("/dashboard/callbacks/test")
async def callback_test(request: Request) -> Response:
    """Send ``callback_test`` now and show the attempt: the event page has the payload, status and body."""
    fields = await signed_form(request)
    target = fields.get("target", "account")
    if target != "account" and not _ID.match(target):
        raise PageNotFound()
    account_pk = await page_call(request, lambda ctx: ctx.account.id)
    result: dict[str, Any] = await send_test(runtime(request), account_pk, target)
    done = "test_ok" if result.get("ok") else "test_failed"
    back = safe_back(fields.get("back"), f"/dashboard/callbacks/events/{result['event_id']}")
    return redirect(f"{back}?done={done}")


# -- account -------------------------------------------------------------------------------------------


def _account_page(
    ctx: PageContext,
    *,
    error: str | None = None,
    callback_url: str | None = None,
    change_error: str | None = None,
    status: int = 400,
) -> Response:
    key = accounts.primary_key(ctx.session, ctx.account)
    locales = list(LOCALES) if ctx.account.locale in LOCALES else [ctx.account.locale, *LOCALES]
    account_endpoint = next((e for e in endpoint_views(ctx.session, ctx.account) if e.target == "account"), None)
    return ctx.render(
        "account.html",
        {
            "error": error,
            "callback_url": ctx.account.callback_url if callback_url is None else callback_url,
            "locales": locales,
            "primary_suffix": key.suffix if key else None,
            "endpoint": account_endpoint,
            "password_error": change_error,
        },
        nav="account",
        status=status if error or change_error else 200,
    )


@router.get("/dashboard/account")
async def account_page(request: Request) -> Response:
    return await page_call(request, _account_page)


@router.post("/dashboard/account")
async def account_save(request: Request) -> Response:
    fields = await signed_form(request)
    url = fields.get("callback_url", "").strip()
    locale = fields.get("locale", "").strip()[:16] or None
    error = None
    if url:
        try:
            url = await check_callback_url(request, url)
        except ApiError as exc:
            error = exc.error_msg

    def run(ctx: PageContext) -> Response:
        if error is not None:
            return _account_page(ctx, error=error, callback_url=url)
        account_service.update_account(
            ctx.session, ctx.account, callback_url=url or None, locale=locale, fields_set={"callback_url", "locale"}
        )
        return redirect(safe_back(fields.get("back"), "/dashboard/account") + "?done=saved")

    return await page_call(request, run, write=True)


@router.post("/dashboard/account/password")
async def account_password(request: Request) -> Response:
    """Change the dashboard password: the current one first (throttled like sign-in), the new one twice.
    Every other session of the account ends; this one stays signed in."""
    fields = await signed_form(request)
    current = fields.get("current_password", "")[:1024]
    new, again = fields.get("new_password", ""), fields.get("new_password_again", "")
    limiter = throttle(request)
    ip = client_ip(request)
    user_agent = (request.headers.get("user-agent") or "")[:1024] or None

    def run(ctx: PageContext) -> Response:
        key = limiter.key(ctx.account.email_address, ip)
        if limiter.retry_after(key):
            return _account_page(ctx, change_error="Too many wrong passwords. Try again in a few minutes.", status=429)
        if not verify_password(ctx.account.password_hash, current):
            limiter.failed(key)
            return _account_page(ctx, change_error="The current password is not right.", status=403)
        limiter.succeeded(key)
        if new != again:
            return _account_page(ctx, change_error="The two new passwords differ.")
        try:
            account_service.check_password(new)
        except ValueError as exc:
            return _account_page(ctx, change_error=f"The new password: {exc}.")
        account_service.set_password(
            ctx.session,
            ctx.account,
            new,
            source="web",
            keep_session=ctx.web_session.lookup,
            ip_address=ip,
            user_agent=user_agent,
        )
        return redirect("/dashboard/account?done=password_changed")

    return await page_call(request, run, write=True)
