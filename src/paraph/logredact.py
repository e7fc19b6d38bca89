"""Secrets out of log lines: the ``token=`` and ``signature=`` query parameters of sign URLs, file URLs and
final-copy links are bearer credentials, as is a signer's PIN pass (``pin=``), and an access log is read by
more people than the database.

One filter, on every handler: uvicorn's access and error logs (through ``uvicorn_log_config``) and the root
logger's (``install``). The message is formatted, then each secret value is replaced, whether it appears
plainly (``?token=...``) or percent-encoded inside another parameter (``next=%2Fsign%3Ftoken%3D...``).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

SECRET_PARAMS = ("token", "signature", "pin")
REDACTED = "[redacted]"

# name=value or name%3Dvalue, after a separator (plain or percent-encoded ? and &); the value runs to the next
# parameter separator (& or its encoding %26). csrf_token=... is redacted too: more is harmless.
_SECRET = re.compile(
    r"(?i)(?:(?<![A-Za-z0-9])|(?<=%3F)|(?<=%26))(" + "|".join(SECRET_PARAMS) + r")(=|%3D)"
    r"((?:[^&\s\"'#%]|%(?!26)[0-9A-Fa-f]{2})+)"
)


def redact(text: str) -> str:
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of ``logger`` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with the filter on each of its handlers."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": RedactSecrets}
    for handler in config.get("handlers", {}).values():
        handler.setdefault("filters", []).append("redact_secrets")
    return config
