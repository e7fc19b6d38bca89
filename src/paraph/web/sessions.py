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
from collections import OrderedDict, deque
from collections.abc import Hashable
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


class _FailureTable:
    """The recent failure times per key, at most ``limit`` each (only the ``limit``-th newest matters), in at
    most ``max_keys`` entries. When full, an entry that throttles nothing (fewer than ``limit`` failures) is
    forgotten first, the least recently failed of them; an entry that throttles is forgotten only when every
    entry throttles. A flood of distinct one-off failures so never pushes out a throttled key, and each
    failure costs O(1)."""

    def __init__(self, limit: int, window: float, max_keys: int) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._light: OrderedDict[Hashable, deque[float]] = OrderedDict()  # fewer than limit failures
        self._heavy: OrderedDict[Hashable, deque[float]] = OrderedDict()  # throttling (until they age out)

    def __len__(self) -> int:
        return len(self._light) + len(self._heavy)

    def retry_after(self, key: Hashable, now: float) -> int:
        q = self._light.get(key) or self._heavy.get(key)
        if q is None:
            return 0
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            self.forget(key)
        if len(q) < self.limit:
            if self._heavy.pop(key, None) is not None:  # aged below the limit: forgettable again
                self._light[key] = q
            return 0
        return max(1, int(q[-self.limit] + self.window - now) + 1)

    def failed(self, key: Hashable, now: float) -> None:
        q = self._light.pop(key, None) or self._heavy.pop(key, None) or deque(maxlen=self.limit)
        while q and q[0] <= now - self.window:
            q.popleft()
        q.append(now)
        (self._heavy if len(q) >= self.limit else self._light)[key] = q
        while len(self) > self.max_keys:
            (self._light or self._heavy).popitem(last=False)

    def forget(self, key: Hashable) -> None:
        self._light.pop(key, None)
        self._heavy.pop(key, None)


@dataclass(frozen=True, slots=True)
class Wait:
    """A refused sign-in: seconds until it may be tried again, and whether the client's address (all emails)
    is throttled rather than one email from it."""

    seconds: int
    per_address: bool


class LoginThrottle:
    """Failed sign-ins per (email, IP) and per IP: after ``limit`` failures of one email from one IP, or
    ``ip_limit`` failures of any emails from one IP (password spraying), within ``window`` seconds, further
    attempts of that pair (or from that IP) are refused without checking the password until the failures age
    out. A success clears its pair, not its IP's count (a sprayer with one account of its own would reset it).

    Both tables are bounded (``max_keys`` each) and forget first the entries that throttle nothing, so a flood
    of distinct failures cannot make them forget the pairs or addresses they throttle.

    Kept in memory, per process: a restart forgets it, and several server processes each count on their
    own. That bounds online guessing well enough for a self-hosted dashboard (argon2 makes each guess slow
    too); a shared store would be the next step for a multi-process deployment."""

    def __init__(self, limit: int = 5, window: float = 15 * 60, max_keys: int = 10_000, ip_limit: int = 20) -> None:
        self.limit = limit
        self.ip_limit = ip_limit
        self.window = window
        self.max_keys = max_keys
        self._pairs = _FailureTable(limit, window, max_keys)
        self._ips = _FailureTable(ip_limit, window, max_keys)
        self._lock = threading.Lock()

    @staticmethod
    def key(email: str, ip: str | None) -> tuple[str, str]:
        return (email.strip().lower(), ip or "?")

    def __len__(self) -> int:
        with self._lock:
            return len(self._pairs) + len(self._ips)

    def wait(self, key: tuple[str, str], now: float | None = None) -> Wait | None:
        """Why ``key`` may not try now, or None when it may."""
        now = time.time() if now is None else now
        with self._lock:
            by_ip = self._ips.retry_after(key[1], now)
            by_pair = self._pairs.retry_after(key, now)
        if not by_ip and not by_pair:
            return None
        return Wait(max(by_ip, by_pair), per_address=by_ip >= by_pair)

    def retry_after(self, key: tuple[str, str], now: float | None = None) -> int:
        """Seconds until ``key`` may try again; 0 when it may try now."""
        found = self.wait(key, now)
        return found.seconds if found else 0

    def failed(self, key: tuple[str, str], now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            self._pairs.failed(key, now)
            self._ips.failed(key[1], now)

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._pairs.forget(key)
