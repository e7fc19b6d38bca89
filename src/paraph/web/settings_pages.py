"""API keys and API apps."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from starlette.responses import Response

from paraph.account import keys
from paraph.account import repository as accounts
from paraph.api_app import service as app_service
from paraph.api_app.schemas import ApiAppCreateRequest, ApiAppUpdateRequest
from paraph.errors import ApiError
from paraph.models import ApiApp
from paraph.outbound.check import check_callback_url
from paraph.request_scope import client_ip
from paraph.security import verify_password
from paraph.web.auth_pages import throttle
from paraph.web.core import PageContext, PageNotFound, PageRoute, page_call, redirect, signed_form
from paraph.web.snippet import first_request_snippet
from paraph.web.views import endpoint_views, owned_apps
from paraph.wire.parse import parse

router = APIRouter(route_class=PageRoute)

_CLIENT_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


def _key_id(value: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise PageNotFound()
    return int(value)


# -- API keys ------------------------------------------------------------------------------------------


def _keys_page(ctx: PageContext, *, error: str | None = None, status: int = 200) -> Response:
    rows = accounts.active_keys(ctx.session, ctx.account)
    return ctx.render(
        "api_keys.html",
        {"keys": sorted(rows, key=lambda k: (not k.is_primary, k.id)), "error": error},
        nav="keys",
        status=status,
    )


@router.get("/dashboard/api-keys")
async def keys_page(request: Request) -> Response:
    return await page_call(request, _keys_page)


@router.post("/dashboard/api-keys")
async def keys_create(request: Request) -> Response:
    fields = await signed_form(request)

    def run(ctx: PageContext) -> Response:
        try:
            value = keys.create_key(ctx.session, ctx.runtime.keys, ctx.account, fields.get("name", ""))
        except ApiError as exc:
            return _keys_page(ctx, error=exc.error_msg, status=400)
        apps = owned_apps(ctx.session, ctx.account)
        snippet = first_request_snippet(ctx.runtime.settings.base_url, value, apps[0].client_id if apps else None)
        return ctx.render(
            "api_key_shown.html",
            {"name": fields.get("name", "").strip(), "value": value, "created": True, "snippet": snippet},
            nav="keys",
        )

    return await page_call(request, run, write=True)


@router.post("/dashboard/api-keys/{key_id}/primary")
async def keys_primary(request: Request, key_id: str) -> Response:
    await signed_form(request)
    kid = _key_id(key_id)
    await page_call(request, lambda ctx: keys.make_primary(ctx.session, ctx.account, kid), write=True)
    return redirect("/dashboard/api-keys?done=primary")


@router.post("/dashboard/api-keys/{key_id}/revoke")
async def keys_revoke(request: Request, key_id: str) -> Response:
    await signed_form(request)
    kid = _key_id(key_id)

    def run(ctx: PageContext) -> Response:
        try:
            keys.revoke(ctx.session, ctx.account, kid)
        except ApiError as exc:
            if exc.status_code == 404:
                raise
            return _keys_page(ctx, error=exc.error_msg, status=400)
        return redirect("/dashboard/api-keys?done=revoked")

    return await page_call(request, run, write=True)


@router.post("/dashboard/api-keys/{key_id}/reveal")
async def keys_reveal(request: Request, key_id: str) -> Response:
    """Show a key again, only to someone who re-enters the password (throttled like sign-in)."""
    fields = await signed_form(request)
    kid = _key_id(key_id)
    limiter = throttle(request)
    ip = client_ip(request)

    def run(ctx: PageContext) -> Response:
        key = limiter.key(ctx.account.email_address, ip)
        if limiter.retry_after(key):
            return _keys_page(ctx, error="Too many wrong passwords. Try again in a few minutes.", status=429)
        if not verify_password(ctx.account.password_hash, fields.get("password", "")[:1024]):
            limiter.failed(key)
            return _keys_page(ctx, error="That password is not right.", status=403)
        limiter.succeeded(key)
        row, value = keys.reveal(ctx.session, ctx.runtime.keys, ctx.account, kid)
        return ctx.render("api_key_shown.html", {"name": row.name, "value": value, "created": False}, nav="keys")

    return await page_call(request, run, write=True)


# -- API apps ------------------------------------------------------------------------------------------


def _domains(text: str) -> list[str]:
    return [d for d in re.split(r"[\s,]+", text) if d]


def _apps_page(ctx: PageContext, *, error: str | None = None, form: dict[str, str] | None = None) -> Response:
    return ctx.render(
        "apps.html",
        {"apps": owned_apps(ctx.session, ctx.account), "error": error, "form": form or {}},
        nav="apps",
        status=400 if error else 200,
    )


def _app_page(
    ctx: PageContext, app: ApiApp, *, error: str | None = None, form: dict[str, str] | None = None
) -> Response:
    endpoint = next((e for e in endpoint_views(ctx.session, ctx.account) if e.target == app.client_id), None)
    values = form or {"name": app.name, "domains": ", ".join(app.domains), "callback_url": app.callback_url or ""}
    return ctx.render(
        "app_edit.html",
        {"app": app, "endpoint": endpoint, "error": error, "form": values},
        nav="apps",
        status=400 if error else 200,
    )


async def _checked_url(request: Request, url: str) -> tuple[str, str | None]:
    """The URL as the API would save it, or the API's refusal message (the same SSRF guard)."""
    url = url.strip()
    if not url:
        return "", None
    try:
        return await check_callback_url(request, url), None
    except ApiError as exc:
        return url, exc.error_msg


@router.get("/dashboard/apps")
async def apps_page(request: Request) -> Response:
    return await page_call(request, _apps_page)


@router.post("/dashboard/apps")
async def apps_create(request: Request) -> Response:
    fields = await signed_form(request)
    url, url_error = await _checked_url(request, fields.get("callback_url", ""))

    def run(ctx: PageContext) -> Response:
        if url_error:
            return _apps_page(ctx, error=url_error, form=fields)
        try:
            req = parse(
                ApiAppCreateRequest,
                {
                    "name": fields.get("name", ""),
                    "domains": _domains(fields.get("domains", "")),
                    "callback_url": url or None,
                },
            )
        except ApiError as exc:
            return _apps_page(ctx, error=exc.error_msg, form=fields)
        app = app_service.create(ctx.session, ctx.account, req)
        return redirect(f"/dashboard/apps/{app.client_id}?done=app_created")

    return await page_call(request, run, write=True)


@router.get("/dashboard/apps/{client_id}")
async def app_page(request: Request, client_id: str) -> Response:
    if not _CLIENT_ID.match(client_id):
        raise PageNotFound()
    return await page_call(request, lambda ctx: _app_page(ctx, app_service.get(ctx.session, ctx.account, client_id)))


@router.post("/dashboard/apps/{client_id}")
async def app_save(request: Request, client_id: str) -> Response:
    fields = await signed_form(request)
    if not _CLIENT_ID.match(client_id):
        raise PageNotFound()
    url, url_error = await _checked_url(request, fields.get("callback_url", ""))

    def run(ctx: PageContext) -> Response:
        app = app_service.get(ctx.session, ctx.account, client_id)
        if url_error:
            return _app_page(ctx, app, error=url_error, form=fields)
        try:
            if not fields.get("name", "").strip():
                return _app_page(ctx, app, error="name: This value should not be blank", form=fields)
            domains = _domains(fields.get("domains", ""))
            if not domains:
                return _app_page(ctx, app, error="domains: At least one domain is required", form=fields)
            req = parse(
                ApiAppUpdateRequest, {"name": fields.get("name", ""), "domains": domains, "callback_url": url or None}
            )
        except ApiError as exc:
            return _app_page(ctx, app, error=exc.error_msg, form=fields)
        app_service.update(ctx.session, ctx.account, client_id, req)
        return redirect(f"/dashboard/apps/{client_id}?done=saved")

    return await page_call(request, run, write=True)


@router.post("/dashboard/apps/{client_id}/delete")
async def app_delete(request: Request, client_id: str) -> Response:
    await signed_form(request)
    if not _CLIENT_ID.match(client_id):
        raise PageNotFound()
    await page_call(request, lambda ctx: app_service.delete(ctx.session, ctx.account, client_id), write=True)
    return redirect("/dashboard/apps?done=app_deleted")
