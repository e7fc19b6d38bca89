"""Mail: signing links one signer at a time, reminders, expiry, final copies, disabled endpoints; SMTP and files."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import urllib3

from paraph.callbacks import targets
from paraph.db import utcnow
from paraph.mail import messages
from paraph.mail import tasks as mail_tasks
from paraph.mail.mailer import FileMailer, MailConfigError, SmtpConfig, SmtpMailer, parse_smtp_url
from paraph.mail.tasks import _expiry_notices
from paraph.models import Account, SignatureRequest
from paraph.signature_request.tasks import expire_due
from paraph.web.outbox import list_mails, load_mail
from tests.client import wait_until
from tests.conftest import AccountInfo, Inbox, Server
from tests.mail.helpers import FINAL_LINK, html_of, links, text_of
from tests.pgcluster import free_port
from tests.signing.helpers import action, api, create, f, page


@pytest.fixture
def settings_overrides(inbox: Inbox) -> dict[str, Any]:
    return {"smtp_url": f"smtp://{inbox.host}:{inbox.port}"}


def letter(**kw: Any) -> messages.Letter:
    return messages.signer_invite(
        to=messages.Recipient("jack@example.com", "Jack Doe"),
        requester_email="boss@example.com",
        title="NDA",
        subject=None,
        message="Please sign <today>.",
        link="https://sign.example.com/sign/abc?token=t",
        reminder=False,
        account_id="acc123",
        test_mode=True,
        **kw,
    )


# -- mailers ---------------------------------------------------------------------------------------------


def test_it_reads_smtp_urls() -> None:
    assert parse_smtp_url("smtp://mail.test:2525") == SmtpConfig("mail.test", 2525)
    got = parse_smtp_url("smtp://me%40x.com:p%3Ass@mail.test:587?starttls=1")
    assert (got.username, got.password, got.starttls, got.port) == ("me@x.com", "p:ss", True, 587)
    assert parse_smtp_url("smtps://mail.test").port == 465
    with pytest.raises(MailConfigError):
        parse_smtp_url("http://mail.test:25")


def test_it_sends_text_and_html_through_smtp_logging_in_when_credentials_are_given() -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    got: list[tuple[str, bytes]] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            got.append((session.authenticated and session.auth_data.login.decode(), envelope.content))
            return "250 OK"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"paraph", b"s3cret")
        return AuthResult(success=ok, auth_data=data if ok else None)

    port = free_port()
    controller = Controller(
        Handler(), hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        mailer = SmtpMailer(parse_smtp_url(f"smtp://paraph:s3cret@127.0.0.1:{port}"))
        mailer.send(messages.compose(letter(), sender="Paraph <noreply@paraph.test>"))
    finally:
        controller.stop()
    assert len(got) == 1
    login, raw = got[0]
    assert login == "paraph"
    assert b"X-Paraph-Account: acc123" in raw and b"multipart/alternative" in raw


def test_it_escapes_what_it_writes_into_the_html_part() -> None:
    msg = messages.compose(letter(), sender="noreply@paraph.test")
    assert "Please sign &lt;today&gt;." in html_of(msg)
    assert "Please sign <today>." in text_of(msg)
    assert 'href="https://sign.example.com/sign/abc?token=t"' in html_of(msg)
    assert "Test" in text_of(msg) or "test-mode" in text_of(msg)
    assert msg["Reply-To"] == "boss@example.com"


def test_it_writes_eml_files_that_the_dashboard_outbox_lists(tmp_path: Path) -> None:
    directory = tmp_path / "mail"
    FileMailer(directory).send(messages.compose(letter(), sender="noreply@paraph.test"))
    files = list(directory.iterdir())
    assert len(files) == 1 and re.fullmatch(r"\d{13}-[0-9a-f-]{36}\.eml", files[0].name)
    listed = list_mails(directory, "someone-else@example.com", "acc123")
    assert [m.subject for m in listed] == ["boss@example.com sent you \u201cNDA\u201d to sign"]
    shown = load_mail(directory, listed[0].mail_id, "someone-else@example.com", "acc123")
    assert shown is not None and shown.text is not None and "https://sign.example.com/sign/abc?token=t" in shown.text


# -- the flow --------------------------------------------------------------------------------------------


def sign_from_mail(server: Server, msg: EmailMessage, api_id: str) -> None:
    signature_id, token = links(msg)
    opened = page(server, f"{server.url}/sign/{signature_id}?token={token}")
    assert opened.status == 200
    assert "frame-ancestors 'none'" in opened.headers["content-security-policy"]
    body = {"token": token, "values": {api_id: True}, "signature": {"method": "type", "text": "Me"}}
    status, answer = action(server, signature_id, "submit", body)
    assert status == 200, answer


def test_it_mails_each_signer_in_turn_and_every_party_the_final_copy(
    server: Server, account: AccountInfo, inbox: Inbox
) -> None:
    fields = [f("ann_sig", "signature", 0, 72, 420, 200, 40), f("bob_sig", "signature", 1, 300, 420, 200, 40)]
    sr = create(
        server,
        account,
        signers=[("Ann", "ann@example.com"), ("Bob", "bob@example.com")],
        fields=fields,
        ordered=True,
        cc_email_addresses=["legal@example.com"],
        subject="Please sign the NDA",
        message="Thanks!",
    )
    first = inbox.wait_for(1)[0]
    assert first["To"] == "Ann <ann@example.com>"
    assert first["Subject"] == "Please sign the NDA"
    assert first["X-Paraph-Account"] == account.account_id
    assert "Thanks!" in text_of(first)
    sign_from_mail(server, first, "ann_sig")

    second = wait_until(lambda: inbox.to("bob@example.com"))[0]
    assert len(inbox.to("ann@example.com")) == 1
    sign_from_mail(server, second, "bob_sig")

    wanted = {"ann@example.com", "bob@example.com", account.email, "legal@example.com"}
    wait_until(lambda: all(any("Completed" in str(m["Subject"]) for m in inbox.to(a)) for a in wanted), 60)
    final = next(m for m in inbox.to("legal@example.com") if "Completed" in str(m["Subject"]))
    found = FINAL_LINK.search(text_of(final))
    assert found is not None and found.group(1) == sr["signature_request_id"]
    pdf = urllib3.request("GET", found.group(0), retries=False, timeout=30)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    forged = urllib3.request("GET", found.group(0)[:-4] + "AAAA", retries=False, timeout=30)
    assert forged.status == 404


def test_it_mails_a_reminder(server: Server, account: AccountInfo, inbox: Inbox) -> None:
    sr = create(server, account, signers=[("Ann", "ann@example.com")], fields=[f("s", "signature", 0, 72, 420)])
    inbox.wait_for(1)
    rid = sr["signature_request_id"]
    status, body = api(
        server, account, "POST", f"/signature_request/remind/{rid}", json={"email_address": "ann@example.com"}
    )
    assert status == 200, body
    reminder = inbox.wait_for(2)[1]
    assert str(reminder["Subject"]).startswith("Reminder")
    assert links(reminder) == links(inbox.messages[0])


def test_it_announces_an_expired_request_once(server: Server, account: AccountInfo, inbox: Inbox) -> None:
    sr = create(server, account, signers=[("Ann", "ann@example.com")], fields=[f("s", "signature", 0, 72, 420)])
    inbox.wait_for(1)
    rt = server.runtime
    with rt.unit_of_work() as session:
        session.execute(
            sa.update(SignatureRequest)
            .where(SignatureRequest.signature_request_id == sr["signature_request_id"])
            .values(expires_at=utcnow() - dt.timedelta(minutes=1))
        )
    assert expire_due(rt) == 1
    _expiry_notices(rt)
    _expiry_notices(rt)
    got = inbox.wait_for(3)
    expired = [m for m in got if str(m["Subject"]).startswith("Expired")]
    assert sorted(str(m["To"]) for m in expired) == sorted(["Ann <ann@example.com>", account.email])
    link = links(inbox.messages[0])
    gone = page(server, f"{server.url}/sign/{link[0]}?token={link[1]}")
    assert gone.status == 400 and "expired" in gone.data.decode()


def test_it_tells_the_owner_that_their_callback_endpoint_was_disabled(
    server: Server, account: AccountInfo, inbox: Inbox
) -> None:
    with server.runtime.unit_of_work() as session:
        owner = session.scalars(sa.select(Account).where(Account.account_id == account.account_id)).one()
        ep = targets.get_or_create(session, owner, None)
        ep.url = "https://hooks.example.com/paraph"
        ep.consecutive_failures = 5
        ep.disabled_at = utcnow()
        session.flush()
        mail_tasks.endpoint_disabled(session, ep)
    msg = inbox.wait_for(1)[0]
    assert msg["To"] == account.email
    assert "https://hooks.example.com/paraph" in text_of(msg)
    assert f"{server.url}/dashboard/callbacks" in text_of(msg)


def test_it_mails_the_new_signer_after_a_reassignment(server: Server, account: AccountInfo, inbox: Inbox) -> None:
    create(
        server,
        account,
        signers=[("Ann", "ann@example.com")],
        fields=[f("s", "signature", 0, 72, 420)],
        allow_reassign="1",
    )
    signature_id, token = links(inbox.wait_for(1)[0])
    body = {"token": token, "name": "Carol", "email_address": "carol@example.com", "reason": "On leave"}
    status, answer = action(server, signature_id, "reassign", body)
    assert status == 200 and answer["signature_id"] != signature_id
    carol = inbox.wait_for(2)[1]
    assert carol["To"] == "Carol <carol@example.com>"
    assert links(carol)[0] == answer["signature_id"]
    assert page(server, f"{server.url}/sign/{signature_id}?token={token}").status == 404


def test_it_mails_the_new_address_after_an_update(server: Server, account: AccountInfo, inbox: Inbox) -> None:
    sr = create(server, account, signers=[("Ann", "ann@example.com")], fields=[f("s", "signature", 0, 72, 420)])
    old_id, old_token = links(inbox.wait_for(1)[0])
    status, body = api(
        server,
        account,
        "POST",
        f"/signature_request/update/{sr['signature_request_id']}",
        json={"signature_id": old_id, "email_address": "bob@example.com"},
    )
    assert status == 200, body
    new_id = body["signature_request"]["signatures"][0]["signature_id"]
    assert new_id != old_id
    bob = inbox.wait_for(2)[1]
    assert "bob@example.com" in str(bob["To"])
    assert links(bob)[0] == new_id
    assert page(server, f"{server.url}/sign/{new_id}?token={links(bob)[1]}").status == 200
    assert page(server, f"{server.url}/sign/{old_id}?token={old_token}").status == 404
