"""Adopted signatures and initials made into bounded PNGs, before any transaction opens."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from paraph.i18n import N_
from paraph.pdf.signature_image import normalize_signature_image, render_typed_signature
from paraph.signing.schemas import Adoption, SubmitBody

MAX_IMAGE_BYTES = 5 * 1024 * 1024
_DATA_URL_PREFIXES = ("data:image/png;base64,", "data:image/jpeg;base64,", "data:image/jpg;base64,")


#: The PDF engine's refusals a signer can meet in another language than it writes, as the page shows them (the
#: engine writes English; the page's script translates what it is answered).
SIGNER_MESSAGES = (N_("No installed font can draw this signature; draw or upload it instead"),)


class ImageRefused(ValueError):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class PreparedImage:
    kind: str  # signature | initials
    method: str  # draw | type | upload
    png: bytes
    text: str | None  # the typed text

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.png).hexdigest()

    def storage_key(self, signature_request_id: str) -> str:
        return f"sr/{signature_request_id}/signatures/{self.sha256}.png"


def decode_data_url(value: str) -> bytes:
    lowered = value[:40].lower()
    prefix = next((p for p in _DATA_URL_PREFIXES if lowered.startswith(p)), None)
    if prefix is None:
        raise ValueError("the image must be a PNG or JPEG data: URL")
    try:
        return base64.b64decode(value[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the image is not valid base64") from None


def prepare(kind: str, adoption: Adoption) -> PreparedImage:
    """The PNG to stamp for one adoption; raises ImageRefused with a message for the signer."""
    try:
        if adoption.method == "type":
            text = " ".join((adoption.text or "").split())
            if not text:
                raise ValueError(N_("Type your name first."))
            return PreparedImage(kind, "type", render_typed_signature(text), text)
        if not adoption.image:
            raise ValueError(N_("Draw or upload your signature first."))
        png = normalize_signature_image(decode_data_url(adoption.image), MAX_IMAGE_BYTES)
        return PreparedImage(kind, adoption.method, png, None)
    except ValueError as exc:
        raise ImageRefused(kind, str(exc)[:1].upper() + str(exc)[1:]) from None


def prepare_all(body: SubmitBody) -> dict[str, PreparedImage]:
    out: dict[str, PreparedImage] = {}
    for kind, adoption in (("signature", body.signature), ("initials", body.initials)):
        if adoption is not None:
            out[kind] = prepare(kind, adoption)
    return out
