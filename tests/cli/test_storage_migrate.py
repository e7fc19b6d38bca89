"""paraph storage migrate --to URL: a data dir's files copied into an S3 bucket (moto on loopback), checked by
SHA-256, resumable."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from paraph.cli import main
from paraph.storage import LocalStorage
from tests.s3server import MotoServer


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The command in this process (as ``paraph ...`` runs it), its exit code and what it printed."""
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_it_copies_the_files_into_a_bucket_and_resumes_where_it_stopped(
    tmp_path: Path, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "sr/a1/docs/0/original": b"%PDF-1.7 one",
        "sr/a1/docs/0/pages/1.png": b"\x89PNG one",
        "sr/b2/final.pdf": b"%PDF-1.7 final" * 1000,
        "tpl/c3/docs/0/original": b"",
    }
    local = LocalStorage(tmp_path / "var" / "files")
    for key, data in files.items():
        local.put(key, data)
    bucket = moto_server.new_bucket()
    url = moto_server.storage_url(bucket, "paraph")
    monkeypatch.setenv("PARAPH_DATA_DIR", str(tmp_path / "var"))

    code, out, err = run(capsys, "storage", "migrate", "--to", url)
    assert code == 0, err
    assert "4 copied, 0 already there, 0 failed" in out
    client = boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1")

    def stored() -> dict[str, bytes]:
        listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {o["Key"]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}

    assert stored() == {f"paraph/{k}": v for k, v in files.items()}

    # A run that stopped half-way (one object missing, one cut short) is resumed by running it again.
    client.delete_object(Bucket=bucket, Key="paraph/sr/a1/docs/0/original")
    client.put_object(Bucket=bucket, Key="paraph/sr/b2/final.pdf", Body=b"%PDF-1.7 fin")
    code, out, err = run(capsys, "storage", "migrate", "--to", url)
    assert code == 0, err
    assert "2 copied, 2 already there, 0 failed" in out
    assert stored() == {f"paraph/{k}": v for k, v in files.items()}
    assert local.get("sr/b2/final.pdf") == files["sr/b2/final.pdf"]  # nothing removed from the data dir


def test_a_worker_with_a_bucket_it_cannot_use_stops_at_start_with_one_line(
    tmp_path: Path, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PARAPH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PARAPH_STORAGE_URL", moto_server.storage_url("no-such-bucket-here"))
    code, _, err = run(capsys, "worker")
    assert code == 2
    assert "cannot use the storage s3://no-such-bucket-here/files: " in err and "NoSuchBucket" in err
    assert "Traceback" not in err
