"""The contract every document storage passes (paraph.storage.Storage), unchanged for each backend: a folder
(LocalStorage) and an S3 bucket (S3Storage against moto's server on loopback)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from paraph.storage import Storage, StorageKeyError
from paraph.storage.local import LocalStorage
from paraph.storage.s3 import S3Storage
from tests.s3server import MotoServer

IMPLEMENTATIONS = ["local", "s3"]


@pytest.fixture(scope="module")
def bucket(moto_server: MotoServer) -> str:
    return moto_server.new_bucket()


@pytest.fixture(params=IMPLEMENTATIONS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "files")
        return
    server: MotoServer = request.getfixturevalue("moto_server")
    bucket: str = request.getfixturevalue("bucket")
    yield S3Storage(bucket, f"t/{uuid.uuid4().hex}", endpoint_url=server.endpoint_url, region="us-east-1")


def test_it_gives_back_exactly_what_was_put(storage: Storage) -> None:
    data = bytes(range(256)) * 4 + b"\x00\r\n"
    storage.put("sr/abc/docs/0/original", data)
    assert storage.get("sr/abc/docs/0/original") == data
    storage.put("empty", b"")
    assert storage.get("empty") == b""


def test_it_overwrites_a_key(storage: Storage) -> None:
    storage.put("k/one.pdf", b"first")
    storage.put("k/one.pdf", b"second, longer than the first")
    assert storage.get("k/one.pdf") == b"second, longer than the first"


def test_it_says_whether_a_key_exists_and_deletes(storage: Storage) -> None:
    assert storage.exists("a/b.png") is False
    storage.put("a/b.png", b"png")
    assert storage.exists("a/b.png") is True
    storage.delete("a/b.png")
    assert storage.exists("a/b.png") is False
    storage.delete("a/b.png")  # deleting what is not there is not an error


def test_it_raises_a_key_error_for_a_missing_key(storage: Storage) -> None:
    with pytest.raises(StorageKeyError):
        storage.get("nothing/here")
    with pytest.raises(KeyError):  # StorageKeyError is a KeyError
        storage.get("nothing/here")


@pytest.mark.parametrize("key", ["../outside", "a/../../b", "/absolute", "", "a\\b", "a//../b"])
def test_it_refuses_keys_that_could_escape(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError):
        storage.put(key, b"x")


def test_it_keeps_keys_apart(storage: Storage) -> None:
    storage.put("sr/1/docs/0/original", b"one")
    storage.put("sr/2/docs/0/original", b"two")
    assert storage.get("sr/1/docs/0/original") == b"one"
    assert storage.get("sr/2/docs/0/original") == b"two"


def test_it_never_shows_half_a_file(storage: Storage) -> None:
    a, b = b"a" * 2_000_000, b"b" * 3_000_000
    storage.put("doc.pdf", a)
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            storage.put("doc.pdf", b)
            storage.put("doc.pdf", a)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(50):
            assert storage.get("doc.pdf") in (a, b)
    finally:
        stop.set()
        thread.join()


def test_s3_keys_live_under_the_prefix_of_the_url(moto_server: MotoServer, bucket: str) -> None:
    import boto3

    from paraph.config import Settings
    from paraph.storage import open_storage

    settings = Settings(storage_url=moto_server.storage_url(bucket, "tenant/files"))
    storage = open_storage(settings)
    storage.put("sr/1/docs/0/original", b"%PDF-1.7")
    client = boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1")
    listed = client.list_objects_v2(Bucket=bucket, Prefix="tenant/")
    assert [o["Key"] for o in listed.get("Contents", [])] == ["tenant/files/sr/1/docs/0/original"]
    assert storage.get("sr/1/docs/0/original") == b"%PDF-1.7"
