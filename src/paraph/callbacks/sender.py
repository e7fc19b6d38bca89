"""One callback delivery attempt over HTTP, judged the way Dropbox Sign judges it.

Success is status 200 with ``Hello API Event Received`` somewhere in the body (a JSON-quoted string counts).
Everything else is a failure described in words a developer can act on; nothing network-related raises.

Speed: one :class:`aiohttp.ClientSession` and one connector serve every destination, with keep-alive. The SSRF
guard runs inside the connector's resolver (:class:`GuardedResolver`), so it runs only when a new connection
needs a DNS answer, the connector's DNS cache holds checked answers only, and a pooled connection is reused
without any extra work. IP-literal URLs, which aiohttp never resolves, are checked from the URL itself.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import aiohttp

from paraph.outbound.guard import GuardedResolver, Resolver, SystemResolver, UrlRefused, parse_url

ACK = b"Hello API Event Received"
EXCERPT_BYTES = 2048
READ_LIMIT = 64 * 1024  # enough to find the acknowledgement in any sane answer; the rest is not read
DEFAULT_TIMEOUT = 30.0  # seconds, as Dropbox Sign


def _user_agent() -> str:
    try:
        v = version("paraph")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        v = "0"
    return f"Paraph-Callbacks/{v}"


USER_AGENT = _user_agent()


@dataclass(slots=True)
class AttemptResult:
    """What one attempt did. ``transient`` tells the caller whether retrying later may help: a refused or
    malformed URL will not get better by itself; a timeout, a connection error or a wrong answer may."""

    ok: bool
    status_code: int | None
    latency_ms: int
    body_excerpt: str
    error: str | None
    transient: bool


def _excerpt(data: bytes) -> str:
    # Lenient: invalid UTF-8 becomes U+FFFD; NUL is replaced as PostgreSQL text cannot hold it.
    return data[:EXCERPT_BYTES].decode("utf-8", errors="replace").replace("\x00", "\ufffd")


async def _read_some(content: aiohttp.StreamReader, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of the body, and whether that was all of it."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await content.read(limit - size)
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
        if content.at_eof():  # the whole answer is in: no second read just to learn it ended
            break
    return b"".join(chunks), content.at_eof()


def _describe(exc: BaseException) -> str:
    inner = getattr(exc, "os_error", None) or exc.__cause__ or exc
    text = str(inner).strip() or type(inner).__name__
    return text[:500]


class CallbackSender:
    """Posts callback bodies. Create one per worker and share it: it holds the connection pool.

    ``allow_private`` lets callbacks reach loopback and private addresses (local development);
    ``require_https`` defaults to its opposite. ``limit`` caps simultaneous connections; ``dns_ttl`` is how
    long (seconds) a checked DNS answer is reused, 0 for never. ``ssl_context`` replaces the default
    certificate checks (a private CA); verification itself is never turned off."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        allow_private: bool = False,
        resolver: Resolver | None = None,
        require_https: bool | None = None,
        limit: int = 100,
        limit_per_host: int = 0,
        dns_ttl: int = 10,
        user_agent: str = USER_AGENT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        self.require_https = (not allow_private) if require_https is None else require_https
        self.resolver: Resolver = resolver if resolver is not None else SystemResolver()
        self.limit = limit
        self.limit_per_host = limit_per_host
        self.dns_ttl = dns_ttl
        self.user_agent = user_agent
        self.ssl_context = ssl_context
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is not None and not self._session.closed:
            if self._loop is not loop:
                raise RuntimeError("a CallbackSender is bound to the event loop that first used it")
            return self._session
        connector = aiohttp.TCPConnector(
            limit=self.limit,
            limit_per_host=self.limit_per_host,
            resolver=GuardedResolver(self.resolver, allow_private=self.allow_private),
            use_dns_cache=self.dns_ttl > 0,  # aiohttp's ttl None would keep answers forever
            ttl_dns_cache=max(1, self.dns_ttl),
            ssl=self.ssl_context if self.ssl_context is not None else True,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            headers={"User-Agent": self.user_agent},
            # No compressed answers: the excerpt and the 64 KB read limit then count real bytes, and a
            # compression bomb has nothing to inflate.
            skip_auto_headers=("Accept-Encoding",),
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),  # one receiver's cookies never reach another
            trust_env=False,  # no proxy from the environment: the guard must see the real destination
            raise_for_status=False,
        )
        self._loop = loop
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            self._loop = None

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> AttemptResult:
        """One attempt: POST ``body`` with ``headers`` to ``url``, never following redirects."""
        started = time.monotonic()

        def fail(error: str, *, transient: bool) -> AttemptResult:
            one_line = " ".join(error.split())[:600]
            return AttemptResult(False, None, _elapsed_ms(started), "", one_line, transient)

        try:
            parsed = parse_url(url, allow_private=self.allow_private, require_https=self.require_https)
        except UrlRefused as exc:
            return fail(f"refused: {exc.message}", transient=exc.transient)
        session = self._get_session()
        try:
            async with session.post(parsed.url, data=body, headers=headers, allow_redirects=False) as resp:
                data, complete = await _read_some(resp.content, READ_LIMIT)
                if not complete:
                    resp.close()  # the rest is unread: this connection cannot be reused
                status = resp.status
                location = resp.headers.get("Location", "")
        except UrlRefused as exc:
            return fail(f"refused: {exc.message}", transient=exc.transient)
        except TimeoutError:
            return fail(f"timed out after {self.timeout:g} s", transient=True)
        except aiohttp.ClientConnectorDNSError as exc:
            return fail(f"could not resolve {parsed.host}: {_describe(exc)}", transient=True)
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError) as exc:
            return fail(f"TLS error with {parsed.host}:{parsed.port}: {_describe(exc)}", transient=True)
        except aiohttp.ClientConnectorError as exc:
            return fail(f"could not connect to {parsed.host}:{parsed.port}: {_describe(exc)}", transient=True)
        except aiohttp.InvalidURL as exc:
            return fail(f"invalid URL: {_describe(exc)}", transient=False)
        except aiohttp.ServerDisconnectedError:
            return fail("the receiver closed the connection without answering", transient=True)
        except aiohttp.ClientResponseError as exc:
            return fail(f"invalid HTTP answer: {exc.message or _describe(exc)}", transient=True)
        except (aiohttp.ClientError, OSError) as exc:
            return fail(f"connection error: {_describe(exc)}", transient=True)

        excerpt = _excerpt(data)
        latency = _elapsed_ms(started)
        if 300 <= status < 400:
            where = f" to {location[:300]}" if location else ""
            error = f"HTTP {status}{where}: redirects are not followed"
        elif status != 200:
            error = f"HTTP {status}"
        elif ACK not in data:
            error = 'HTTP 200 but the body does not contain "Hello API Event Received"'
        else:
            return AttemptResult(True, status, latency, excerpt, None, False)
        return AttemptResult(False, status, latency, excerpt, error, True)


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
