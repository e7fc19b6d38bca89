"""The local mail outbox: ``.eml`` files under DATA_DIR/mail/ (named ``<unix-ms>-<uuid>.eml``) when no SMTP
server is configured. Files are not per account, so an account sees a mail only when it is addressed to its
email (To or Cc) or carries its account_id in ``X-Paraph-Account``."""

from __future__ import annotations

import datetime as dt
import email.policy
import os
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses
from pathlib import Path

MAIL_ID = re.compile(r"^(\d{1,16})-[A-Za-z0-9-]{1,64}$")
HEADER_BYTES = 64 * 1024
MAX_MAIL_BYTES = 25 * 1024 * 1024
SHOWN_HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID")


@dataclass(slots=True)
class MailSummary:
    mail_id: str
    sent_at: dt.datetime
    subject: str
    sender: str
    to: str


@dataclass(slots=True)
class MailView:
    summary: MailSummary
    headers: list[tuple[str, str]]
    text: str | None
    html: str | None
    attachments: list[tuple[str, int]] = field(default_factory=list)


def mail_dir(data_dir: Path) -> Path:
    return data_dir / "mail"


def _for_account(msg: EmailMessage, email_address: str, account_id: str) -> bool:
    if (msg.get("X-Paraph-Account") or "").strip() == account_id:
        return True
    values = [str(v) for v in (msg.get_all("To") or []) + (msg.get_all("Cc") or [])]
    wanted = email_address.strip().lower()
    return any(addr.strip().lower() == wanted for _name, addr in getaddresses(values))


def _summary(mail_id: str, msg: EmailMessage) -> MailSummary:
    match = MAIL_ID.match(mail_id)
    assert match is not None
    return MailSummary(
        mail_id=mail_id,
        sent_at=dt.datetime.fromtimestamp(int(match.group(1)) / 1000, dt.UTC),
        subject=str(msg.get("Subject") or "(no subject)"),
        sender=str(msg.get("From") or ""),
        to=", ".join(str(v) for v in (msg.get_all("To") or [])),
    )


def _headers(path: Path) -> EmailMessage | None:
    try:
        with path.open("rb") as f:
            head = f.read(HEADER_BYTES)
    except OSError:
        return None
    msg = BytesHeaderParser(policy=email.policy.default).parsebytes(head)
    assert isinstance(msg, EmailMessage)
    return msg


def list_mails(
    directory: Path, email_address: str, account_id: str, *, limit: int = 100, scan: int = 5000
) -> list[MailSummary]:
    """The account's mails, newest first; only the newest ``scan`` files are looked at."""
    try:
        entries = [e.name[:-4] for e in os.scandir(directory) if e.name.endswith(".eml") and e.is_file()]
    except FileNotFoundError:
        return []
    ids = sorted((m for m in entries if MAIL_ID.match(m)), key=lambda m: (int(m.split("-", 1)[0]), m), reverse=True)
    out = []
    for mail_id in ids[:scan]:
        msg = _headers(directory / f"{mail_id}.eml")
        if msg is not None and _for_account(msg, email_address, account_id):
            out.append(_summary(mail_id, msg))
            if len(out) >= limit:
                break
    return out


def _text_of(part: EmailMessage | None) -> str | None:
    if part is None:
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken transfer encoding
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None
    return content if isinstance(content, str) else None


def load_mail(directory: Path, mail_id: str, email_address: str, account_id: str) -> MailView | None:
    """One mail, or None when it does not exist or is not the account's."""
    if not MAIL_ID.match(mail_id):
        return None
    path = directory / f"{mail_id}.eml"
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_MAIL_BYTES)
    except OSError:
        return None
    msg = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    if not _for_account(msg, email_address, account_id):
        return None
    headers = [(name, str(msg.get(name))) for name in SHOWN_HEADERS if msg.get(name) is not None]
    attachments = []
    for part in msg.iter_attachments():
        assert isinstance(part, EmailMessage)
        payload = part.get_payload(decode=True)
        attachments.append((part.get_filename() or "(unnamed)", len(payload) if isinstance(payload, bytes) else 0))
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    return MailView(
        summary=_summary(mail_id, msg),
        headers=headers,
        text=_text_of(text_part if isinstance(text_part, EmailMessage) else None),
        html=_text_of(html_part if isinstance(html_part, EmailMessage) else None),
        attachments=attachments,
    )
