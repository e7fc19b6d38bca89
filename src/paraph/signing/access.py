"""Tokens and links of the signing flow.

Embedded requests are signed through sign URLs (``paraph.embedded.service``: a stored, single-use,
expiring token). Requests sent by mail are signed from a link carrying a MAC of the signature_id: it needs
no row, works until the signer has acted (the signer's status closes it), and dies with the signature_id
(a reassignment or an email change makes a new one). Final copies are linked with a MAC of the request id.
A mailed request's ``signing_url`` (the API's) carries no token: it leads a signed-in signer to their link.
"""

from __future__ import annotations

from urllib.parse import urlencode

from paraph.config import Settings
from paraph.security import KeyBox

MAIL_SIGN_PATH = "/sign"
FINAL_COPY_PATH = "/sign/final"
REQUEST_SIGN_PATH = "/sign/request"


def mail_token(keys: KeyBox, signature_id: str) -> str:
    return keys.sign(f"paraph:sign:{signature_id}")


def mail_token_ok(keys: KeyBox, signature_id: str, token: str) -> bool:
    return bool(token) and keys.verify(f"paraph:sign:{signature_id}", token)


def signing_link(settings: Settings, keys: KeyBox, signature_id: str) -> str:
    """The absolute link a signer gets by mail."""
    query = urlencode({"token": mail_token(keys, signature_id)})
    return f"{settings.base_url}{MAIL_SIGN_PATH}/{signature_id}?{query}"


def request_signing_url(base_url: str, signature_request_id: str) -> str:
    """A mailed request's ``signing_url``: no token in it. It opens the signer's page only for a signer signed
    in with an account of the same email; anyone else is asked for the link mailed to them."""
    return f"{base_url}{REQUEST_SIGN_PATH}/{signature_request_id}"


def final_copy_token(keys: KeyBox, signature_request_id: str) -> str:
    return keys.sign(f"paraph:final:{signature_request_id}")


def final_copy_token_ok(keys: KeyBox, signature_request_id: str, token: str) -> bool:
    return bool(token) and keys.verify(f"paraph:final:{signature_request_id}", token)


def final_copy_link(settings: Settings, keys: KeyBox, signature_request_id: str) -> str:
    query = urlencode({"token": final_copy_token(keys, signature_request_id)})
    return f"{settings.base_url}{FINAL_COPY_PATH}/{signature_request_id}?{query}"
