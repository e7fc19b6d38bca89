"""The SSRF guard for every outbound fetch Paraph makes on a user's behalf (callbacks, later file_urls).

A URL is checked twice: its syntax when it is saved (:func:`validate_url`), and its addresses when a socket is
about to open (:func:`check_destination`, :class:`GuardedResolver`). The connection then goes to the very
addresses that were checked (:class:`PinnedResolver`, or the guarded resolver on a connector), never to a
second DNS answer, so DNS rebinding cannot slip a private address past the check. TLS SNI and the Host header
keep the original host name because aiohttp only swaps the address it dials.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol
from urllib.parse import SplitResult, urlsplit, urlunsplit

from aiohttp.abc import AbstractResolver, ResolveResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}

# Refused even when private destinations are allowed (local development): these are never a receiver.
_CLOUD_METADATA = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})

_V4_BLOCKED = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
    )
)
_V6_BLOCKED = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # unspecified, loopback, deprecated IPv4-compatible
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UrlRefused(Exception):
    """A URL Paraph will not fetch. The message is fit for an API error; the caller picks ``error_path``.

    ``transient`` is True only when the refusal may go away by itself (the host name did not resolve)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


# -- syntax --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParsedUrl:
    url: str  # normalized
    scheme: str
    host: str  # lowercase, IDNA (ASCII), no brackets, no trailing dot
    port: int
    literal: IPAddress | None  # the address when the host is an IP literal


def _host_name(raw: str) -> str:
    host = raw.rstrip(".") if raw.endswith(".") and not raw.endswith("..") else raw
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UrlRefused("The URL's host name is not a valid domain name.") from None
    host = host.lower()
    labels = host.split(".")
    if len(host) > 253 or any(not 0 < len(label) <= 63 for label in labels):
        raise UrlRefused("The URL's host name is not a valid domain name.")
    for label in labels:
        if label.startswith("-") or label.endswith("-") or not all(c.isalnum() or c in "-_" for c in label):
            raise UrlRefused("The URL's host name is not a valid domain name.")
    last = labels[-1]
    if last.isdigit() or last.startswith("0x"):
        # 127.1, 2130706433, 0x7f.1: legacy numeric IPv4 spellings that resolvers turn into addresses.
        raise UrlRefused("The URL's host must be a domain name or a standard IP address.")
    return host


def _parse(url: str) -> ParsedUrl:
    if not isinstance(url, str) or not url.strip():
        raise UrlRefused("The URL is empty.")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise UrlRefused("The URL contains whitespace or control characters.")
    if "\\" in url:
        raise UrlRefused("The URL contains a backslash.")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UrlRefused("The URL is not valid.") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UrlRefused("The URL must start with https:// (or http://).")
    if not parts.netloc:
        raise UrlRefused("The URL has no host.")
    if "@" in parts.netloc:
        raise UrlRefused("The URL must not contain a user name or password.")
    try:
        explicit_port = parts.port
    except ValueError:
        raise UrlRefused("The URL's port is not valid.") from None
    if explicit_port == 0:
        raise UrlRefused("The URL's port is not valid.")
    raw_host = parts.hostname  # lowercased, brackets removed
    if not raw_host:
        raise UrlRefused("The URL has no host.")
    literal: IPAddress | None = None
    bracketed = parts.netloc.startswith("[")
    if bracketed:
        if "%" in raw_host:
            raise UrlRefused("The URL's IPv6 address must not carry a zone.")
        try:
            literal = ipaddress.IPv6Address(raw_host)
        except ValueError:
            raise UrlRefused("The URL's IPv6 address is not valid.") from None
        host = literal.compressed
    else:
        try:
            literal = ipaddress.IPv4Address(raw_host)
            host = str(literal)
        except ValueError:
            host = _host_name(raw_host)
    port = explicit_port or DEFAULT_PORTS[scheme]
    netloc = f"[{host}]" if bracketed else host
    if explicit_port is not None:
        netloc += f":{explicit_port}"
    normalized = urlunsplit(SplitResult(scheme, netloc, parts.path, parts.query, ""))
    if url.endswith("?") and not parts.query:
        normalized += "?"
    return ParsedUrl(normalized, scheme, host, port, literal)


def _is_localhost_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


@lru_cache(maxsize=4096)
def parse_url(url: str, *, allow_private: bool, require_https: bool) -> ParsedUrl:
    """:func:`validate_url`, keeping the parts; cached because the sender calls it for every POST."""
    parsed = _parse(url)
    if require_https and parsed.scheme != "https":
        raise UrlRefused("The URL must use https.")
    if not allow_private and _is_localhost_name(parsed.host):
        raise UrlRefused("The URL's host is localhost; it must be reachable from the internet.")
    if parsed.literal is not None and not _allowed(parsed.literal, allow_private):
        raise UrlRefused("The URL's host is not a public address.")
    return parsed


def validate_url(url: str, *, allow_private: bool, require_https: bool) -> str:
    """Check a URL without any network traffic and return it normalized (scheme and host lowercased, the host
    IDNA-encoded, a trailing dot and the fragment dropped). Refuses: anything but http/https, https when
    required, no host, user info, a bad port, more than 2048 characters, and (unless ``allow_private``)
    ``localhost`` or a literal non-public IP address."""
    return parse_url(url, allow_private=allow_private, require_https=require_https).url


# -- addresses -----------------------------------------------------------------------------------------


def _v4_is_public(ip: ipaddress.IPv4Address) -> bool:
    return ip.is_global and not any(ip in net for net in _V4_BLOCKED)


def is_public_address(ip: IPAddress) -> bool:
    """True when ``ip`` is a unicast address on the public internet. IPv6 forms that carry an IPv4 address
    (IPv4-mapped, 6to4, Teredo, NAT64) are judged by the IPv4 address they lead to."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _v4_is_public(ip)
    if ip.ipv4_mapped is not None:
        return _v4_is_public(ip.ipv4_mapped)
    if ip.sixtofour is not None and not _v4_is_public(ip.sixtofour):
        return False
    if ip.teredo is not None and not all(_v4_is_public(v4) for v4 in ip.teredo):
        return False
    if ip in _NAT64:
        return _v4_is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if any(ip in net for net in _V6_BLOCKED):
        return False
    return ip.is_global


def _allowed(ip: IPAddress, allow_private: bool) -> bool:
    if ip in _CLOUD_METADATA or ip.is_multicast or ip.is_unspecified:
        return False
    return allow_private or is_public_address(ip)


def check_addresses(host: str, addresses: Iterable[str], *, allow_private: bool) -> list[str]:
    """The addresses a host resolved to, if every one of them may be connected to; else :class:`UrlRefused`.
    One private address among public ones refuses the lot: the connection could land on any of them."""
    out: list[str] = []
    for a in addresses:
        try:
            ip = ipaddress.ip_address(a)
        except ValueError:
            raise UrlRefused(f"The host {host} resolved to something that is not an IP address.") from None
        if not _allowed(ip, allow_private):
            raise UrlRefused(f"The host {host} resolves to a non-public address ({ip}).")
        if a not in out:
            out.append(a)
    if not out:
        raise UrlRefused(f"The host {host} has no address.", transient=True)
    return out


# -- resolution ----------------------------------------------------------------------------------------


class Resolver(Protocol):
    """Turns a host name into IP address strings; raises OSError when it cannot. Tests pass a stub."""

    async def resolve(self, host: str, port: int) -> list[str]: ...


class SystemResolver:
    """The operating system's resolver (getaddrinfo in a thread, like aiohttp's default)."""

    async def resolve(self, host: str, port: int) -> list[str]:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_ADDRCONFIG
        )
        out: list[str] = []
        for family, _type, _proto, _canon, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            addr = str(sockaddr[0])
            if addr not in out:
                out.append(addr)
        return out


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    url: str
    host: str
    port: int
    addresses: list[str]


async def _resolve_checked(resolver: Resolver, host: str, port: int, *, allow_private: bool) -> list[str]:
    try:
        answer = await resolver.resolve(host, port)
    except OSError as exc:
        raise UrlRefused(f"The host {host} could not be resolved.", transient=True) from exc
    return check_addresses(host, answer, allow_private=allow_private)


async def check_destination(url: str, *, allow_private: bool, resolver: Resolver) -> ResolvedTarget:
    """Resolve the URL's host and refuse it unless every address may be connected to. Connect afterwards
    through :class:`PinnedResolver` with ``addresses`` so the socket goes where the check looked.
    https is not required here: that is a save-time rule (:func:`validate_url`)."""
    parsed = parse_url(url, allow_private=allow_private, require_https=False)
    if parsed.literal is not None:
        addresses = check_addresses(parsed.host, [str(parsed.literal)], allow_private=allow_private)
    else:
        addresses = await _resolve_checked(resolver, parsed.host, parsed.port, allow_private=allow_private)
    return ResolvedTarget(parsed.url, parsed.host, parsed.port, addresses)


def _results(host: str, port: int, addresses: Iterable[str]) -> list[ResolveResult]:
    return [
        ResolveResult(
            hostname=host,
            host=a,
            port=port,
            family=socket.AF_INET6 if ":" in a else socket.AF_INET,
            proto=socket.IPPROTO_TCP,
            flags=socket.AI_NUMERICHOST,
        )
        for a in addresses
    ]


class PinnedResolver(AbstractResolver):
    """An aiohttp resolver that answers every name with addresses already checked, for a one-off fetch:
    ``TCPConnector(resolver=PinnedResolver(target.addresses), use_dns_cache=False)``."""

    def __init__(self, addresses: Iterable[str]) -> None:
        self.addresses = list(addresses)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        return _results(host, port, self.addresses)

    async def close(self) -> None:
        return None


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that checks every answer before handing it to the connector, for a long-lived
    connector shared by many destinations. The connector dials exactly what was checked, and its DNS cache
    (``ttl_dns_cache``) keeps checked answers only, so the fast path costs nothing extra.

    Raises :class:`UrlRefused` for a non-public answer (aiohttp lets it through unchanged) and OSError when
    the name does not resolve (aiohttp wraps it in ``ClientConnectorDNSError``). IP-literal hosts never reach
    a resolver in aiohttp: check those with :func:`parse_url` first."""

    def __init__(self, resolver: Resolver, *, allow_private: bool) -> None:
        self.resolver = resolver
        self.allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        if not self.allow_private and _is_localhost_name(host.rstrip(".").lower()):
            raise UrlRefused("The URL's host is localhost; it must be reachable from the internet.")
        answer = await self.resolver.resolve(host, port)
        return _results(host, port, check_addresses(host, answer, allow_private=self.allow_private))

    async def close(self) -> None:
        return None
