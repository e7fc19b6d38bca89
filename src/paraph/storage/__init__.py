"""Document storage behind a Protocol: local disk under the data dir now, S3 later.

Keys are relative paths made by Paraph (``sr/<id>/original/0.pdf``), never by users.
"""

from __future__ import annotations

from typing import Protocol

from paraph.config import Settings


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...


class StorageKeyError(KeyError):
    pass


def make_storage(settings: Settings) -> Storage:
    from paraph.storage.local import LocalStorage

    return LocalStorage(settings.data_dir / "files")
