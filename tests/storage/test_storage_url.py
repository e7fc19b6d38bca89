"""PARAPH_STORAGE_URL: the forms it takes, and the ones refused at start with the form expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from paraph.config import Settings, StorageLocation


def test_it_reads_a_folder_or_a_bucket_and_defaults_to_the_data_dir(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).storage_location == StorageLocation("file", path=tmp_path / "files")
    assert Settings(storage_url="file:///srv/paraph/files").storage_location.path == Path("/srv/paraph/files")
    s3 = Settings(
        storage_url="s3://my-bucket/a/b/?endpoint_url=http://127.0.0.1:9000&region=eu-west-3"
    ).storage_location
    assert (s3.scheme, s3.bucket, s3.prefix, s3.endpoint_url, s3.region) == (
        "s3",
        "my-bucket",
        "a/b",
        "http://127.0.0.1:9000",
        "eu-west-3",
    )
    assert Settings(storage_url="s3://my-bucket").storage_location.prefix == ""


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("/srv/files", "expected file:///absolute/path or s3://bucket"),
        ("file://host/srv", "expected file:///absolute/path"),
        ("s3://KEY:SECRET@bucket/x", "no credentials in the storage URL"),
        ("s3://b/x", "expected a bucket name"),
        ("s3://bucket/a/../b", "without empty or .. segments"),
        ("s3://bucket/x?endpoint=http://127.0.0.1", "unknown or repeated option 'endpoint'"),
        ("s3://bucket/x?endpoint_url=ftp://host", "expected endpoint_url as an origin"),
        ("s3://bucket/x?addressing_style=dns", "expected addressing_style path, virtual or auto"),
    ],
)
def test_it_refuses_a_url_it_cannot_use(url: str, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(storage_url=url)
    assert says in str(caught.value)
