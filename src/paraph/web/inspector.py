"""The callback inspector: a URL that answers like a good receiver and shows what it caught.

``POST /paraph/inspect/<name>`` needs no sign-in (Paraph, or any sender, posts to it) and answers
``Hello API Event Received``. ``/dashboard/inspector/<name>`` shows each caught request and whether it
verifies with the signed-in account's API key and endpoint secrets. A name is a shared mailbox: whoever knows
it can read what was sent to it, as with any request-bin; pick an unguessable one.
"""

from __future__ import annotations

import datetime as dt
import re
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
from paraph.callbacks import repository as callbacks
from paraph.db import utcnow
from paraph.models import InspectedRequest
from paraph.request_scope import client_ip, in_uow
from paraph.security import new_hex_id
from paraph.web import repository
from paraph.web.core import PageContext, PageNotFound, PageRoute, page_call, redirect
from paraph.web.verify import Check, check_event_hash, check_standard_webhook, parse_event

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ACK = "Hello API Event Received"
MAX_BODY = 1024 * 1024  # larger requests are refused
KEEP_BODY = 256 * 1024  # bytes of body stored (signatures of larger bodies cannot be checked)
KEEP_PER_NAME = 200
KEEP_TOTAL = 10_000
MAX_HEADERS = 100
MAX_FIELD = 64 * 1024
SHOWN = 50

catch_router = APIRouter()
router = APIRouter(route_class=PageRoute)


# -- catching ------------------------------------------------------------------------------------------


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
    """The form fields of ``body`` (multipart or urlencoded), parsed by a request that replays the bytes."""
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
    try:
        form = await replay.form()
    except Exception as exc:  # a malformed body is still worth showing raw
        return {"(form could not be parsed)": str(exc)[:500]}
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                out[key] = f"(file {value.filename or 'unnamed'}, {value.size or 0} bytes)"
            else:
                out[key] = value[:MAX_FIELD]
    finally:
        await form.close()
    return out


@catch_router.post("/paraph/inspect/{name}")
async def catch(request: Request, name: str) -> Response:
    if not NAME.match(name):
        return PlainTextResponse("Inspector names are 1 to 64 letters, digits, _ or -.", status_code=404)
    body = await _read_capped(request)
    if body is None:
        return PlainTextResponse("Request body too large for the inspector.", status_code=413)
    form = await _form_of(request, body)
    json_text = form.get("json") if isinstance(form.get("json"), str) else None
    if json_text is None and request.headers.get("content-type", "").startswith("application/json"):
        json_text = body[:MAX_FIELD].decode("utf-8", "replace")
    row = InspectedRequest(
        name=name,
        received_at=utcnow(),
        method=request.method,
        remote_addr=client_ip(request),
        headers=[[k.decode("latin-1"), v.decode("latin-1")[:4096]] for k, v in request.headers.raw[:MAX_HEADERS]],
        form=form,
        json_text=json_text,
        body=body[:KEEP_BODY],
        body_size=len(body),
        body_truncated=len(body) > KEEP_BODY,
    )

    def store(session: Session) -> None:
        repository.add_inspected(session, row, keep_per_name=KEEP_PER_NAME, keep_total=KEEP_TOTAL)

    await in_uow(request, store, write=True)
    return PlainTextResponse(ACK)


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


def inspect_url(base_url: str, name: str) -> str:
    return f"{base_url}/paraph/inspect/{name}"


@router.get("/dashboard/inspector")
async def inspector_index(request: Request) -> Response:
    chosen = (request.query_params.get("name") or "").strip()
    if chosen:
        if NAME.match(chosen):
            return redirect(f"/dashboard/inspector/{chosen}")
    suggestion = "hook-" + new_hex_id(6)

    def run(ctx: PageContext) -> Response:
        error = "Use 1 to 64 letters, digits, _ or -." if chosen else None
        return ctx.render(
            "inspector_index.html",
            {
                "suggestion": suggestion,
                "error": error,
                "example_url": inspect_url(ctx.runtime.settings.base_url, suggestion),
            },
            nav="inspector",
        )

    return await page_call(request, run)


@router.get("/dashboard/inspector/{name}")
async def inspector_page(request: Request, name: str) -> Response:
    if not NAME.match(name):
        raise PageNotFound()

    def run(ctx: PageContext) -> Response:
        key_row = accounts.primary_key(ctx.session, ctx.account)
        api_key = ctx.runtime.keys.decrypt(key_row.encrypted_key) if key_row else None
        label = f"your primary API key …{key_row.suffix}" if key_row else "no key"
        rows = repository.inspected(ctx.session, name, SHOWN)
        url = inspect_url(ctx.runtime.settings.base_url, name)
        return ctx.render(
            "inspector.html",
            {
                "name": name,
                "url": url,
                "caught": caught_views(rows, api_key, label, _secrets(ctx)),
                "is_account_url": ctx.account.callback_url == url,
                "now": utcnow(),
                "skew": dt.timedelta(minutes=5),
            },
            nav="inspector",
        )

    return await page_call(request, run)
