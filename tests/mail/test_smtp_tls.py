"""Mail over TLS to a real SMTP server on loopback (aiosmtpd): STARTTLS (``smtp://...?starttls=1``) and TLS
from the first byte (``smtps://``), with the certificate checked against the trusted CAs, the password sent
only inside TLS, and no quiet fall back to plain text."""

from __future__ import annotations

import datetime as dt
import ipaddress
import smtplib
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from paraph.mail.mailer import SmtpMailer, parse_smtp_url
from tests.pgcluster import free_port

USER, PASSWORD = "paraph", "s3cret-over-tls"


@dataclass
class Pki:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it."""
    out = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Paraph test CA"))
        .issuer_name(_name("Paraph test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(out / "ca.pem", out / "cert.pem", out / "key.pem")
    pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return pki


@pytest.fixture
def trust(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the test CA the one the default SSL context trusts (OpenSSL reads SSL_CERT_FILE when a context
    loads its default certificates), as an operator's CA bundle would."""
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_file))


@dataclass
class TlsInbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (user, was the session in TLS)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _start(pki: Pki, *, implicit: bool, offer_starttls: bool = True) -> tuple[TlsInbox, Any]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = TlsInbox(free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            from email import message_from_bytes, policy

            msg = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(msg, EmailMessage)
            with box.lock:
                box.messages.append(msg)
            return "250 OK"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        with box.lock:
            box.logins.append((auth_data.login.decode(), session.ssl is not None))
        return AuthResult(success=ok)

    kwargs: dict[str, Any] = {"authenticator": authenticator, "auth_require_tls": True}
    if implicit:
        # TLS from the first byte: the server has no other way in (aiosmtpd's auth_require_tls only knows
        # STARTTLS, so it is off here).
        kwargs.update(ssl_context=pki.server_context(), auth_require_tls=False)
    elif offer_starttls:
        kwargs.update(tls_context=pki.server_context(), require_starttls=True)
    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port, **kwargs)
    controller.start()
    return box, controller


@pytest.fixture
def starttls_server(pki: Pki) -> Iterator[TlsInbox]:
    box, controller = _start(pki, implicit=False)
    yield box
    controller.stop()


@pytest.fixture
def smtps_server(pki: Pki) -> Iterator[TlsInbox]:
    box, controller = _start(pki, implicit=True)
    yield box
    controller.stop()


@pytest.fixture
def plain_server(pki: Pki) -> Iterator[TlsInbox]:
    box, controller = _start(pki, implicit=False, offer_starttls=False)
    yield box
    controller.stop()


def mail(subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Paraph <noreply@paraph.local>"
    msg["To"] = "signer@example.com"
    msg["Subject"] = subject
    msg.set_content("Please sign.")
    return msg


def test_it_sends_with_starttls_and_logs_in_only_inside_tls(starttls_server: TlsInbox, trust: None) -> None:
    url = f"smtp://{USER}:{PASSWORD}@127.0.0.1:{starttls_server.port}?starttls=1"
    SmtpMailer(parse_smtp_url(url), timeout=10).send(mail("Over STARTTLS"))
    assert [m["Subject"] for m in starttls_server.messages] == ["Over STARTTLS"]
    assert starttls_server.logins == [(USER, True)]


def test_it_sends_over_smtps(smtps_server: TlsInbox, trust: None) -> None:
    url = f"smtps://{USER}:{PASSWORD}@127.0.0.1:{smtps_server.port}"
    SmtpMailer(parse_smtp_url(url), timeout=10).send(mail("Over SMTPS"))
    assert [m["Subject"] for m in smtps_server.messages] == ["Over SMTPS"]
    assert [user for user, _ in smtps_server.logins] == [USER]


@pytest.mark.parametrize("scheme", ["starttls", "smtps"])
def test_it_refuses_a_certificate_no_trusted_ca_signed(
    scheme: str, starttls_server: TlsInbox, smtps_server: TlsInbox
) -> None:
    # No ``trust``: the system's CAs do not know the test CA.
    server = starttls_server if scheme == "starttls" else smtps_server
    url = (
        f"smtp://{USER}:{PASSWORD}@127.0.0.1:{server.port}?starttls=1"
        if scheme == "starttls"
        else f"smtps://{USER}:{PASSWORD}@127.0.0.1:{server.port}"
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        SmtpMailer(parse_smtp_url(url), timeout=10).send(mail("Never sent"))
    assert server.messages == [] and server.logins == []


def test_it_does_not_fall_back_to_plain_text_when_starttls_is_not_offered(plain_server: TlsInbox, trust: None) -> None:
    url = f"smtp://{USER}:{PASSWORD}@127.0.0.1:{plain_server.port}?starttls=1"
    with pytest.raises(smtplib.SMTPNotSupportedError):
        SmtpMailer(parse_smtp_url(url), timeout=10).send(mail("Never sent"))
    assert plain_server.messages == [] and plain_server.logins == []
