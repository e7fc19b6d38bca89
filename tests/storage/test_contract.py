"""The contract every document storage passes (paraph.storage.Storage): run here against LocalStorage; an S3
implementation adds itself to ``IMPLEMENTATIONS`` and must pass the same tests unchanged."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from paraph.storage import Storage, StorageKeyError
from paraph.storage.local import LocalStorage

IMPLEMENTATIONS: dict[str, Callable[[Path], Storage]] = {"local": LocalStorage}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    yield IMPLEMENTATIONS[request.param](tmp_path / "files")


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
