"""Document storage behind a Protocol: local disk under the data dir now, S3 later.

Keys are relative paths made by Paraph (``sr/<id>/original/0.pdf``), never by users.
"""

from __future__ import annotations

from paraph.config import Settings
from paraph.storage.base import Storage, StorageKeyError
from paraph.storage.local import LocalStorage

__all__ = ["LocalStorage", "Storage", "StorageKeyError", "make_storage"]


def make_storage(settings: Settings) -> Storage:
    return LocalStorage(settings.data_dir / "files")
