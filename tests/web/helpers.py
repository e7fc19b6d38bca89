"""Plain-HTTP helpers for dashboard tests that need no browser: a cookie-keeping client and sign-in."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from tests.conftest import AccountInfo

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    set_cookies: list[str]
    text: str

    @property
    def csrf(self) -> str:
        found = CSRF.search(self.text)
        assert found, "no CSRF token on the page"
        return found.group(1)


@dataclass
class Client:
    """Keeps cookies, does not follow redirects (tests look at them)."""

    base: str
    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def _open(self, req: urllib.request.Request) -> Reply:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        try:
            resp = opener.open(req, timeout=30)
        except urllib.error.HTTPError as err:
            resp = err
        body = resp.read().decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in resp.headers.items()}
        return Reply(resp.status, headers, resp.headers.get_all("set-cookie") or [], body)

    def get(self, path: str) -> Reply:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> Reply:
        data = urllib.parse.urlencode(fields).encode()
        return self._open(urllib.request.Request(self.base + path, data=data, headers=headers or {}, method="POST"))

    def post_raw(self, path: str, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> Reply:
        h = {"content-type": content_type, **(headers or {})}
        return self._open(urllib.request.Request(self.base + path, data=body, headers=h, method="POST"))

    def sign_in(self, account: AccountInfo, password: str | None = None) -> Reply:
        token = self.get("/login").csrf
        return self.post(
            "/login", {"csrf_token": token, "email": account.email, "password": password or account.password}
        )
