"""Save-time check of a callback URL (the same guard runs again when the socket connects)."""

from __future__ import annotations

from starlette.requests import Request

from paraph.errors import BadRequest
from paraph.outbound.guard import UrlRefused, check_destination, validate_url
from paraph.request_scope import runtime


async def check_callback_url(request: Request, url: str, *, error_path: str = "callback_url") -> str:
    rt = runtime(request)
    allow = rt.settings.callback_allow_private
    try:
        normalized = validate_url(url, allow_private=allow, require_https=not allow)
        await check_destination(normalized, allow_private=allow, resolver=rt.resolver)
    except UrlRefused as exc:
        raise BadRequest(str(exc), error_path=error_path) from None
    return normalized
