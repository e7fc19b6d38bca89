"""Document storage in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2...) through boto3 (ADR 0016).

Credentials are boto3's own chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, the instance or task
role), never a Paraph setting. A PUT of S3 replaces an object whole, so a reader never sees half a file; each
body is sent with its Content-MD5, which the service checks before it stores anything.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from paraph.storage.base import StorageKeyError, StorageUnavailable, check_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from paraph.config import StorageLocation

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        addressing_style: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._endpoint_url = endpoint_url
        self._region = region
        # A custom endpoint (MinIO, Ceph, a loopback test server) is addressed by path unless told otherwise.
        self._addressing_style = addressing_style or ("path" if endpoint_url else "auto")
        self._client: S3Client | None = None

    @classmethod
    def at(cls, location: StorageLocation) -> S3Storage:
        return cls(
            location.bucket,
            location.prefix,
            endpoint_url=location.endpoint_url,
            region=location.region,
            addressing_style=location.addressing_style,
        )

    @property
    def client(self) -> S3Client:
        if self._client is None:
            self._client = _client(self._endpoint_url, self._region, self._addressing_style)
        return self._client

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        with _reached(self.bucket):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentMD5=md5)

    def get(self, key: str) -> bytes:
        with _reached(self.bucket, missing=key):
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            body: Any = response["Body"]
            with body:
                return bytes(body.read())

    def exists(self, key: str) -> bool:
        try:
            with _reached(self.bucket, missing=key):
                self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except StorageKeyError:
            return False
        return True

    def delete(self, key: str) -> None:
        with _reached(self.bucket):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))  # deleting what is not there: fine

    def presigned_url(self, key: str, expires_in: int, filename: str, content_type: str, download: bool) -> str:
        """A URL that serves ``key`` straight from the bucket, without credentials, for ``expires_in`` seconds
        (PARAPH_STORAGE_PRESIGNED_URLS). Signing is local: no request is sent to the bucket."""
        disposition = "attachment" if download else "inline"
        return self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._key(key),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": f'{disposition}; filename="{filename}"',
            },
            ExpiresIn=expires_in,
        )


@contextlib.contextmanager
def _reached(bucket: str, missing: str | None = None) -> Iterator[None]:
    """botocore's errors as the storage's: a missing key (where ``missing`` names it) is StorageKeyError, any
    other failure (no connection, a timeout, a 5xx, access denied, no such bucket) StorageUnavailable."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        if missing is not None and _code(exc) in _MISSING:
            raise StorageKeyError(missing) from None
        raise StorageUnavailable(f"the bucket {bucket} refused the request: {_code(exc) or exc}") from exc
    except BotoCoreError as exc:
        raise StorageUnavailable(f"the bucket {bucket} cannot be reached: {exc}") from exc


_CLIENTS: dict[tuple[int, str | None, str | None, str], S3Client] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(endpoint_url: str | None, region: str | None, addressing_style: str) -> S3Client:
    """One client per endpoint and process (clients are thread-safe, slow to make, and do not survive a fork)."""
    key = (os.getpid(), endpoint_url, region, addressing_style)
    with _CLIENTS_LOCK:
        found = _CLIENTS.get(key)
        if found is None:
            import boto3
            from botocore.config import Config

            config = Config(
                s3={"addressing_style": cast(Any, addressing_style)},
                signature_version="s3v4",  # presigned URLs too (boto3 presigns with SigV2 unless told)
                retries={"mode": "standard", "max_attempts": 4},
                connect_timeout=10,
                read_timeout=60,
                max_pool_connections=32,
                # The checksums newer boto3 adds by default are refused by several S3-compatible services;
                # Content-MD5 (S3Storage.put) is the integrity check every one of them knows.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            )
            session = boto3.session.Session()
            found = _CLIENTS[key] = session.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
        return found


def _code(exc: Exception) -> str:
    error = getattr(exc, "response", {}).get("Error", {})
    return str(error.get("Code", ""))
