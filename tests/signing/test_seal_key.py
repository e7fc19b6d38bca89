"""The deployment's self-signed seal lives in the database: processes with data dirs of their own (API nodes
and workers on different machines) seal with one certificate, and a data dir's seal from before is kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from paraph.cli import main
from paraph.config import Settings
from paraph.pdf.seal import legacy_seal_path, load_or_create_sealer
from paraph.runtime import Runtime
from paraph.signing.seal_key import seal_pem


@pytest.fixture
def runtimes(db_url: str, tmp_path: Path) -> Iterator[list[Runtime]]:
    made = [
        Runtime(Settings(database_url=db_url, data_dir=tmp_path / name, secret_key="seal-key-test"))
        for name in ("worker-1", "worker-2")
    ]
    yield made
    for rt in made:
        rt.close()


def certificate(pem: bytes | None) -> x509.Certificate:
    assert pem is not None
    return x509.load_pem_x509_certificates(pem)[0]


def test_every_process_of_a_deployment_seals_with_one_certificate(runtimes: list[Runtime]) -> None:
    first, second = runtimes
    made = certificate(seal_pem(first))
    assert certificate(seal_pem(second)) == made
    assert certificate(seal_pem(first)) == made  # made once, then read
    for rt in runtimes:
        assert not any(p.is_file() for p in rt.settings.data_dir.rglob("*"))  # nothing on either disk


def test_a_data_dirs_earlier_seal_becomes_the_deployments(runtimes: list[Runtime]) -> None:
    first, second = runtimes
    load_or_create_sealer(first.settings.data_dir, None, None)  # as a version before this one made it
    earlier = certificate(legacy_seal_path(first.settings.data_dir).read_bytes())
    assert certificate(seal_pem(first)) == earlier
    assert certificate(seal_pem(second)) == earlier


def test_paraph_seal_certificate_prints_the_deployments_certificate_without_its_key(
    runtimes: list[Runtime], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = runtimes[0]
    monkeypatch.setenv("PARAPH_DATABASE_URL", first.settings.effective_database_url)
    monkeypatch.setenv("PARAPH_SECRET_KEY", "seal-key-test")
    monkeypatch.setenv("PARAPH_DATA_DIR", str(tmp_path / "an-operators-shell"))
    assert main(["seal", "certificate"]) == 0
    printed = capsys.readouterr()
    assert "PRIVATE KEY" not in printed.out
    assert x509.load_pem_x509_certificates(printed.out.encode()) == [certificate(seal_pem(first))]
    assert "SHA-256 fingerprint" in printed.err
