"""Document storage behind a Protocol: a folder (local.py) or an S3-compatible bucket (s3.py), chosen by
PARAPH_STORAGE_URL. Every process (the API, workers, the PDF pool's processes) opens it with
:func:`open_storage`, the one factory.

Keys are relative paths made by Paraph (``sr/<id>/original/0.pdf``), never by users.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paraph.config import StorageLocation
from paraph.storage.base import Presigning, Storage, StorageKeyError, StorageUnavailable, check_key
from paraph.storage.local import LocalStorage

if TYPE_CHECKING:
    from paraph.config import Settings

__all__ = [
    "LocalStorage",
    "Presigning",
    "Storage",
    "StorageKeyError",
    "StorageUnavailable",
    "check_key",
    "open_location",
    "open_storage",
]


def open_storage(settings: Settings) -> Storage:
    """The storage PARAPH_STORAGE_URL names (default: DATA_DIR/files)."""
    return open_location(settings.storage_location)


def open_location(location: StorageLocation) -> Storage:
    if location.scheme == "s3":
        from paraph.storage.s3 import S3Storage  # boto3 loads only where a bucket is used

        return S3Storage.at(location)
    assert location.path is not None
    return LocalStorage(location.path)
