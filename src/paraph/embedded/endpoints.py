"""/v3/embedded/sign_url/{signature_id}."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from paraph.embedded import service
from paraph.request_scope import ApiContext, api_call
from paraph.scope import Scope
from paraph.wire.responses import ok

router = APIRouter(prefix="/v3")


@router.get("/embedded/sign_url/{signature_id}")
async def embedded_sign_url(request: Request, signature_id: str) -> Response:
    def run(ctx: ApiContext) -> Response:
        url = service.sign_url(
            Scope.of(ctx.session, ctx.runtime),
            ctx.account,
            signature_id,
            ip_address=ctx.ip_address,
            user_agent=ctx.user_agent,
        )
        return ok({"embedded": {"sign_url": url.url, "expires_at": url.expires_at}})

    # A GET that writes (the token), so a write transaction.
    return await api_call(request, run, write=True)
