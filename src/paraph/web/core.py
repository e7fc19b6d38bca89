"""What every dashboard page shares: templates, the signed-in context, CSRF-checked forms, HTML errors and
security headers.

Dashboard routes use :class:`PageRoute`, which renders any error raised inside a page as an HTML page (the
API's exception handlers in ``paraph.app`` answer with JSON envelopes; they never see a page's error).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import jinja2
from fastapi.routing import APIRoute
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from paraph.account import repository as accounts
from paraph.db import utcnow
from paraph.errors import ApiError, BadRequest
from paraph.models import Account, DashboardSession
from paraph.request_scope import in_uow, runtime
from paraph.runtime import Runtime
from paraph.web.sessions import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SessionToken,
    check_csrf,
    csrf_token,
    parse_session_cookie,
)
from paraph.wire.text import bad_text

log = logging.getLogger(__name__)
T = TypeVar("T")

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

#: ``?done=<code>`` after a redirect: fixed messages, so nothing from the URL is ever echoed into a page.
NOTICES = {
    "resent": "The event was queued again; its deliveries start at once.",
    "test_ok": "Test callback delivered.",
    "test_failed": "Test callback failed: see the attempt below.",
    "saved": "Saved.",
    "app_created": "API app created.",
    "app_deleted": "API app deleted.",
    "primary": "Primary API key changed. New events are hashed with it.",
    "revoked": "API key revoked.",
    "password_changed": "Password changed. Other signed-in sessions were signed out.",
    "inspector_created": "Inspector created: only your account sees what it catches.",
    "inspector_deleted": "Inspector deleted, with everything it caught.",
    "simulated": "Done: the simulated signer went through the signing page's rules; callbacks follow as usual.",
}


# -- errors --------------------------------------------------------------------------------------------


class SignInRequired(Exception):
    """No valid session: GET pages redirect to the sign-in form."""


class CsrfRefused(Exception):
    """A form arrived without the token of the session (or of the sign-in form) it belongs to."""


class PageNotFound(Exception):
    pass


# -- templates -----------------------------------------------------------------------------------------


def as_datetime(value: dt.datetime | int | float | None) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromtimestamp(value, dt.UTC)


def fmt_when(value: dt.datetime | int | float | None) -> str:
    when = as_datetime(value)
    return "—" if when is None else when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_ago(value: dt.datetime | int | float | None, now: dt.datetime | None = None) -> str:
    when = as_datetime(value)
    if when is None:
        return ""
    seconds = int(((now or utcnow()) - when).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 10:
        return "just now"
    if seconds < 45:
        text = f"{seconds} s"
    elif seconds < 3600:
        text = f"{round(seconds / 60)} min"
    elif seconds < 86400 * 2:
        text = f"{round(seconds / 3600)} h"
    else:
        text = f"{round(seconds / 86400)} days"
    return f"in {text}" if future else f"{text} ago"


def fmt_ms(value: int | None) -> str:
    return "—" if value is None else f"{value:,} ms"


def pretty_json(value: Any) -> str:
    """Indented JSON for display; the template escapes it."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return str(value)
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str | None) -> Markup:
    """Escape ``text`` and make its http(s) URLs clickable (trailing punctuation stays outside the link)."""
    if not text:
        return Markup("")
    parts: list[str] = []
    last = 0
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:!?)]}")
        parts.append(text[last : m.start()])
        parts.append(Markup('<a href="{0}" rel="noopener noreferrer" target="_blank">{0}</a>').format(url))
        last = m.start() + len(url)
    parts.append(text[last:])
    return Markup("").join(parts)  # escapes every plain str part


@cache
def static_version() -> str:
    """A digest of the static files, appended to their URLs so browsers refetch them after an upgrade."""
    h = hashlib.sha256()
    for path in sorted(STATIC_DIR.iterdir()):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:10]


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=fmt_when, ago=fmt_ago, ms=fmt_ms, pretty_json=pretty_json, linkify=linkify)
    env.globals.update(static_version=static_version, urlencode=urlencode, quote=quote)
    return env


def render(request: Request, template: str, context: Mapping[str, Any], *, status: int = 200) -> HTMLResponse:
    rt = runtime(request)
    done = request.query_params.get("done", "")
    base: dict[str, Any] = {
        "account": None,
        "csrf": "",
        "nav": "",
        "base_url": rt.settings.base_url,
        "notice": NOTICES.get(done),
        "notice_bad": done.endswith("failed"),
        "path": request.url.path,
    }
    base.update(context)
    html = environment().get_template(template).render(base)
    return HTMLResponse(html, status_code=status)


def security_headers(response: Response) -> None:
    """Headers on every dashboard response; a response that set its own CSP (the sandboxed mail frame) keeps it."""
    h = response.headers
    h.setdefault("content-security-policy", PAGE_CSP)
    h.setdefault("x-frame-options", "DENY")
    h["x-content-type-options"] = "nosniff"
    h["referrer-policy"] = "same-origin"
    h.setdefault("cache-control", "no-store")


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


_BACK = re.compile(r"^/dashboard(/[A-Za-z0-9_-]+)*$")


def safe_back(value: str | None, default: str) -> str:
    """A form's ``back`` field, when it names a dashboard page (never another origin)."""
    return value if value and _BACK.match(value) else default


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    status: int
    title: str
    message: str


def _describe(request: Request, exc: Exception) -> Response | ErrorInfo:
    """A redirect to sign-in, or what the error page should say."""
    if isinstance(exc, SignInRequired):
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return redirect("/login?" + urlencode({"next": target}))
        return redirect("/login")
    if isinstance(exc, CsrfRefused):
        return ErrorInfo(
            403,
            "This form has expired",
            "The form was sent without its security token, or with one from another session. "
            "Go back, reload the page and try again.",
        )
    if isinstance(exc, PageNotFound):
        return ErrorInfo(404, "Not found", "There is nothing here, or it belongs to another account.")
    if isinstance(exc, StarletteHTTPException):  # e.g. a malformed form body
        return ErrorInfo(exc.status_code, "That did not work", str(exc.detail))
    if isinstance(exc, ApiError):
        if exc.status_code == 404:
            return ErrorInfo(404, "Not found", exc.error_msg)
        return ErrorInfo(exc.status_code, "That did not work", exc.error_msg)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return ErrorInfo(500, "Something went wrong", "An unexpected error occurred; it has been logged.")


async def _error_response(request: Request, exc: Exception) -> Response:
    info = _describe(request, exc)
    if isinstance(info, Response):
        return info
    context = {"status": info.status, "title": info.title, "message": info.message}
    if info.status < 500 and session_token(request) is not None:
        try:  # signed in: the error page keeps the navigation
            return await page_call(request, lambda ctx: ctx.render("error.html", context, status=info.status))
        except Exception:  # noqa: S110 - no valid session after all: the plain error page below
            pass
    return render(request, "error.html", context, status=info.status)


class PageRoute(APIRoute):
    """A route whose errors become HTML pages and whose responses carry the dashboard's security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except Exception as exc:
                try:
                    response = await _error_response(request, exc)
                except Exception:  # the error page itself failed: still no JSON envelope, no traceback
                    log.exception("error page failed on %s", request.url.path)
                    response = HTMLResponse("<h1>Something went wrong</h1>", status_code=500)
            security_headers(response)
            return response

        return handler


# -- the signed-in context -----------------------------------------------------------------------------


@dataclass(slots=True)
class PageContext:
    """What a signed-in page runs with, inside one transaction."""

    request: Request
    session: Session
    runtime: Runtime
    account: Account
    web_session: DashboardSession
    csrf: str
    extra: dict[str, Any] = field(default_factory=dict)

    def render(self, template: str, context: Mapping[str, Any], *, nav: str = "", status: int = 200) -> HTMLResponse:
        return render(
            self.request, template, {"account": self.account, "csrf": self.csrf, "nav": nav, **context}, status=status
        )


def session_token(request: Request) -> SessionToken | None:
    return parse_session_cookie(runtime(request).keys, request.cookies.get(SESSION_COOKIE))


async def page_call(request: Request, fn: Callable[[PageContext], T], *, write: bool = False) -> T:
    """Resolve the session cookie to its account and run ``fn`` in one transaction (``in_uow``)."""
    token = session_token(request)
    if token is None:
        raise SignInRequired()
    rt = runtime(request)

    def run(session: Session) -> T:
        row = accounts.session_by_lookup(session, token.lookup, utcnow())
        if row is None:
            raise SignInRequired()
        return fn(PageContext(request, session, rt, row.account, row, csrf_token(rt.keys, token.lookup)))

    return await in_uow(request, run, write=write)


async def form_fields(request: Request) -> dict[str, str]:
    """The text fields of a submitted form (files are ignored: no dashboard form uploads one)."""
    form = await request.form()
    try:
        fields = {k: v for k, v in form.multi_items() if not isinstance(v, UploadFile)}
    finally:
        await form.close()
    found = bad_text(fields)
    if found is not None:
        name, why = found
        raise BadRequest(f"{name} {why}.")
    return fields


async def signed_form(request: Request) -> dict[str, str]:
    """The fields of a form posted from a signed-in page, after checking its CSRF token."""
    token = session_token(request)
    if token is None:
        raise SignInRequired()
    fields = await form_fields(request)
    if not check_csrf(runtime(request).keys, token.lookup, fields.get(CSRF_FIELD)):
        raise CsrfRefused()
    return fields
