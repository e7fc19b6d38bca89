"""Dashboard sign-in state: session cookies, CSRF tokens and the failed-login throttle.

Sessions are server-side rows (:class:`paraph.models.DashboardSession`), not self-contained signed tokens: a
row can be deleted, so signing out ends the session everywhere the cookie was copied to, and a future
"sign out all sessions" is one DELETE. The cookie is ``<token>.<mac>``: the MAC (KeyBox.sign) lets a forged or
garbled cookie be refused without a database read; the row stores only a keyed digest of the token.

CSRF tokens are derived, not stored: ``sign("csrf:" + session digest)``. Every form of a session carries the
same token; an attacker's page can neither read it (same-origin policy) nor compute it (no secret key). The
sign-in form, used before any session exists, is bound to a random pre-session cookie the same way.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from dataclasses import dataclass

from paraph.security import KeyBox, new_token

SESSION_COOKIE = "paraph_session"
LOGIN_COOKIE = "paraph_login"
SESSION_LIFETIME = dt.timedelta(days=7)
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True, slots=True)
class SessionToken:
    """A session's secret token and the digest its row is found by."""

    token: str
    lookup: str

    def cookie_value(self, keys: KeyBox) -> str:
        return f"{self.token}.{keys.sign('session:' + self.token)}"


def new_session_token(keys: KeyBox) -> SessionToken:
    token = new_token()
    return SessionToken(token, keys.lookup("session:" + token))


def parse_session_cookie(keys: KeyBox, value: str | None) -> SessionToken | None:
    """The token in a session cookie, or None when the cookie is missing or its MAC does not match."""
    if not value or value.count(".") != 1:
        return None
    token, mac = value.split(".")
    if not token or len(token) > 100 or not keys.verify("session:" + token, mac):
        return None
    return SessionToken(token, keys.lookup("session:" + token))


def csrf_token(keys: KeyBox, lookup: str) -> str:
    return keys.sign("csrf:" + lookup)


def login_csrf_token(keys: KeyBox, login_cookie: str) -> str:
    return keys.sign("login-csrf:" + login_cookie)


def check_csrf(keys: KeyBox, expected_for: str, presented: str | None, *, login: bool = False) -> bool:
    if not presented:
        return False
    if login:
        return keys.verify("login-csrf:" + expected_for, presented)
    return keys.verify("csrf:" + expected_for, presented)


class LoginThrottle:
    """Failed sign-ins per (email, IP): after ``limit`` failures within ``window`` seconds, further attempts
    for that pair are refused without checking the password until the oldest failure ages out.

    Kept in memory, per process: a restart forgets it, and several server processes each count on their
    own. That bounds online guessing well enough for a self-hosted dashboard (argon2 makes each guess slow
    too); a shared store would be the next step for a multi-process deployment."""

    def __init__(self, limit: int = 5, window: float = 15 * 60, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(email: str, ip: str | None) -> tuple[str, str]:
        return (email.strip().lower(), ip or "?")

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._failures.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            del self._failures[key]
        return q

    def retry_after(self, key: tuple[str, str], now: float | None = None) -> int:
        """Seconds until ``key`` may try again; 0 when it may try now."""
        now = time.time() if now is None else now
        with self._lock:
            q = self._recent(key, now)
            if len(q) < self.limit:
                return 0
            return max(1, int(q[-self.limit] + self.window - now) + 1)

    def failed(self, key: tuple[str, str], now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            if len(self._failures) >= self.max_keys:
                for k in list(self._failures):
                    self._recent(k, now)
            if len(self._failures) >= self.max_keys:  # still full of live entries: forget the oldest
                oldest = min(self._failures, key=lambda k: self._failures[k][-1])
                del self._failures[oldest]
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)
