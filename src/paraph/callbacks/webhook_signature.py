"""What makes a callback verifiable: the Dropbox Sign ``event_hash``, Standard Webhooks headers, and the
multipart body they are computed over.

The body is built here by hand, byte for byte, because the Standard Webhooks signature covers the exact bytes
on the wire: letting an HTTP library assemble the multipart body would sign one thing and send another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import secrets
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
FORM_FIELD = "json"


def event_hash(api_key: str, event_time: str, event_type: str) -> str:
    """``event.event_hash`` as Dropbox Sign computes it and every official SDK checks it: lowercase hex
    HMAC-SHA256 keyed with the API key over ``event_time + event_type`` (no separator)."""
    return hmac.new(api_key.encode(), f"{event_time}{event_type}".encode(), hashlib.sha256).hexdigest()


def new_webhook_secret() -> str:
    """A fresh per-endpoint Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


@lru_cache(maxsize=1024)
def _secret_bytes(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret; cached, as every attempt signs with its endpoint's secret."""
    raw = secret.removeprefix(WEBHOOK_SECRET_PREFIX)
    try:
        # Pad like the reference libraries do, so an unpadded secret is accepted too.
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except binascii.Error:
        raise ValueError("webhook secret is not valid base64") from None
    if not key:
        raise ValueError("webhook secret is empty")
    return key


@lru_cache(maxsize=1024)
def _keyed(secret: str) -> hmac.HMAC:
    """An HMAC-SHA256 already keyed with ``secret``: each attempt signs with a copy (no key schedule per call)."""
    return hmac.new(_secret_bytes(secret), digestmod=hashlib.sha256)


#: Bytes per HMAC update. OpenSSL's one-shot HMAC (``hmac.digest``) and updates of 2 KiB or more let go of
#: the GIL; the event loop then waits for the database thread to hand it back (up to the 5 ms switch
#: interval), which cost the delivery hot path more than the hashing itself. Smaller updates keep it.
_GIL_SAFE_CHUNK = 2047


def _sign(secret: str, data: bytes) -> bytes:
    h = _keyed(secret).copy()
    view = memoryview(data)
    for i in range(0, len(view), _GIL_SAFE_CHUNK):
        h.update(view[i : i + _GIL_SAFE_CHUNK])
    return h.digest()


def standard_webhook_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers (https://www.standardwebhooks.com) for one attempt.

    ``msg_id`` stays the same across retries of one delivery (receivers de-duplicate on it); ``timestamp`` is
    the attempt's send time in Unix seconds, which receivers check against replay."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = _sign(secret, signed)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode("ascii"),
    }


def callback_json(payload: Mapping[str, Any]) -> str:
    """The payload as the ``json`` field carries it: compact, ASCII-only (non-ASCII as ``\\uXXXX``, as PHP's
    ``json_encode`` does), so the part needs no charset and every form parser reads it the same way."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True)


#: Boundaries need to be unlikely to occur in a body, not unpredictable (a body that does contain one gets
#: another): a PRNG seeded once from the OS, instead of a system call for every attempt.
_boundary_rng = random.Random(secrets.randbits(128))


def new_boundary() -> str:
    return f"paraph-{_boundary_rng.getrandbits(128):032x}"


def encode_callback_json(json_text: str, *, boundary: str | None = None) -> tuple[bytes, str]:
    """The multipart/form-data body with one text field ``json`` holding ``json_text`` verbatim, and its
    Content-Type header value. The same input and boundary always give the same bytes."""
    value = json_text.encode("utf-8")
    while True:
        b = boundary or new_boundary()
        delimiter = b"--" + b.encode("ascii")
        if delimiter not in value:
            break
        if boundary is not None:
            raise ValueError("the multipart boundary occurs in the body")
    body = b"".join(
        (
            delimiter,
            b'\r\nContent-Disposition: form-data; name="' + FORM_FIELD.encode("ascii") + b'"\r\n\r\n',
            value,
            b"\r\n",
            delimiter,
            b"--\r\n",
        )
    )
    return body, f"multipart/form-data; boundary={b}"


def encode_callback_body(payload: Mapping[str, Any], *, boundary: str | None = None) -> tuple[bytes, str]:
    """:func:`encode_callback_json` of :func:`callback_json` of ``payload``."""
    return encode_callback_json(callback_json(payload), boundary=boundary)
