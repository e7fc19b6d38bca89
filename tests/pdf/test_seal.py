"""The seal as a PDF validator sees it: intact, trusted once its certificate is, broken by any change."""

from __future__ import annotations

import datetime as dt
import io
import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader

from paraph.pdf.seal import SEAL_FIELD_NAME, load_or_create_sealer

from ._finalize_fixtures import make_pdf, validate_seal


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


def test_it_seals_the_whole_file_so_that_a_validator_trusting_the_certificate_accepts_it(
    data_dir: Path,
) -> None:
    sealer = load_or_create_sealer(data_dir, None, None)
    pdf = make_pdf(2)
    sealed = sealer.seal(pdf)

    assert sealed.startswith(pdf)  # an incremental update: the original bytes are kept as they were
    signature = PdfFileReader(io.BytesIO(sealed)).embedded_signatures[0]
    assert signature.field_name == SEAL_FIELD_NAME
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    status = validate_seal(sealed, sealer.certificate)
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"


def test_it_is_untrusted_by_a_validator_that_does_not_know_the_certificate(data_dir: Path) -> None:
    sealer = load_or_create_sealer(data_dir, None, None)
    stranger = _self_signed("Someone else")[1]

    status = validate_seal(sealer.seal(make_pdf(1)), stranger)
    assert status.intact and not status.trusted


def test_it_breaks_when_one_signed_byte_changes(data_dir: Path) -> None:
    sealer = load_or_create_sealer(data_dir, None, None)
    sealed = sealer.seal(make_pdf(2))
    at = sealed.index(b"Original page 2")  # page content, well inside the first signed range
    tampered = sealed[:at] + b"X" + sealed[at + 1 :]

    try:
        status = validate_seal(tampered, sealer.certificate)
    except Exception:  # a validator refusing the file outright is a broken seal too
        return
    assert not status.intact and not status.bottom_line


def test_it_creates_the_self_signed_certificate_once_and_reuses_it(tmp_path: Path) -> None:
    first = load_or_create_sealer(tmp_path, None, None)
    path = tmp_path / "seal" / "seal.pem"
    written = path.read_bytes()
    second = load_or_create_sealer(tmp_path, None, None)

    assert second.certificate == first.certificate
    assert path.read_bytes() == written
    assert [p.name for p in (tmp_path / "seal").iterdir()] == ["seal.pem"]  # no temporary file left behind
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    cert = first.certificate
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Paraph document seal"
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert dt.timedelta(days=3650) <= lifetime <= dt.timedelta(days=3660)
    status = validate_seal(second.seal(make_pdf(1)), first.certificate)
    assert status.intact and status.trusted


def test_it_honours_a_pkcs12_file(tmp_path: Path) -> None:
    key, cert = _self_signed("Acme Corp document seal")
    p12 = tmp_path / "seal.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"acme", key, cert, None, serialization.BestAvailableEncryption(b"s3cret")
        )
    )

    sealer = load_or_create_sealer(tmp_path / "data", p12, "s3cret")
    sealed = sealer.seal(make_pdf(1))

    assert sealer.certificate == cert
    assert not (tmp_path / "data" / "seal").exists()  # no self-signed certificate made beside it
    status = validate_seal(sealed, cert)
    assert status.intact and status.valid and status.trusted


def test_it_refuses_a_pkcs12_file_with_the_wrong_password(tmp_path: Path) -> None:
    key, cert = _self_signed("Acme Corp document seal")
    p12 = tmp_path / "seal.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"acme", key, cert, None, serialization.BestAvailableEncryption(b"s3cret")
        )
    )

    with pytest.raises(ValueError, match=r"seal\.p12"):
        load_or_create_sealer(tmp_path, p12, "wrong")


def _self_signed(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
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
        .sign(key, hashes.SHA256())
    )
    return key, cert
