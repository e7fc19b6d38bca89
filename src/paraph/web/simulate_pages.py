"""The request page's simulation buttons (test-mode requests only): the same services as /paraph/v1/test/*."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import APIRouter, Request
from starlette.responses import Response

from paraph.errors import ApiError
from paraph.scope import Scope
from paraph.simulate import service
from paraph.web.core import PageContext, PageNotFound, PageRoute, page_call, redirect, signed_form

router = APIRouter(route_class=PageRoute)

_RID = re.compile(r"^[0-9a-f]{40}$")
ACTIONS = ("view", "sign", "decline", "reassign", "expire")


@router.post("/dashboard/requests/{rid}/simulate")
async def simulate(request: Request, rid: str) -> Response:
    if not _RID.match(rid):
        raise PageNotFound()
    fields = await signed_form(request)
    action = fields.get("action", "")
    if action not in ACTIONS:
        raise PageNotFound()
    signature_id = fields.get("signature_id", "")[:64]

    def act(ctx: PageContext) -> Callable[[Scope], object]:
        acct, ip = ctx.account, None
        if action == "expire":
            return lambda scope: service.expire(scope, acct, rid, ip=ip)
        if action == "view":
            return lambda scope: service.view(scope, acct, signature_id, ip=ip)
        if action == "sign":
            return lambda scope: service.sign(scope, acct, signature_id, {}, None, ip=ip)
        if action == "decline":
            reason = fields.get("reason", "")[:2000]
            return lambda scope: service.decline(scope, acct, signature_id, reason, ip=ip)
        name, email = fields.get("name", "")[:255], fields.get("email_address", "")[:255]
        reason = fields.get("reason", "")[:2000]
        return lambda scope: service.reassign(scope, acct, signature_id, name, email, reason, ip=ip)

    def run(ctx: PageContext) -> Response:
        try:
            act(ctx)(Scope.of(ctx.session, ctx.runtime))
        except ApiError as exc:
            ctx.session.rollback()
            if exc.status_code == 404:
                raise PageNotFound() from None
            title = "The simulated signer could not do that"
            return ctx.render(
                "error.html",
                {"title": title, "message": exc.error_msg, "status": exc.status_code},
                status=exc.status_code,
            )
        return redirect(f"/dashboard/requests/{rid}?done=simulated")

    return await page_call(request, run, write=True)
