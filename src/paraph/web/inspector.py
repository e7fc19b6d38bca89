"""The callback inspector: a URL that answers like a good receiver and shows what it caught.

``POST /paraph/inspect/<name>`` needs no sign-in (Paraph, or any sender, posts to it) and answers
``Hello API Event Received``. ``/dashboard/inspector/<name>`` shows each caught request and whether it
verifies with the signed-in account's API key and endpoint secrets. Who may post where and who may read what
is :mod:`paraph.inspector.service`'s (``PARAPH_INSPECTOR``); this module is the HTTP and the pages.

Bounds, so that an endpoint anyone can reach is not a disk anyone can fill: a client IP posts at most
``PARAPH_INSPECTOR_PER_MINUTE`` times a minute (a bounded in-memory table), a request is read up to 1 MiB and
at most about 150 KiB of it is kept (body, the ``json`` field, other fields, headers, each capped), and the
captures are held within a per-name and a global row cap and byte budget (``inspector.repository``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.requests import Request as StarletteRequest
from starlette.responses import PlainTextResponse, Response
from starlette.types import Message

from paraph.account import repository as accounts
from paraph.api_gate import RateTable
from paraph.callbacks import repository as callbacks
from paraph.db import utcnow
from paraph.errors import ApiError
from paraph.inspector import scripts, service
from paraph.inspector.schemas import inspect_url
from paraph.models import InspectedRequest
from paraph.request_scope import client_ip, in_uow, runtime
from paraph.security import new_hex_id
from paraph.web.core import PageContext, PageNotFound, PageRoute, page_call, redirect, signed_form
from paraph.web.verify import Check, check_event_hash, check_standard_webhook, parse_event

ACK = "Hello API Event Received"
MAX_BODY = 1024 * 1024  # larger requests are refused
KEEP_BODY = 64 * 1024  # bytes of body stored (signatures of larger bodies cannot be checked)
KEEP_JSON = 64 * 1024  # bytes (UTF-8) of the `json` field (or a JSON body) stored
MAX_FIELDS = 50  # other form fields kept, together at most KEEP_FIELDS bytes of JSON, each at most MAX_FIELD
KEEP_FIELDS = 16 * 1024
MAX_FIELD = 4 * 1024
MAX_HEADERS = 50  # headers kept, together at most KEEP_HEADERS bytes, each value at most MAX_HEADER
KEEP_HEADERS = 8 * 1024
MAX_HEADER = 1024
RATE_WINDOW = 60
MAX_CLIENTS = 10_000  # client IPs counted at once (the least recently seen is dropped first)
SHOWN = 50
JSON_FIELD = "json"
MORE_FIELDS = "(more fields)"

catch_router = APIRouter()
router = APIRouter(route_class=PageRoute)


# -- catching ------------------------------------------------------------------------------------------


def rate_table(request: Request) -> RateTable[str]:
    """One table per app (kept on app.state), created on first use."""
    found = getattr(request.app.state, "inspector_rate", None)
    if not isinstance(found, RateTable):
        found = RateTable(max_tracked=MAX_CLIENTS, window_seconds=RATE_WINDOW)
        request.app.state.inspector_rate = found
    return found


async def _read_capped(request: Request) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _form_of(request: Request, body: bytes) -> dict[str, Any]:
    """The form fields of ``body`` (multipart or urlencoded), parsed by a request that replays the bytes;
    ``json`` in full (capped later), the others within MAX_FIELDS, KEEP_FIELDS and MAX_FIELD."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return {}
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    replay = StarletteRequest(request.scope, receive)
    out: dict[str, Any] = {}
    kept = 0
    try:
        form = await replay.form(max_fields=1000, max_files=1000)
    except Exception as exc:  # a malformed body is still worth showing raw
        return {"(form could not be parsed)": fit(str(exc), 500)}
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                text = f"(file {(value.filename or 'unnamed')[:200]}, {value.size or 0} bytes)"
            else:
                text = value
            if key == JSON_FIELD and JSON_FIELD not in out and not isinstance(value, UploadFile):
                out[key] = text
                continue
            key, text = fit(key, 200), fit(text, MAX_FIELD)
            size = json_size(key) + json_size(text)
            if len(out) >= MAX_FIELDS or kept + size > KEEP_FIELDS:
                out[MORE_FIELDS] = "not kept"
                break
            out[key] = text
            kept += size
    finally:
        await form.close()
    return out


def json_size(text: str) -> int:
    """Bytes ``text`` takes in stored JSON (non-ASCII escaped, as the JSON column writes it)."""
    return len(json.dumps(text))


def storable(text: str) -> str:
    """``text`` with what no database column stores replaced: NUL (PostgreSQL refuses it in text and JSONB)
    and unpaired UTF-16 surrogates."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def fit(text: str, limit: int) -> str:
    """``text`` cut so that it takes at most ``limit`` bytes in stored JSON, made storable."""
    text = storable(text[:limit])
    while json_size(text) > limit:
        text = text[: len(text) * limit // json_size(text) - 1]
    return text


def fit_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8 (never in the middle of a character), made storable."""
    return storable(text).encode()[:limit].decode("utf-8", "ignore")


def _headers_of(request: Request) -> list[list[str]]:
    out: list[list[str]] = []
    kept = 0
    for k, v in request.headers.raw[:MAX_HEADERS]:
        name, value = fit(k.decode("latin-1"), 200), fit(v.decode("latin-1"), MAX_HEADER)
        kept += json_size(name) + json_size(value)
        if kept > KEEP_HEADERS:
            break
        out.append([name, value])
    return out


def capture(request: Request, name: str, body: bytes, form: dict[str, Any]) -> InspectedRequest:
    """The row to keep for a caught request: everything capped, its size counted."""
    json_text: str | None = None
    if isinstance(form.get(JSON_FIELD), str):
        json_text = fit_utf8(form.pop(JSON_FIELD), KEEP_JSON)  # shown as "JSON, the json field", not twice
    elif request.headers.get("content-type", "").startswith("application/json"):
        json_text = fit_utf8(body[:KEEP_JSON].decode("utf-8", "replace"), KEEP_JSON)
    headers = _headers_of(request)
    kept_body = body[:KEEP_BODY]
    stored = (
        len(kept_body)
        + len((json_text or "").encode())
        + len(json.dumps(form).encode())
        + len(json.dumps(headers).encode())
    )
    return InspectedRequest(
        name=name,
        received_at=utcnow(),
        method=request.method,
        remote_addr=client_ip(request),
        headers=headers,
        form=form,
        json_text=json_text,
        body=kept_body,
        body_size=len(body),
        body_truncated=len(body) > KEEP_BODY,
        stored_bytes=stored,
    )


def _not_here() -> Response:
    return PlainTextResponse("No inspector has that name.", status_code=404)


@catch_router.post("/paraph/inspect/{name}")
async def catch(request: Request, name: str) -> Response:
    settings = runtime(request).settings
    if not service.valid_name(name):
        return PlainTextResponse(service.NAME_RULE, status_code=404)
    if settings.inspector_mode == "off":
        return _not_here()
    used, reset = rate_table(request).hit(client_ip(request) or "?")
    if used > settings.inspector_per_minute:
        wait = max(1, reset - int(utcnow().timestamp()))
        return PlainTextResponse(
            "Too many requests to the inspector from this address; try again in a minute.",
            status_code=429,
            headers={"retry-after": str(wait)},
        )
    if settings.inspector_mode == "account":  # refuse before reading the body
        if not await in_uow(request, lambda s: service.may_catch(s, settings, name), write=False):
            return _not_here()
    body = await _read_capped(request)
    if body is None:
        return PlainTextResponse("Request body too large for the inspector.", status_code=413)
    row = capture(request, name, body, await _form_of(request, body))

    def store(session: Session) -> bool:
        return service.store(session, settings, row)

    if not await in_uow(request, store, write=True):
        return _not_here()
    scripted = scripts.table(request.app.state).take(name)
    if scripted is None:
        return PlainTextResponse(ACK)
    if scripted.delay_ms:
        await asyncio.sleep(scripted.delay_ms / 1000)
    ok = 200 <= scripted.status < 300
    text = scripted.body if scripted.body is not None else ACK if ok else scripts.FAILURE_BODY
    return PlainTextResponse(text, status_code=scripted.status)


# -- the page ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class CaughtView:
    row: InspectedRequest
    payload: dict[str, Any] | None
    event_hash: Check
    signature: Check

    @property
    def event_type(self) -> str | None:
        event = (self.payload or {}).get("event")
        return str(event.get("event_type")) if isinstance(event, dict) and event.get("event_type") else None

    @property
    def body_text(self) -> str:
        return self.row.body[:8192].decode("utf-8", "replace")


def _secrets(ctx: PageContext) -> list[tuple[str, str]]:
    targets = callbacks.target_names(ctx.session, ctx.account)
    return [
        ("account" if targets.get(ep_id, "account") == "account" else f"app {targets[ep_id]}", secret)
        for ep_id, secret in callbacks.endpoint_secrets(ctx.session, ctx.account)
    ]


def caught_views(
    rows: Iterable[InspectedRequest], api_key: str | None, key_label: str, secrets: list[tuple[str, str]]
) -> list[CaughtView]:
    out = []
    for row in rows:
        payload = parse_event(row.json_text)
        out.append(
            CaughtView(
                row=row,
                payload=payload,
                event_hash=check_event_hash(payload, api_key, key_label),
                signature=check_standard_webhook(
                    row.headers, row.body, truncated=row.body_truncated, secrets=secrets, received_at=row.received_at
                ),
            )
        )
    return out


def _index(ctx: PageContext, *, error: str | None = None, chosen: str = "", status: int = 200) -> Response:
    suggestion = "hook-" + new_hex_id(6)
    settings = ctx.runtime.settings
    return ctx.render(
        "inspector_index.html",
        {
            "mode": settings.inspector_mode,
            "suggestion": chosen or suggestion,
            "error": error,
            "example_url": inspect_url(settings.base_url, suggestion),
            "names": service.names(ctx.session, ctx.account),
            "max_names": service.MAX_NAMES_PER_ACCOUNT,
        },
        nav="inspector",
        status=status,
    )


@router.get("/dashboard/inspector")
async def inspector_index(request: Request) -> Response:
    chosen = (request.query_params.get("name") or "").strip()
    if chosen and service.valid_name(chosen):
        return redirect(f"/dashboard/inspector/{chosen}")

    def run(ctx: PageContext) -> Response:
        return _index(ctx, error="Use 1 to 64 letters, digits, _ or -." if chosen else None)

    return await page_call(request, run)


@router.post("/dashboard/inspector")
async def inspector_create(request: Request) -> Response:
    """Create an inspector name for the signed-in account (the form on the inspector pages)."""
    fields = await signed_form(request)
    name = fields.get("name", "").strip()[:200]

    def run(ctx: PageContext) -> Response:
        if ctx.runtime.settings.inspector_mode == "off":
            raise PageNotFound()
        try:
            service.create_name(ctx.session, ctx.account, name)
        except ApiError as exc:
            ctx.session.rollback()
            return _index(
                ctx, error=exc.error_msg, chosen=name if service.valid_name(name) else "", status=exc.status_code
            )
        return redirect(f"/dashboard/inspector/{name}?done=inspector_created")

    return await page_call(request, run, write=True)


@router.post("/dashboard/inspector/{name}/delete")
async def inspector_delete(request: Request, name: str) -> Response:
    await signed_form(request)

    def run(ctx: PageContext) -> Response:
        if not service.owned(ctx.session, ctx.account, name):
            raise PageNotFound()
        service.delete_name(ctx.session, ctx.account, name)
        return redirect("/dashboard/inspector?done=inspector_deleted")

    return await page_call(request, run, write=True)


@router.get("/dashboard/inspector/{name}")
async def inspector_page(request: Request, name: str) -> Response:
    if not service.valid_name(name):
        raise PageNotFound()

    def run(ctx: PageContext) -> Response:
        settings = ctx.runtime.settings
        if not service.may_view(ctx.session, settings, ctx.account, name):
            raise PageNotFound()
        key_row = accounts.primary_key(ctx.session, ctx.account)
        api_key = ctx.runtime.keys.decrypt(key_row.encrypted_key) if key_row else None
        label = f"your primary API key …{key_row.suffix}" if key_row else "no key"
        rows = service.captures(ctx.session, name, SHOWN)
        url = inspect_url(settings.base_url, name)
        return ctx.render(
            "inspector.html",
            {
                "name": name,
                "url": url,
                "owned": service.owned(ctx.session, ctx.account, name),
                "caught": caught_views(rows, api_key, label, _secrets(ctx)),
                "is_account_url": ctx.account.callback_url == url,
                "now": utcnow(),
                "skew": dt.timedelta(minutes=5),
                "keep_per_name": service.KEEP_PER_NAME,
                "name_max_kib": settings.inspector_name_max_bytes // 1024,
            },
            nav="inspector",
        )

    return await page_call(request, run)
