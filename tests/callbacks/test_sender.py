"""One delivery attempt against a real aiohttp receiver on 127.0.0.1: what counts as delivered, and how each
failure is reported. Names ending in .test resolve to 127.0.0.1 through a stub; there is no DNS traffic."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import BodyPartReader, MultipartReader, StreamReader, web
from aiohttp.base_protocol import BaseProtocol
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from multidict import CIMultiDictProxy
from standardwebhooks.webhooks import Webhook

from paraph.callbacks.sender import AttemptResult, CallbackSender
from paraph.callbacks.webhook_signature import encode_callback_body, new_webhook_secret, standard_webhook_headers
from tests.stubs import StubResolver

ACK = "Hello API Event Received"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    form: dict[str, str]


@dataclass
class Receiver:
    url: str  # http://callback.test:<port>
    port: int
    seen: list[Seen] = field(default_factory=list)


def answer(text: str = ACK, status: int = 200, **kw: str) -> Handler:
    async def handle(_request: web.Request) -> web.Response:
        return web.Response(status=status, text=text, **kw)  # type: ignore[arg-type]

    return handle


async def parse_form(headers: CIMultiDictProxy[str], body: bytes) -> dict[str, str]:
    """aiohttp's own multipart parser over bytes already read (request.post() reads only from the socket)."""
    stream = StreamReader(BaseProtocol(asyncio.get_running_loop()), 2**16, loop=asyncio.get_running_loop())
    stream.feed_data(body)
    stream.feed_eof()
    form: dict[str, str] = {}
    async for part in MultipartReader(headers, stream):
        assert isinstance(part, BodyPartReader) and part.name is not None and part.filename is None
        form[part.name] = await part.text()
    return form


@asynccontextmanager
async def receiver(
    handler: Handler, *, ssl_context: ssl.SSLContext | None = None, record: bool = True
) -> AsyncIterator[Receiver]:
    """A loopback receiver. With ``record`` it keeps every request's raw body and form, then lets ``handler``
    answer; without, ``handler`` reads the request itself."""
    box: list[Receiver] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        if record:
            body = await request.read()
            form = await parse_form(request.headers, body)
            box[0].seen.append(Seen(request.path, dict(request.headers), body, form))
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port: int = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    box.append(Receiver(f"{'https' if ssl_context else 'http'}://callback.test:{port}", port))
    try:
        yield box[0]
    finally:
        await runner.cleanup()


def signed_body() -> tuple[bytes, dict[str, str], str]:
    secret = new_webhook_secret()
    body, content_type = encode_callback_body({"event": {"event_type": "callback_test", "event_time": "1"}})
    headers = {
        "Content-Type": content_type,
        **standard_webhook_headers(secret, "evt_1", int(time.time()), body),
    }
    return body, headers, secret


def sender(**kw: object) -> CallbackSender:
    options: dict[str, object] = {"allow_private": True, "resolver": StubResolver(), "timeout": 5.0}
    options.update(kw)
    return CallbackSender(**options)  # type: ignore[arg-type]


async def post_once(s: CallbackSender, url: str) -> AttemptResult:
    body, headers, _ = signed_body()
    try:
        return await s.post(url, body, headers)
    finally:
        await s.close()


def deliver(handler: Handler, path: str = "/cb", **kw: object) -> tuple[AttemptResult, Receiver]:
    async def main() -> tuple[AttemptResult, Receiver]:
        async with receiver(handler) as r:
            return await post_once(sender(**kw), r.url + path), r

    return asyncio.run(main())


# -- success ---------------------------------------------------------------------------------------------


def test_it_delivers_when_the_receiver_answers_200_with_the_acknowledgement() -> None:
    async def main() -> None:
        stub = StubResolver()
        async with receiver(answer(ACK, content_type="text/plain")) as r:
            body, headers, secret = signed_body()
            s = sender(resolver=stub)
            try:
                result = await s.post(r.url + "/hooks/sign?x=1", body, headers)
            finally:
                await s.close()
        assert result.ok, result.error
        assert (result.status_code, result.error, result.transient) == (200, None, False)
        assert result.body_excerpt == ACK
        assert result.latency_ms >= 0
        [got] = r.seen
        assert got.path == "/hooks/sign"
        assert got.headers["Host"] == f"callback.test:{r.port}"
        assert got.headers["User-Agent"].startswith("Paraph-Callbacks/")
        assert got.headers["Content-Type"] == headers["Content-Type"]
        assert got.body == body  # the exact bytes that were signed
        assert json.loads(got.form["json"]) == {"event": {"event_type": "callback_test", "event_time": "1"}}
        Webhook(secret).verify(got.body, got.headers, json_parse=False)
        assert stub.asked == ["callback.test"]

    asyncio.run(main())


def test_it_posts_a_form_that_an_aiohttp_receiver_reads_with_request_post() -> None:
    forms: list[dict[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        forms.append({k: str(v) for k, v in (await request.post()).items()})
        return web.Response(text=ACK)

    async def main() -> AttemptResult:
        async with receiver(handle, record=False) as r:
            return await post_once(sender(), r.url + "/cb")

    assert asyncio.run(main()).ok
    assert [json.loads(f["json"]) for f in forms] == [{"event": {"event_type": "callback_test", "event_time": "1"}}]


def test_it_counts_a_json_quoted_acknowledgement() -> None:
    result, _ = deliver(answer(json.dumps(ACK), content_type="application/json"))
    assert result.ok, result.error


def test_it_finds_the_acknowledgement_anywhere_in_the_body() -> None:
    result, _ = deliver(answer(f"<html><body><p>{ACK}</p></body></html>", content_type="text/html"))
    assert result.ok, result.error


def test_it_keeps_only_the_first_2_kb_of_the_body() -> None:
    result, _ = deliver(answer("x" * 5000 + ACK))
    assert result.ok, result.error
    assert result.body_excerpt == "x" * 2048


def test_it_keeps_a_readable_excerpt_of_a_binary_body() -> None:
    async def handle(_request: web.Request) -> web.Response:
        return web.Response(body=b"\x00\xff\xfe" + ACK.encode())

    result, _ = deliver(handle)
    assert result.ok, result.error
    assert "\x00" not in result.body_excerpt
    assert result.body_excerpt.endswith(ACK)


def test_it_reuses_a_checked_dns_answer_for_the_next_post() -> None:
    async def main() -> None:
        stub = StubResolver()
        s = sender(resolver=stub)
        try:
            async with receiver(answer()) as r:
                for _ in range(3):
                    body, headers, _secret = signed_body()
                    assert (await s.post(r.url + "/cb", body, headers)).ok
        finally:
            await s.close()
        assert stub.asked == ["callback.test"]
        assert len(r.seen) == 3

    asyncio.run(main())


def test_it_serves_many_concurrent_posts_from_one_checked_answer() -> None:
    async def main() -> None:
        stub = StubResolver({"refused.test": ["10.0.0.7"]})
        s = sender(resolver=stub, allow_private=False, require_https=False, limit=10)
        permissive = sender(resolver=stub)
        try:
            async with receiver(answer()) as r:
                body, headers, _secret = signed_body()
                good = await asyncio.gather(*(permissive.post(r.url + "/cb", body, headers) for _ in range(50)))
                bad = await asyncio.gather(
                    *(s.post(f"http://refused.test:{r.port}/cb", body, headers) for _ in range(50))
                )
        finally:
            await s.close()
            await permissive.close()
        assert all(g.ok for g in good) and len(r.seen) == 50
        assert all(not b.ok and not b.transient and "10.0.0.7" in (b.error or "") for b in bad)
        assert stub.asked.count("callback.test") == 1

    asyncio.run(main())


# -- failures the receiver causes: transient, retried later ------------------------------------------------


def test_it_fails_a_200_without_the_acknowledgement() -> None:
    result, _ = deliver(answer("OK"))
    assert not result.ok
    assert (result.status_code, result.transient, result.body_excerpt) == (200, True, "OK")
    assert result.error is not None and ACK in result.error


def test_it_fails_a_500_even_with_the_acknowledgement() -> None:
    result, _ = deliver(answer(ACK, status=500))
    assert not result.ok
    assert (result.status_code, result.transient, result.error) == (500, True, "HTTP 500")
    assert result.body_excerpt == ACK


def test_it_fails_a_201_with_the_acknowledgement() -> None:
    result, _ = deliver(answer(ACK, status=201))
    assert not result.ok and result.status_code == 201


def test_it_does_not_follow_a_redirect() -> None:
    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path == "/moved":
            return web.Response(text=ACK)
        return web.Response(status=302, headers={"Location": "/moved"})

    result, r = deliver(handle, path="/cb")
    assert not result.ok
    assert result.status_code == 302
    assert result.error is not None and "redirects are not followed" in result.error and "/moved" in result.error
    assert result.transient
    assert [s.path for s in r.seen] == ["/cb"]


def test_it_times_out_a_slow_receiver() -> None:
    async def main() -> None:
        release = asyncio.Event()

        async def slow(_request: web.Request) -> web.Response:
            try:
                await asyncio.wait_for(release.wait(), 10)
            except TimeoutError:
                pass
            return web.Response(text=ACK)

        async with receiver(slow) as r:
            try:
                result = await post_once(sender(timeout=0.5), r.url + "/cb")
            finally:
                release.set()
        assert not result.ok
        assert result.status_code is None
        assert result.error == "timed out after 0.5 s"
        assert result.transient
        assert len(r.seen) == 1

    asyncio.run(main())


def test_it_reports_a_refused_connection() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = asyncio.run(post_once(sender(), f"http://callback.test:{port}/cb"))
    assert not result.ok
    assert result.status_code is None
    assert result.error is not None and result.error.startswith(f"could not connect to callback.test:{port}")
    assert result.transient


def test_it_reports_a_name_that_does_not_resolve() -> None:
    result = asyncio.run(post_once(sender(), "http://nowhere.example.org/cb"))
    assert not result.ok
    assert result.error is not None and result.error.startswith("could not resolve nowhere.example.org")
    assert result.transient


def test_it_reports_an_answer_that_is_not_http() -> None:
    async def main() -> AttemptResult:
        async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(1)
            writer.write(b"SMTP ready\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(garbage, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            return await post_once(sender(), f"http://callback.test:{port}/cb")
        finally:
            server.close()
            await server.wait_closed()

    result = asyncio.run(main())
    assert not result.ok and result.status_code is None and result.transient
    assert result.error


# -- failures of the URL: permanent ------------------------------------------------------------------------


def test_it_refuses_a_private_destination_at_connect_time() -> None:
    result, r = deliver(answer(), allow_private=False, require_https=False)
    assert not result.ok
    assert result.error is not None and result.error.startswith("refused:") and "127.0.0.1" in result.error
    assert not result.transient
    assert r.seen == []


def test_it_refuses_http_unless_private_destinations_are_allowed() -> None:
    result, r = deliver(answer(), allow_private=False)
    assert not result.ok and not result.transient
    assert result.error is not None and "https" in result.error
    assert r.seen == []


@pytest.mark.parametrize("url", ["not a url", "ftp://callback.test/cb", "http://u:p@callback.test/cb", ""])
def test_it_refuses_an_invalid_url_without_raising(url: str) -> None:
    result = asyncio.run(post_once(sender(), url))
    assert not result.ok and not result.transient and result.status_code is None
    assert result.error is not None and result.error.startswith("refused:")


# -- TLS -------------------------------------------------------------------------------------------------


def self_signed(tmp: Path, host: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for ``host`` only, and a client context that trusts it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp / "cert.pem").write_bytes(cert_pem)
    (tmp / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client


def test_it_fails_on_a_certificate_it_does_not_trust(tmp_path: Path) -> None:
    server_ctx, _client_ctx = self_signed(tmp_path, "callback.test")

    async def main() -> tuple[AttemptResult, Receiver]:
        async with receiver(answer(), ssl_context=server_ctx) as r:
            return await post_once(sender(), r.url + "/cb"), r

    result, r = asyncio.run(main())
    assert not result.ok and result.transient
    assert result.error is not None and result.error.startswith(f"TLS error with callback.test:{r.port}")
    assert r.seen == []


def test_it_verifies_tls_against_the_original_host_name(tmp_path: Path) -> None:
    """The certificate is valid for callback.test only; the socket goes to 127.0.0.1. Success shows that SNI
    and certificate checks use the host name, not the pinned address."""
    server_ctx, client_ctx = self_signed(tmp_path, "callback.test")

    async def main() -> tuple[AttemptResult, AttemptResult, Receiver]:
        async with receiver(answer(), ssl_context=server_ctx) as r:
            good = await post_once(sender(ssl_context=client_ctx), r.url + "/cb")
            other = await post_once(
                sender(ssl_context=client_ctx, resolver=StubResolver({"other.test": ["127.0.0.1"]})),
                f"https://other.test:{r.port}/cb",
            )
            return good, other, r

    good, other, r = asyncio.run(main())
    assert good.ok, good.error
    assert r.seen[0].headers["Host"] == f"callback.test:{r.port}"
    assert not other.ok and other.error is not None and other.error.startswith("TLS error")
