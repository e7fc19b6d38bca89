"""Sign-in and sign-out (/login, /logout)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from paraph.account import sessions
from paraph.request_scope import client_ip, in_uow, runtime
from paraph.security import new_token
from paraph.web.core import (
    CsrfRefused,
    PageRoute,
    form_fields,
    page_call,
    redirect,
    render,
    session_token,
)
from paraph.web.sessions import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    LoginThrottle,
    check_csrf,
    login_csrf_token,
    new_session_token,
)

router = APIRouter(route_class=PageRoute)


def throttle(request: Request) -> LoginThrottle:
    """One throttle per app (kept on app.state), created on first use."""
    found = getattr(request.app.state, "login_throttle", None)
    if not isinstance(found, LoginThrottle):
        found = LoginThrottle()
        request.app.state.login_throttle = found
    return found


def secure_cookies(request: Request) -> bool:
    return runtime(request).settings.base_url.startswith("https://")


#: A mailed request's ``signing_url`` (``paraph.signing.access``): its page offers to sign in and come back.
_SIGNING_URL = re.compile(r"/sign/request/[0-9a-f]{40}")
#: A claim URL of ``unclaimed_draft/create`` or a dashboard edit URL (``paraph.editor``): opened signed in.
_EDITOR_URL = re.compile(r"/editor/(claim\?draft_id|template\?template_id)=[0-9a-f]{40}&token=[0-9a-f]{32}")


def safe_next(value: str | None) -> str:
    """Only a path of this dashboard, or a request's signing_url: never another origin (``//evil``,
    ``/\\evil``) after signing in."""
    if value and value.startswith("/dashboard") and "//" not in value and "\\" not in value:
        return value
    if value and (_SIGNING_URL.fullmatch(value) or _EDITOR_URL.fullmatch(value)):
        return value
    return "/dashboard"


def _login_form(
    request: Request, *, email: str = "", error: str | None = None, status: int = 200, next_path: str | None = None
) -> Response:
    keys = runtime(request).keys
    cookie = request.cookies.get(LOGIN_COOKIE)
    fresh = not cookie or len(cookie) > 100
    if fresh:
        cookie = new_token()
    assert cookie is not None
    response = render(
        request,
        "login.html",
        {
            "csrf": login_csrf_token(keys, cookie),
            "email": email,
            "error": error,
            "next": safe_next(next_path or request.query_params.get("next")),
        },
        status=status,
    )
    if fresh:
        response.set_cookie(
            LOGIN_COOKIE, cookie, httponly=True, samesite="lax", secure=secure_cookies(request), path="/login"
        )
    return response


@router.get("/login")
async def login_page(request: Request) -> Response:
    if session_token(request) is not None:
        try:
            await page_call(request, lambda ctx: None)
        except Exception:  # noqa: S110 - a stale cookie: show the form
            pass
        else:
            return redirect(safe_next(request.query_params.get("next")))
    return _login_form(request)


@router.post("/login")
async def login_submit(request: Request) -> Response:
    rt = runtime(request)
    fields = await form_fields(request)
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not check_csrf(rt.keys, cookie, fields.get(CSRF_FIELD), login=True):
        raise CsrfRefused()
    email = fields.get("email", "").strip()[:255]
    password = fields.get("password", "")[:1024]
    ip = client_ip(request)
    user_agent = (request.headers.get("user-agent") or "")[:1024] or None
    limiter = throttle(request)
    key = limiter.key(email, ip)
    wait = limiter.wait(key)
    if wait is not None:
        minutes = max(1, round(wait.seconds / 60))
        whose = "from this address" if wait.per_address else "for this email address"
        return _login_form(
            request,
            email=email,
            next_path=fields.get("next"),
            error=f"Too many failed sign-ins {whose}. Try again in about {minutes} min.",
            status=429,
        )
    token = new_session_token(rt.keys)

    old = session_token(request)

    def run(session: Session) -> bool:
        return sessions.sign_in(
            session,
            email,
            password,
            lookup=token.lookup,
            replaces=old.lookup if old is not None else None,
            lifetime=SESSION_LIFETIME,
            ip=ip,
            user_agent=user_agent,
        )

    if not await in_uow(request, run, write=True):
        limiter.failed(key)
        return _login_form(
            request,
            email=email,
            next_path=fields.get("next"),
            error="That email address and password do not match.",
            status=401,
        )
    limiter.succeeded(key)
    response = redirect(safe_next(fields.get("next")))
    response.set_cookie(
        SESSION_COOKIE,
        token.cookie_value(rt.keys),
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.get("/logout")
async def logout_page(request: Request) -> Response:
    """Signing out is a POST (a link on another site must not sign anyone out); this page offers the button."""
    return await page_call(request, lambda ctx: ctx.render("logout.html", {}))


@router.post("/logout")
async def logout_submit(request: Request) -> Response:
    token = session_token(request)
    if token is not None:
        fields = await form_fields(request)
        if not check_csrf(runtime(request).keys, token.lookup, fields.get(CSRF_FIELD)):
            raise CsrfRefused()
        await in_uow(request, lambda s: sessions.sign_out(s, token.lookup), write=True)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(request))
    return response
