"""Field validators shared by request models."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Deliberately simple: one @, no spaces, a dot in the domain. Mail servers decide the rest.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(value: str) -> str:
    value = value.strip()
    if len(value) > 255 or not _EMAIL.match(value):
        raise ValueError("Invalid email address")
    return value


def check_optional_email(value: str | None) -> str | None:
    return None if value is None else check_email(value)


MAX_URL_LENGTH = 2048


def check_http_url(value: str) -> str:
    """An absolute http(s) URL a browser may be sent to: no javascript:, data: or other scheme, no controls."""
    value = value.strip()
    if len(value) > MAX_URL_LENGTH:
        raise ValueError(f"The URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValueError("Not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("Only http and https URLs are accepted")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValueError("The URL contains spaces or control characters")
    return value


def check_optional_http_url(value: str | None) -> str | None:
    return None if value is None or value.strip() == "" else check_http_url(value)


def safe_link(value: str | None) -> str | None:
    """``value`` if it is an http(s) URL, else None: for rendering links stored before URLs were checked."""
    if not value:
        return None
    try:
        return check_http_url(value)
    except ValueError:
        return None
