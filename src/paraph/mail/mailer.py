"""Mailers: where a composed message goes. One Protocol, two implementations, chosen by a setting.

``SmtpMailer`` talks to PARAPH_SMTP_URL with smtplib (blocking: it is called from job threads, never from
the event loop). ``FileMailer`` writes ``.eml`` files under DATA_DIR/mail/, named ``<unix-ms>-<uuid>.eml``,
which the dashboard shows as the outbox: a developer sees every mail without running a mail server.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from paraph.config import Settings

SMTP_TIMEOUT_SECONDS = 30.0
_TRUE = frozenset({"1", "true", "yes", "on"})


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` (its To/Cc headers say to whom) or raise; a raise makes the job retry."""
        ...


class MailConfigError(ValueError):
    """PARAPH_SMTP_URL cannot be understood."""


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    implicit_tls: bool = False  # smtps://


def parse_smtp_url(url: str) -> SmtpConfig:
    """``smtp://[user:pass@]host:port[?starttls=1]`` or ``smtps://...`` (TLS from the first byte)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise MailConfigError(f"PARAPH_SMTP_URL must start with smtp:// or smtps://, got {parts.scheme!r}")
    if not parts.hostname:
        raise MailConfigError("PARAPH_SMTP_URL has no host")
    try:
        port = parts.port
    except ValueError as exc:
        raise MailConfigError(f"PARAPH_SMTP_URL has a bad port: {exc}") from None
    implicit = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    starttls = (query.get("starttls") or ["0"])[0].lower() in _TRUE
    return SmtpConfig(
        host=parts.hostname,
        port=port or (465 if implicit else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        starttls=starttls and not implicit,
        implicit_tls=implicit,
    )


class SmtpMailer:
    """One SMTP connection per message: mail is rare enough, and a connection kept open goes stale."""

    def __init__(self, config: SmtpConfig, *, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        self.config = config
        self.timeout = timeout

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        if c.implicit_tls:
            return smtplib.SMTP_SSL(c.host, c.port, timeout=self.timeout, context=ssl.create_default_context())
        return smtplib.SMTP(c.host, c.port, timeout=self.timeout)

    def send(self, message: EmailMessage) -> None:
        with self._connect() as smtp:
            smtp.ehlo()
            if self.config.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.config.username is not None:
                smtp.login(self.config.username, self.config.password or "")
            smtp.send_message(message)


class FileMailer:
    """Writes each message to ``directory/<unix-ms>-<uuid>.eml``, atomically (a reader never sees half)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{int(time.time() * 1000)}-{uuid.uuid4()}"
        tmp = self.directory / f".{name}.tmp"
        data = bytes(message)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.directory / f"{name}.eml")


def make_mailer(settings: Settings) -> Mailer:
    if settings.smtp_url:
        return SmtpMailer(parse_smtp_url(settings.smtp_url))
    return FileMailer(settings.data_dir / "mail")
