"""The storage Protocol every backend implements, its error, and the one rule for keys."""

from __future__ import annotations

import re
from typing import Protocol, runtime_checkable

_KEY = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_\-./]*$")


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...


@runtime_checkable
class Presigning(Protocol):
    """A storage clients can download from directly, with a URL that carries its own expiring signature (S3)."""

    def presigned_url(self, key: str, expires_in: int, filename: str, content_type: str, download: bool) -> str: ...


class StorageKeyError(KeyError):
    pass


class StorageUnavailable(OSError):
    """The storage cannot be reached or refused the operation (a bucket down, refused connections, denied
    access): the API answers 503 ``maintenance``, never a 500, and ``/readyz`` reports it."""


def check_key(key: str) -> str:
    """A key Paraph made (``sr/<id>/docs/0/original``): relative, no empty or ``..`` segment, no backslash."""
    parts = key.split("/")
    if not _KEY.match(key) or ".." in parts or "" in parts:
        raise ValueError(f"invalid storage key {key!r}")
    return key
