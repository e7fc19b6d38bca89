"""Reading the mails Paraph sent: their text and HTML parts, and the signing link in them."""

from __future__ import annotations

import re
from email.message import EmailMessage

LINK = re.compile(r"http://127\.0\.0\.1:\d+/sign/([0-9a-f]{32})\?token=([A-Za-z0-9_-]+)")
FINAL_LINK = re.compile(r"http://127\.0\.0\.1:\d+/sign/final/([0-9a-f]{40})\?token=([A-Za-z0-9_-]+)")


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def html_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def links(msg: EmailMessage) -> tuple[str, str]:
    found = LINK.search(text_of(msg))
    assert found is not None, text_of(msg)
    assert found.group(0) in html_of(msg).replace("&amp;", "&")
    return found.group(1), found.group(2)
