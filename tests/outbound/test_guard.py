"""The SSRF guard: a decision table over URLs and DNS answers (stub resolver, no DNS traffic), and proof on a
loopback server that the connection goes to the checked address with the original Host."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web

from paraph.outbound.guard import (
    GuardedResolver,
    PinnedResolver,
    ResolvedTarget,
    SystemResolver,
    UrlRefused,
    check_destination,
    is_public_address,
    validate_url,
)
from tests.stubs import StubResolver

# -- validate_url ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("https://example.com/callback", "https://example.com/callback"),
        ("https://example.com:8443/cb?a=1&b=2", "https://example.com:8443/cb?a=1&b=2"),
        ("  HTTPS://Hooks.Example.COM/Path/Ok#fragment ", "https://hooks.example.com/Path/Ok"),
        ("https://example.com./cb", "https://example.com/cb"),
        ("https://bücher.example/cb", "https://xn--bcher-kva.example/cb"),
        ("https://93.184.216.34/cb", "https://93.184.216.34/cb"),
        ("https://[2606:4700:4700:0::1111]/cb", "https://[2606:4700:4700::1111]/cb"),
        ("https://example.com", "https://example.com"),
    ],
)
def test_it_accepts_and_normalizes_public_https_urls(url: str, normalized: str) -> None:
    assert validate_url(url, allow_private=False, require_https=True) == normalized


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://example.com/cb", "https"),
        ("ftp://example.com/cb", "https://"),
        ("example.com/cb", "https://"),
        ("", "empty"),
        ("https:///cb", "no host"),
        ("https://user:pw@example.com/cb", "user name or password"),
        ("https://user@example.com/cb", "user name or password"),
        ("https://example.com:0/cb", "port"),
        ("https://example.com:70000/cb", "port"),
        ("https://example.com:http/cb", "port"),
        ("https://example.com/" + "a" * 2048, "2048"),
        ("https://exa mple.com/cb", "whitespace"),
        ("https://example.com/c\nb", "whitespace"),
        ("https://exa_mple!.com/cb", "domain name"),
        ("https://-bad-.example.com/cb", "domain name"),
        ("https://localhost/cb", "localhost"),
        ("https://LOCALHOST./cb", "localhost"),
        ("https://api.localhost/cb", "localhost"),
        ("https://127.0.0.1/cb", "public"),
        ("https://10.1.2.3/cb", "public"),
        ("https://192.168.0.10:8443/cb", "public"),
        ("https://[::1]/cb", "public"),
        ("https://[::ffff:127.0.0.1]/cb", "public"),
        ("https://[fe80::1%25eth0]/cb", "zone"),
        ("https://169.254.169.254/latest/meta-data", "public"),
        ("https://2130706433/cb", "standard IP"),
        ("https://127.1/cb", "standard IP"),
        ("https://0x7f.0.0.1/cb", "standard IP"),
    ],
)
def test_it_refuses_urls_that_are_malformed_or_private(url: str, why: str) -> None:
    with pytest.raises(UrlRefused, match=why):
        validate_url(url, allow_private=False, require_https=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8080/cb",
        "http://127.0.0.1:5000/cb",
        "http://[::1]:5000/",
        "http://192.168.1.20/hook",
    ],
)
def test_it_accepts_http_and_private_hosts_when_allowed(url: str) -> None:
    assert validate_url(url, allow_private=True, require_https=False) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data",
        "http://2130706433/",
        "http://0.0.0.0:8000/",
        "http://[::]/",
    ],
)
def test_it_refuses_the_metadata_address_and_numeric_hosts_even_when_private_is_allowed(url: str) -> None:
    with pytest.raises(UrlRefused):
        validate_url(url, allow_private=True, require_https=False)


def test_it_refuses_with_a_message_fit_for_an_api_error() -> None:
    with pytest.raises(UrlRefused) as info:
        validate_url("https://localhost/cb", allow_private=False, require_https=True)
    assert str(info.value) == info.value.message
    assert str(info.value)[0].isupper() and str(info.value).endswith(".")
    assert not info.value.transient


# -- is_public_address -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "8.8.8.8",
        "2606:4700:4700::1111",
        "::ffff:93.184.216.34",  # IPv4-mapped public
        "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
        "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
    ],
)
def test_it_treats_internet_addresses_as_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",  # CGNAT
        "169.254.169.254",  # cloud metadata
        "169.254.10.10",
        "0.0.0.0",
        "0.1.2.3",
        "192.0.0.8",
        "192.0.2.1",
        "198.18.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::127.0.0.1",  # IPv4-compatible (deprecated)
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "fe80::1",
        "fc00::1",
        "fd12:3456:789a::1",
        "fec0::1",
        "ff02::1",
        "2001:db8::1",
        "100::1",
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::1",  # local-use NAT64
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo (client 192.0.2.45)
    ],
)
def test_it_treats_private_and_special_addresses_as_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


# -- check_destination with a stub resolver --------------------------------------------------------------


STUB_TABLE = {
    "public.example.com": ["93.184.216.34"],
    "v6.example.com": ["2606:4700:4700::1111", "93.184.216.34"],
    "private.example.com": ["10.0.0.5"],
    "loopback.example.com": ["127.0.0.1"],
    "mixed.example.com": ["93.184.216.34", "10.0.0.5"],
    "mapped.example.com": ["::ffff:10.0.0.5"],
    "sixtofour.example.com": ["2002:c0a8:101::1"],
    "ula.example.com": ["fd00::5"],
    "metadata.example.com": ["169.254.169.254"],
    "cgnat.example.com": ["100.100.100.100"],
    "empty.example.com": [],
}


def check(url: str, *, allow_private: bool = False, stub: StubResolver | None = None) -> ResolvedTarget:
    return asyncio.run(check_destination(url, allow_private=allow_private, resolver=stub or StubResolver(STUB_TABLE)))


@pytest.mark.parametrize(
    ("url", "addresses"),
    [
        ("https://public.example.com/cb", ["93.184.216.34"]),
        ("https://v6.example.com/cb", ["2606:4700:4700::1111", "93.184.216.34"]),
        ("https://93.184.216.34:8443/cb", ["93.184.216.34"]),
    ],
)
def test_it_lets_a_destination_through_when_every_address_is_public(url: str, addresses: list[str]) -> None:
    target = check(url)
    assert target.addresses == addresses
    assert target.url == url


def test_it_reports_the_host_and_default_port() -> None:
    target = check("https://Public.Example.com/cb")
    assert (target.host, target.port, target.url) == (
        "public.example.com",
        443,
        "https://public.example.com/cb",
    )
    assert check("http://public.example.com/cb").port == 80


@pytest.mark.parametrize(
    "host",
    [
        "private.example.com",
        "loopback.example.com",
        "mixed.example.com",
        "mapped.example.com",
        "sixtofour.example.com",
        "ula.example.com",
        "metadata.example.com",
        "cgnat.example.com",
    ],
)
def test_it_refuses_a_name_that_resolves_to_any_non_public_address(host: str) -> None:
    with pytest.raises(UrlRefused, match="non-public address") as info:
        check(f"https://{host}/cb")
    assert not info.value.transient


@pytest.mark.parametrize(
    "host", ["private.example.com", "loopback.example.com", "mixed.example.com", "ula.example.com"]
)
def test_it_lets_private_names_through_when_allowed(host: str) -> None:
    assert check(f"http://{host}/cb", allow_private=True).addresses == STUB_TABLE[host]


def test_it_refuses_the_metadata_address_even_when_private_is_allowed() -> None:
    with pytest.raises(UrlRefused):
        check("http://metadata.example.com/cb", allow_private=True)
    with pytest.raises(UrlRefused):
        check("http://169.254.169.254/cb", allow_private=True)


@pytest.mark.parametrize("url", ["https://localhost/cb", "https://10.0.0.1/cb", "https://[::1]:8443/cb"])
def test_it_refuses_localhost_and_raw_private_ips_without_asking_dns(url: str) -> None:
    stub = StubResolver(STUB_TABLE)
    with pytest.raises(UrlRefused):
        check(url, stub=stub)
    assert stub.asked == []


def test_it_accepts_localhost_when_private_is_allowed() -> None:
    assert check("http://localhost:8080/cb", allow_private=True).addresses == ["127.0.0.1"]


def test_it_refuses_a_name_that_does_not_resolve_as_a_transient_refusal() -> None:
    with pytest.raises(UrlRefused, match="could not be resolved") as info:
        check("https://nowhere.example.org/cb")
    assert info.value.transient
    with pytest.raises(UrlRefused, match="no address"):
        check("https://empty.example.com/cb")


def test_it_leaves_https_to_validate_url_and_refuses_userinfo_at_connect_time() -> None:
    with pytest.raises(UrlRefused, match="https"):
        validate_url("http://public.example.com/cb", allow_private=False, require_https=True)
    assert check("http://public.example.com/cb").addresses == ["93.184.216.34"]
    with pytest.raises(UrlRefused, match="user name"):
        check("https://u:p@public.example.com/cb")


def test_it_resolves_with_the_system_resolver_without_dns_traffic() -> None:
    """localhost comes from the hosts file and an IP literal from itself: no DNS packet is sent."""
    assert asyncio.run(SystemResolver().resolve("127.0.0.1", 80)) == ["127.0.0.1"]
    local = asyncio.run(SystemResolver().resolve("localhost", 80))
    assert local and all(ipaddress.ip_address(a).is_loopback for a in local)


# -- pinning, on a loopback server -----------------------------------------------------------------------


@asynccontextmanager
async def loopback_server() -> AsyncIterator[tuple[int, list[web.Request]]]:
    seen: list[web.Request] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request)
        return web.Response(text="Hello API Event Received")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield port, seen
    finally:
        await runner.cleanup()


def test_it_connects_to_the_checked_address_with_the_original_host_name() -> None:
    async def main() -> None:
        async with loopback_server() as (port, seen):
            stub = StubResolver({"callback.test": ["127.0.0.1"]})
            target = await check_destination(f"http://callback.test:{port}/cb", allow_private=True, resolver=stub)
            assert target.addresses == ["127.0.0.1"]
            # DNS now answers differently (a rebinding attempt: nothing listens on 127.0.0.2); the pinned
            # connection still goes where the check looked, without asking again.
            stub.table["callback.test"] = ["127.0.0.2"]
            connector = aiohttp.TCPConnector(resolver=PinnedResolver(target.addresses), use_dns_cache=False)
            async with (
                aiohttp.ClientSession(connector=connector) as session,
                session.post(target.url, data=b"x") as resp,
            ):
                assert resp.status == 200
            assert stub.asked == ["callback.test"]
            assert [r.headers["Host"] for r in seen] == [f"callback.test:{port}"]

    asyncio.run(main())


def test_it_refuses_inside_the_connector_before_any_connection() -> None:
    async def main() -> None:
        async with loopback_server() as (port, seen):
            stub = StubResolver({"callback.test": ["127.0.0.1"]})
            connector = aiohttp.TCPConnector(resolver=GuardedResolver(stub, allow_private=False))
            async with aiohttp.ClientSession(connector=connector) as session:
                with pytest.raises(UrlRefused, match="non-public"):
                    await session.post(f"http://callback.test:{port}/cb", data=b"x")
            assert seen == []
            assert stub.asked == ["callback.test"]

    asyncio.run(main())
