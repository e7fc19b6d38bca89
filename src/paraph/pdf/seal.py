"""The server's seal: one PAdES signature over the whole final document.

The seal says "this file left Paraph like this": any later change to a signed byte makes every PDF
validator report the signature as broken. It is not a signer's signature (those are the stamped images
and the audit trail); it is the server vouching for the file, as Dropbox Sign's own certificate does.

Without a configured PKCS#12 file the server makes a self-signed certificate once and keeps using it, so every
document a deployment ever sealed carries the same certificate and an integrator can trust it once. The server
keeps that one in its database (paraph.signing.seal_key: shared by every node and worker) and hands its PEM to
:func:`sealer_from_pem`; :func:`load_or_create_sealer` keeps one in ``DATA_DIR/seal/seal.pem`` (the place of
earlier versions, adopted by the database on upgrade).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
from pathlib import Path
from typing import Protocol

from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

SEAL_FIELD_NAME = "ParaphSeal"
SELF_SIGNED_COMMON_NAME = "Paraph document seal"
SELF_SIGNED_VALIDITY = dt.timedelta(days=3653)  # ten years, leap days included

_SEAL_DIR = "seal"
_SEAL_FILE = "seal.pem"  # private key (PKCS#8) followed by the certificate, written once with mode 0600


class Sealer(Protocol):
    """Anything that can seal a finished PDF (a test may pass a fake)."""

    def seal(self, pdf: bytes) -> bytes:
        """Return ``pdf`` with a signature appended as an incremental update covering the whole file."""
        ...


class PadesSealer:
    """Seals with one key and certificate chain; build it once and reuse it for every document.

    ``seal`` is synchronous and runs pyHanko's own event loop (``asyncio.run``) inside: call it from a
    worker process or thread, never from a coroutine running on an event loop.
    """

    def __init__(
        self,
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        chain: list[x509.Certificate] | None = None,
    ) -> None:
        self.certificate = certificate
        der_key = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]
        registry.register_multiple(
            [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in chain or []]
        )
        self._signer = _LoadedKeySigner(
            key,
            signing_cert=asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
            signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            cert_registry=registry,
        )
        # Room for the CMS signature: the certificates, a key-sized signature and attribute overhead. Fixing
        # it skips pyHanko's sizing dry run (a second full CMS build per seal).
        self._bytes_reserved = 4096 + 2 * sum(
            len(c.public_bytes(serialization.Encoding.DER)) for c in [certificate, *(chain or [])]
        )
        self._meta = signers.PdfSignatureMetadata(
            field_name=SEAL_FIELD_NAME,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            name=SELF_SIGNED_COMMON_NAME,
            reason="Sealed by Paraph when the signature request was completed",
        )

    def certificate_pem(self) -> bytes:
        """The seal certificate, for integrators who want their PDF reader to trust it."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def seal(self, pdf: bytes) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        out = io.BytesIO()
        signers.PdfSigner(self._meta, signer=self._signer).sign_pdf(
            writer, bytes_reserved=self._bytes_reserved, output=out
        )
        return out.getvalue()


class _LoadedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner, signing with a key object loaded once.

    SimpleSigner re-parses its DER key on every signature, twice per seal (a sizing dry run, then the
    real one); for RSA that parse runs OpenSSL's key check, measured at 28 ms each: most of a seal's cost.
    """

    def __init__(
        self,
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        *,
        signing_cert: asn1_x509.Certificate,
        signing_key: asn1_keys.PrivateKeyInfo,
        cert_registry: SimpleCertificateStore,
    ) -> None:
        super().__init__(signing_cert=signing_cert, signing_key=signing_key, cert_registry=cert_registry)
        self._key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            algorithm = mechanism.signature_algo
        except ValueError:
            algorithm = mechanism["algorithm"].native
        digest = get_pyca_cryptography_hash(digest_algorithm)
        if algorithm == "rsassa_pkcs1v15" and isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), digest)
        if algorithm == "ecdsa" and isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(digest))
        return bytes(super().sign_raw(data, digest_algorithm))  # anything else: pyHanko's own path


def load_or_create_sealer(data_dir: Path, pkcs12_path: Path | None, pkcs12_password: str | None) -> PadesSealer:
    """The deployment's sealer: from the configured PKCS#12 file, else the self-signed one in the data dir.

    Raises ``ValueError`` when the PKCS#12 file cannot be opened with the password or holds no key and
    certificate, so a misconfigured server fails at start rather than at the first completed request.
    """
    if pkcs12_path is not None:
        return _load_pkcs12(pkcs12_path, pkcs12_password)
    return _load_or_create_self_signed(data_dir)


def _load_pkcs12(path: Path, password: str | None) -> PadesSealer:
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(
            path.read_bytes(), password.encode() if password is not None else None
        )
    except ValueError as exc:
        raise ValueError(f"cannot open the seal PKCS#12 file {path}: {exc}") from exc
    if key is None or cert is None:
        raise ValueError(f"the seal PKCS#12 file {path} holds no private key and certificate")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"the seal PKCS#12 file {path} holds a {type(key).__name__}; use an RSA or EC key")
    return PadesSealer(key, cert, list(extra))


def legacy_seal_path(data_dir: Path) -> Path:
    """Where earlier versions kept the self-signed seal (and :func:`load_or_create_sealer` still does)."""
    return data_dir / _SEAL_DIR / _SEAL_FILE


def sealer_from_pem(pem: bytes) -> PadesSealer:
    """A sealer from a PEM holding a private key and its certificate (first), as :func:`new_self_signed_pem`
    makes them."""
    return _sealer_of_pem(pem, "the seal PEM")


def _load_or_create_self_signed(data_dir: Path) -> PadesSealer:
    path = legacy_seal_path(data_dir)
    seal_dir = path.parent
    if not path.exists():
        seal_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_once(path, new_self_signed_pem())
    return _read_pem(path)


def new_self_signed_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SELF_SIGNED_COMMON_NAME)])
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))  # tolerate a little clock skew between machines
        .not_valid_after(now + SELF_SIGNED_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # non-repudiation: what PDF validators look for by default
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) + cert.public_bytes(serialization.Encoding.PEM)


def _write_once(path: Path, data: bytes) -> None:
    """Write ``path`` atomically, mode 0600, unless it exists; a racing process's file wins, whole."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".seal-")  # mkstemp creates with mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if another process linked its file first
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def _read_pem(path: Path) -> PadesSealer:
    return _sealer_of_pem(path.read_bytes(), str(path))


def _sealer_of_pem(data: bytes, where: str) -> PadesSealer:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"{where} holds a {type(key).__name__}; expected an RSA or EC key")
    certs = x509.load_pem_x509_certificates(data)
    return PadesSealer(key, certs[0], certs[1:])
