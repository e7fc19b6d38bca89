"""Downloading ``file_urls`` through the same outbound guard as callbacks.

Every hop is checked before a socket opens (:func:`check_destination`) and the connection goes to exactly the
addresses that were checked (:class:`PinnedResolver`); redirects are followed by hand so each new location is
validated and checked the same way. The body is read up to the size limit and no further.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urljoin

import aiohttp

from paraph.callbacks.sender import USER_AGENT
from paraph.outbound.guard import PinnedResolver, Resolver, UrlRefused, check_destination, validate_url

MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


class FetchError(Exception):
    """The URL could not be downloaded; ``message`` is fit for ``event_message``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    allow_private: bool
    resolver: Resolver
    max_bytes: int
    timeout: float

    @property
    def require_https(self) -> bool:
        return not self.allow_private


def check_file_url(url: str, *, allow_private: bool) -> str:
    """Syntax check at request time (no network); raises UrlRefused."""
    return validate_url(url, allow_private=allow_private, require_https=not allow_private)


async def _get_once(url: str, policy: FetchPolicy) -> tuple[int, str | None, bytes]:
    """(status, Location, body) of one GET to checked addresses, without following redirects."""
    target = await check_destination(url, allow_private=policy.allow_private, resolver=policy.resolver)
    connector = aiohttp.TCPConnector(resolver=PinnedResolver(target.addresses), use_dns_cache=False)
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=policy.timeout),
        headers={"User-Agent": USER_AGENT},
        skip_auto_headers=("Accept-Encoding",),
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
    ) as session:
        async with session.get(target.url, allow_redirects=False) as resp:
            if resp.status in _REDIRECTS:
                return resp.status, resp.headers.get("Location"), b""
            if resp.status != 200:
                return resp.status, None, b""
            declared = resp.content_length
            if declared is not None and declared > policy.max_bytes:
                raise FetchError(f"the file is larger than the limit of {policy.max_bytes} bytes")
            body = bytearray()
            async for chunk in resp.content.iter_chunked(_CHUNK):
                body += chunk
                if len(body) > policy.max_bytes:
                    raise FetchError(f"the file is larger than the limit of {policy.max_bytes} bytes")
            return 200, None, bytes(body)


async def fetch(url: str, policy: FetchPolicy) -> bytes:
    """The body at ``url`` (redirects followed, each hop checked); raises FetchError."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        try:
            current = validate_url(current, allow_private=policy.allow_private, require_https=policy.require_https)
            status, location, body = await _get_once(current, policy)
        except UrlRefused as exc:
            raise FetchError(f"refused: {exc.message}") from None
        except TimeoutError:
            raise FetchError(f"timed out after {policy.timeout:g} s") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise FetchError(f"could not download it: {str(exc)[:300] or type(exc).__name__}") from None
        if status == 200:
            return body
        if status in _REDIRECTS and location:
            current = urljoin(current, location)
            continue
        raise FetchError(f"the server answered HTTP {status}")
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def fetch_blocking(url: str, policy: FetchPolicy) -> bytes:
    """:func:`fetch` from a thread without an event loop (a job's prepare phase)."""
    return asyncio.run(fetch(url, policy))
