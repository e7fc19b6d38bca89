"""How the dashboard's status timeline words a request's audit events."""

from __future__ import annotations

import datetime as dt

from paraph.models import AuditEvent
from paraph.signing.trail import timeline

NOW = dt.datetime(2025, 3, 1, 12, 30, tzinfo=dt.UTC)


def test_it_words_the_expiry_notice_mail_like_the_other_mails() -> None:
    # The expiry notice is recorded by its job kind, mail.expired_notice (the fan-out mail.expired records nothing).
    event = AuditEvent(
        id=1, tag="system:mail:expired_notice", at=NOW, actor_email="jack@example.com", data={"to": "jack@example.com"}
    )
    [entry] = timeline([event])
    assert entry.label == "Expiry notice emailed"
    assert entry.detail == "To jack@example.com"
    assert entry.actor is None
