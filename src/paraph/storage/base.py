"""The storage Protocol every backend implements, its error, and the one rule for keys."""

from __future__ import annotations

import re
from typing import Protocol

_KEY = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_\-./]*$")


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...


class StorageKeyError(KeyError):
    pass


def check_key(key: str) -> str:
    """A key Paraph made (``sr/<id>/docs/0/original``): relative, no empty or ``..`` segment, no backslash."""
    parts = key.split("/")
    if not _KEY.match(key) or ".." in parts or "" in parts:
        raise ValueError(f"invalid storage key {key!r}")
    return key
