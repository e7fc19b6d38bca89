"""/v3/account: thin handlers, one service call each."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from paraph.account import service
from paraph.account.schemas import (
    AccountCreateRequest,
    AccountUpdateRequest,
    AccountVerifyRequest,
    serialize_account,
)
from paraph.api_app import repository as apps
from paraph.callbacks import service as callbacks
from paraph.callbacks.events import EventType
from paraph.errors import BadRequest
from paraph.outbound.check import check_callback_url
from paraph.request_scope import ApiContext, api_call
from paraph.security import constant_time_equals
from paraph.wire.decode import decode_query, read_body
from paraph.wire.parse import parse
from paraph.wire.responses import ok

router = APIRouter()


@router.get("/account")
async def account_get(request: Request) -> Response:
    q = decode_query(request)

    def run(ctx: ApiContext) -> Response:
        acct = service.get_account(ctx.session, ctx.account, q.get("account_id"), q.get("email_address"))
        return ok({"account": serialize_account(acct)})

    return await api_call(request, run)


async def _update(request: Request) -> Response:
    body = await read_body(request)
    req = parse(AccountUpdateRequest, body.data)
    if req.callback_url:
        req.callback_url = await check_callback_url(request, req.callback_url)

    def run(ctx: ApiContext) -> Response:
        acct = service.update_account(
            ctx.session,
            ctx.account,
            callback_url=req.callback_url,
            locale=req.locale,
            fields_set=set(req.model_fields_set),
        )
        return ok({"account": serialize_account(acct)})

    return await api_call(request, run)


router.add_api_route("/account", _update, methods=["PUT"], name="account_update")
# Legacy docs used POST /v3/account; both are accepted.
router.add_api_route("/account", _update, methods=["POST"], name="account_update_legacy")


@router.post("/account/create")
async def account_create(request: Request) -> Response:
    body = await read_body(request)
    req = parse(AccountCreateRequest, body.data)

    def run(ctx: ApiContext) -> Response:
        app = None
        if req.client_id:
            app = apps.get_owned(ctx.session, ctx.account, req.client_id)
            if app is None or not constant_time_equals(req.client_secret or "", app.client_secret):
                raise BadRequest(
                    "client_id and client_secret do not match an API app of yours.", error_path="client_id"
                )
        created = service.create_account(
            ctx.session, ctx.runtime.keys, req.email_address, locale=req.locale, created_by_app=app
        )
        if app is not None:
            # Paraph confirms accounts at once (no confirmation mail), so the app hears of it now.
            callbacks.emit(
                ctx.session,
                ctx.runtime.keys,
                ctx.account,
                EventType.ACCOUNT_CONFIRMED,
                api_app=app,
                object_kind="account",
                object_json=serialize_account(created.account),
                targets="app",
            )
        return ok({"account": serialize_account(created.account)})

    return await api_call(request, run)


@router.post("/account/verify")
async def account_verify(request: Request) -> Response:
    body = await read_body(request)
    req = parse(AccountVerifyRequest, body.data)

    def run(ctx: ApiContext) -> Response:
        found = service.verify_account(ctx.session, req.email_address)
        return ok({"account": {"email_address": found.email_address}} if found else {})

    return await api_call(request, run)
