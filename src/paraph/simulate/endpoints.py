"""/paraph/v1/test/*: drive a test-mode request's signers from a test (Paraph's extension). Each answers with
the signature request as GET /v3/signature_request/{id} shows it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from paraph.models import SignatureRequest
from paraph.request_scope import ApiContext, api_call
from paraph.scope import Scope
from paraph.signature_request import events
from paraph.simulate import schemas, service
from paraph.wire.decode import read_body
from paraph.wire.responses import ok

router = APIRouter(prefix="/test")

MAX_BODY_FIELDS = 64 * 1024


async def _body(request: Request) -> dict[str, Any]:
    return (await read_body(request, max_parts=600, max_fields_size=MAX_BODY_FIELDS, max_files=0)).data


async def _answer(request: Request, act: Callable[[Scope, ApiContext], SignatureRequest]) -> Response:
    def run(ctx: ApiContext) -> Response:
        scope = Scope.of(ctx.session, ctx.runtime)
        sr = act(scope, ctx)
        return ok({"signature_request": events.serialize(scope, sr)})

    return await api_call(request, run, write=True)


@router.post("/signatures/{signature_id}/sign")
async def simulate_sign(request: Request, signature_id: str) -> Response:
    body = await _body(request)
    fields = schemas.field_values(body)
    signature_text = schemas.text(body, "signature_text", limit=200) or None
    pin = schemas.text(body, "pin", limit=64) or None
    return await _answer(
        request,
        lambda scope, ctx: service.sign(
            scope, ctx.account, signature_id, fields, signature_text, pin=pin, ip=ctx.ip_address
        ),
    )


@router.post("/signatures/{signature_id}/decline")
async def simulate_decline(request: Request, signature_id: str) -> Response:
    body = await _body(request)
    reason = schemas.text(body, "reason")
    pin = schemas.text(body, "pin", limit=64) or None
    return await _answer(
        request,
        lambda scope, ctx: service.decline(scope, ctx.account, signature_id, reason, pin=pin, ip=ctx.ip_address),
    )


@router.post("/signatures/{signature_id}/view")
async def simulate_view(request: Request, signature_id: str) -> Response:
    pin = schemas.text(await _body(request), "pin", limit=64) or None
    return await _answer(
        request, lambda scope, ctx: service.view(scope, ctx.account, signature_id, pin=pin, ip=ctx.ip_address)
    )


@router.post("/signatures/{signature_id}/reassign")
async def simulate_reassign(request: Request, signature_id: str) -> Response:
    body = await _body(request)
    name = schemas.text(body, "name", limit=255)
    email = schemas.text(body, "email_address", limit=255)
    reason = schemas.text(body, "reason")
    pin = schemas.text(body, "pin", limit=64) or None
    return await _answer(
        request,
        lambda scope, ctx: service.reassign(
            scope, ctx.account, signature_id, name, email, reason, pin=pin, ip=ctx.ip_address
        ),
    )


@router.post("/signature_requests/{signature_request_id}/expire")
async def simulate_expire(request: Request, signature_request_id: str) -> Response:
    await _body(request)
    return await _answer(
        request, lambda scope, ctx: service.expire(scope, ctx.account, signature_request_id, ip=ctx.ip_address)
    )
