"""The mails Paraph sends, each as plain text and simple HTML with the same words and the same links.

Builders take plain values (no ORM objects) and return a :class:`Letter`; :func:`compose` turns a letter
into an ``EmailMessage``. Every link is absolute, on PARAPH_BASE_URL (the caller builds it). The mails about
a request are written in the sending account's ``locale`` (:mod:`paraph.i18n`; English when it has none).
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

from paraph import i18n
from paraph.i18n import N_

ACCOUNT_HEADER = "X-Paraph-Account"
KIND_HEADER = "X-Paraph-Mail"


@dataclass(frozen=True, slots=True)
class Recipient:
    email: str
    name: str = ""

    def header(self) -> str:
        if not self.name:
            return self.email
        local, _, domain = self.email.rpartition("@")
        try:
            return str(Address(display_name=self.name, username=local, domain=domain))
        except (ValueError, IndexError):
            return self.email


@dataclass(frozen=True, slots=True)
class Letter:
    kind: str  # signer_invite | remind | final_copy | expired | endpoint_disabled
    to: Recipient
    subject: str
    paragraphs: list[str]
    link: tuple[str, str] | None = None  # (button label, absolute URL)
    after: list[str] = field(default_factory=list)  # paragraphs after the link
    account_id: str | None = None
    reply_to: str | None = None
    language: str = i18n.DEFAULT  # a supported culture (paraph.i18n.SUPPORTED)


def compose(letter: Letter, *, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = letter.to.header()
    msg["Subject"] = _one_line(letter.subject)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "paraph.local"
    msg["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex[:12], domain=domain)
    if letter.reply_to:
        msg["Reply-To"] = letter.reply_to
    if letter.account_id:
        msg[ACCOUNT_HEADER] = letter.account_id
    msg[KIND_HEADER] = letter.kind
    msg.set_content(_text(letter))
    msg.add_alternative(_html(letter), subtype="html")
    return msg


def _one_line(text: str) -> str:
    return " ".join(text.split())[:250]


def _text(letter: Letter) -> str:
    blocks = list(letter.paragraphs)
    if letter.link:
        blocks.append(f"{letter.link[0]}:\n{letter.link[1]}")
    blocks += letter.after
    blocks.append("-- \n" + i18n.gettext(letter.language, N_("Sent by Paraph")))
    return "\n\n".join(blocks) + "\n"


def _html(letter: Letter) -> str:
    def para(text: str) -> str:
        return '<p style="margin:0 0 14px">' + html.escape(text).replace("\n", "<br>") + "</p>"

    parts = [para(p) for p in letter.paragraphs]
    if letter.link:
        label, url = (html.escape(v, quote=True) for v in letter.link)
        parts.append(
            '<p style="margin:20px 0"><a href="' + url + '" style="background:#1d4ed8;color:#ffffff;'
            'padding:10px 18px;border-radius:6px;text-decoration:none;display:inline-block">' + label + "</a></p>"
            '<p style="margin:0 0 14px;font-size:12px;color:#555">'
            + html.escape(i18n.gettext(letter.language, N_("Or open this link:")))
            + ' <a href="'
            + url
            + '">'
            + url
            + "</a></p>"
        )
    parts += [para(p) for p in letter.after]
    return (
        '<!doctype html><html><body style="font-family:Helvetica,Arial,sans-serif;font-size:15px;color:#111827;'
        'line-height:1.45"><div style="max-width:560px;margin:0 auto;padding:24px">'
        + "".join(parts)
        + '<p style="margin-top:28px;font-size:12px;color:#6b7280">'
        + html.escape(i18n.gettext(letter.language, N_("Sent by Paraph")))
        + "</p></div></body></html>\n"
    )


# -- the mails -------------------------------------------------------------------------------------------


class _Words:
    """The mail's words in one language: ``_("… {name} …", name=value)``; a title in that language's quotes."""

    def __init__(self, locale: str | None) -> None:
        self.language = i18n.normalize(locale) or i18n.DEFAULT

    def __call__(self, message: str, **values: Any) -> str:
        return i18n.gettext(self.language, message, **values)

    def quoted(self, title: str) -> str:
        return self(N_("\u201c{title}\u201d"), title=title) if title else self(N_("a document"))

    def hello(self, name: str) -> str:
        return self(N_("Hello {name},"), name=name) if name else self(N_("Hello,"))


def signer_invite(
    *,
    to: Recipient,
    requester_email: str,
    title: str,
    subject: str | None,
    message: str | None,
    link: str,
    reminder: bool,
    account_id: str,
    test_mode: bool,
    locale: str | None = None,
) -> Letter:
    """A signer's link to their signing page (first time, or as a reminder), in the sender's ``locale``."""
    _ = _Words(locale)
    quoted = _.quoted(title)
    if reminder:
        head = _(
            "Reminder: {requester} is waiting for your signature on {title}.", requester=requester_email, title=quoted
        )
        default_subject = _("Reminder: {title} is waiting for your signature", title=quoted)
    else:
        head = _("{requester} has sent you {title} to review and sign.", requester=requester_email, title=quoted)
        default_subject = _("{requester} sent you {title} to sign", requester=requester_email, title=quoted)
    paragraphs = [_.hello(to.name), head]
    if message:
        paragraphs.append(_("Message from {requester}:", requester=requester_email) + "\n" + message)
    after = [_("This link is personal: do not forward this mail.")]
    if test_mode:
        after.append(_("This is a test-mode request: its signatures are not legally binding."))
    return Letter(
        kind="remind" if reminder else "signer_invite",
        to=to,
        subject=(_("Reminder: {subject}", subject=subject) if reminder and subject else subject) or default_subject,
        paragraphs=paragraphs,
        link=(_("Review and sign"), link),
        after=after,
        account_id=account_id,
        reply_to=requester_email,
        language=_.language,
    )


def final_copy(
    *, to: Recipient, title: str, link: str, account_id: str, signer_names: list[str], locale: str | None = None
) -> Letter:
    """Every party's copy of the completed document, in the sender's ``locale``."""
    _ = _Words(locale)
    who = ", ".join(n for n in signer_names if n) or _("every signer")
    return Letter(
        kind="final_copy",
        to=to,
        subject=_("Completed: {title}", title=_.quoted(title)),
        paragraphs=[
            _.hello(to.name),
            _("{title} has been signed by {who}.", title=_.quoted(title), who=who)
            if title
            else _("The document has been signed by {who}.", who=who),
            _(
                "The final document, with its audit trail, is sealed by the server: any later change to the file "
                "breaks the seal."
            ),
        ],
        link=(_("Download the signed document"), link),
        account_id=account_id,
        language=_.language,
    )


def expired(
    *,
    to: Recipient,
    title: str,
    requester_email: str,
    account_id: str,
    for_requester: bool,
    locale: str | None = None,
) -> Letter:
    """A request expired before every signer signed (in the sender's ``locale``)."""
    _ = _Words(locale)
    if for_requester:
        paragraphs = [
            _("Hello,"),
            _(
                "Your signature request {title} expired before every signer signed it. "
                "Send a new request if it is still needed.",
                title=_.quoted(title),
            ),
        ]
    else:
        paragraphs = [
            _.hello(to.name),
            _(
                "The signature request {title} from {requester} has expired: it can no longer be signed. "
                "Ask the sender for a new one if needed.",
                title=_.quoted(title),
                requester=requester_email,
            ),
        ]
    return Letter(
        kind="expired",
        to=to,
        subject=_("Expired: {title}", title=_.quoted(title)),
        paragraphs=paragraphs,
        account_id=account_id,
        reply_to=None if for_requester else requester_email,
        language=_.language,
    )


def endpoint_disabled(
    *, to: Recipient, url: str | None, app_name: str | None, failures: int, link: str, account_id: str
) -> Letter:
    """The account owner's callback endpoint was disabled after repeated failures."""
    target = f"the callback URL of your API app \u201c{app_name}\u201d" if app_name else "your account callback URL"
    return Letter(
        kind="endpoint_disabled",
        to=to,
        subject="Your Paraph callback endpoint was disabled",
        paragraphs=[
            "Hello,",
            f"Paraph stopped delivering events to {target}"
            + (f" ({url})" if url else "")
            + f" after {failures} events in a row failed.",
            "New events are kept, not lost: they are delivered once the endpoint works again and you save its "
            "URL again (on the callbacks page, or through the API), which enables it.",
        ],
        link=("Open the callbacks page", link),
        account_id=account_id,
    )
