"""Tokens, identifiers, API key encryption and password hashing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

_hasher = PasswordHasher()
#: Access codes: argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane). A code is short and tried at most
#: PIN_TRIES times online before the signer is locked; its hash is for a stolen database, not the page.
_pin_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def new_hex_id(nbytes: int = 20) -> str:
    """A random lowercase hex identifier (40 characters by default, like Dropbox Sign's ids)."""
    return secrets.token_hex(nbytes)


def new_api_key() -> str:
    """256 random bits as 64 hex characters, the shape of a Dropbox Sign API key."""
    return secrets.token_hex(32)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class KeyBox:
    """Encrypts secrets that Paraph must be able to read back (API keys: ``event_hash`` is keyed by them),
    and derives deterministic lookup digests so a presented key is found without decrypting every row."""

    def __init__(self, secret_key: str) -> None:
        root = hashlib.sha256(secret_key.encode()).digest()
        enc_key = hmac.new(root, b"paraph:encrypt", hashlib.sha256).digest()
        self._lookup_key = hmac.new(root, b"paraph:lookup", hashlib.sha256).digest()
        self._sign_key = hmac.new(root, b"paraph:sign", hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(enc_key))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:  # the secret key changed under the database
            raise RuntimeError("cannot decrypt a stored secret: was PARAPH_SECRET_KEY changed?") from exc

    def lookup(self, value: str) -> str:
        return hmac.new(self._lookup_key, value.encode(), hashlib.sha256).hexdigest()

    def sign(self, message: str) -> str:
        """A URL-safe MAC of ``message`` (signed file URLs, CSRF tokens)."""
        mac = hmac.new(self._sign_key, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def verify(self, message: str, signature: str) -> bool:
        return constant_time_equals(self.sign(message), signature)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def hash_pin(pin: str) -> str:
    """A signer's access code, hashed (argon2id: salted, slow, memory-hard)."""
    return _pin_hasher.hash(pin)


def verify_pin(pin_hash: str, pin: str) -> bool:
    """Whether ``pin`` is the access code of ``pin_hash`` (argon2's verification compares in constant time)."""
    try:
        return _pin_hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check, so a missing password does not show.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
