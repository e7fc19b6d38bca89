"""The outermost middleware: every HTTP request gets an id (kept from X-Request-Id when a proxy sent a plain
one, else made here), echoed in the response's X-Request-Id and carried by every log line of the request,
and is counted in ``paraph_http_requests`` and ``paraph_http_request_duration_seconds`` by route template
(``unmatched`` for a path no route serves, or a request the API gate refused before routing)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paraph.ops import context
from paraph.ops.metrics import HTTP_REQUESTS, HTTP_SECONDS

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: The prefixes routers are mounted under (app.py): a route of a prefixed router knows only its own path.
_PREFIXES = ("", "/v3", "/paraph/v1")


def route_template(scope: Scope) -> str:
    """The template of the route that served the request (``/v3/signature_request/{signature_request_id}``),
    or ``unmatched``: a label value from a fixed set, never the path itself."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    regex = getattr(route, "path_regex", None)
    if not isinstance(template, str):
        return "unmatched"
    path = scope.get("path", "")
    for prefix in _PREFIXES:
        if path.startswith(prefix) and (regex is None or regex.match(path[len(prefix) :])):
            return prefix + template
    return template


class Telemetry:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope.get("headers") or ():
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        request_id = context.new_request_id(given)
        header = (b"x-request-id", request_id.encode())
        token = context.begin(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", ()), header]
                path_params = scope.get("path_params") or {}
                context.note(signature_request_id=path_params.get("signature_request_id"))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = route_template(scope)
            method = scope.get("method", "GET")
            method = method if method in _METHODS else "other"
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_SECONDS.labels(method, route).observe(time.perf_counter() - started)
            context.end(token)
