"""Field validators shared by request models."""

from __future__ import annotations

import re

# Deliberately simple: one @, no spaces, a dot in the domain. Mail servers decide the rest.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(value: str) -> str:
    value = value.strip()
    if len(value) > 255 or not _EMAIL.match(value):
        raise ValueError("Invalid email address")
    return value


def check_optional_email(value: str | None) -> str | None:
    return None if value is None else check_email(value)
