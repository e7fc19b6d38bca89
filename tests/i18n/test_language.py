"""A French account's signers: their mail in French, their signing page in French (the account's locale; a
``user_culture`` wins, then the browser's Accept-Language), dates written the French way."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.dates import format_date

from paraph.signing.access import signing_link
from tests.conftest import AccountInfo, Inbox, Server
from tests.mail.helpers import html_of, links, text_of
from tests.signing.helpers import action, api, create, f, page


@pytest.fixture
def settings_overrides(inbox: Inbox) -> dict[str, Any]:
    return {"smtp_url": f"smtp://{inbox.host}:{inbox.port}"}


def test_a_french_accounts_signer_gets_french_mail_and_a_french_page(
    server: Server, account: AccountInfo, inbox: Inbox
) -> None:
    status, body = api(server, account, "PUT", "/account", json={"locale": "fr-FR"})
    assert status == 200 and body["account"]["locale"] == "fr-FR", body
    sr = create(
        server,
        account,
        signers=[("Jacques Martin", "jacques@example.com")],
        fields=[f("name", "text", 0, 72, 380, 220, 24, name="Nom"), f("sig", "signature", 0, 72, 420, 200, 40)],
        title="Contrat",
        message="Voici le contrat.",
    )
    mail = inbox.wait_for(1)[0]
    text, markup = text_of(mail).replace("\r\n", "\n"), html_of(mail)
    assert str(mail["Subject"]) == f"{account.email} vous a envoyé « Contrat » à signer"
    assert text.startswith("Bonjour Jacques Martin,\n\n")
    assert f"{account.email} vous a envoyé « Contrat » à vérifier et signer." in text
    assert f"Message de {account.email} :\nVoici le contrat." in text
    assert "Vérifier et signer:\nhttp://" in text and "Ce lien est personnel" in text
    assert "Ceci est une demande en mode test" in text and text.endswith("Envoyé par Paraph\n")
    assert ">Vérifier et signer</a>" in markup and "Ou ouvrez ce lien :" in markup

    signature_id, token = links(mail)
    url = f"{server.url}/sign/{signature_id}?token={token}"
    sent = format_date(dt.datetime.fromtimestamp(sr["created_at"], dt.UTC), "long", locale="fr_FR")
    french = page(server, url)
    body_fr = html.unescape(french.data.decode())
    assert french.status == 200 and '<html lang="fr-FR">' in body_fr
    assert f"Envoyé le {sent}" in body_fr and "Champ suivant" in body_fr and "J\u2019accepte" in body_fr
    assert "vous demande, Jacques Martin, de signer ce document." in body_fr
    # The script's strings come with the page, as JSON.
    assert '"Champs à compléter : {count}"' in body_fr or "Champs \\u00e0 compl\\u00e9ter" in body_fr
    # The browser's language comes before the account's (Dropbox Sign: "else app uses browser language");
    # user_culture before both.
    browser_de = urllib3_get(url, {"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="de-DE">' in browser_de
    german = page(server, url, user_culture="de_DE").data.decode()
    assert '<html lang="de-DE">' in german and "Nächstes Feld" in german
    # A link that is not valid tells nothing of the request (not its account's locale): the browser's language.
    wrong = html.unescape(urllib3_get(f"{server.url}/sign/{signature_id}?token=nope", {"Accept-Language": "fr-CA"}))
    assert '<html lang="fr-FR">' in wrong and "Ce lien de signature n\u2019est pas valide." in wrong


def urllib3_get(url: str, headers: dict[str, str]) -> str:
    import urllib3

    return urllib3.request("GET", url, headers=headers, retries=False, timeout=30).data.decode()


def test_a_message_with_a_name_in_it_is_shown_in_the_signers_language(server: Server, account: AccountInfo) -> None:
    """ "Not your turn" names who signs first: the page shows it in French or German, the names as they are,
    and an action's answer carries the msgid and values for the page's script to translate."""
    status, _ = api(server, account, "PUT", "/account", json={"locale": "fr-FR"})
    assert status == 200
    sr = create(
        server,
        account,
        signers=[("Ann Roe", "ann@example.com"), ("Bob Poe", "bob@example.com")],
        fields=[f("sig0", "signature", 0, 72, 420, 200, 40), f("sig1", "signature", 1, 72, 520, 200, 40)],
        ordered=True,
    )
    link = signing_link(server.runtime.settings, server.runtime.keys, sr["signatures"][1]["signature_id"])
    french = html.unescape(page(server, link).data.decode())
    assert "Ce n\u2019est pas encore votre tour : Ann Roe doit signer avant vous." in french, french
    german = html.unescape(urllib3_get(link, {"Accept-Language": "de"}))
    assert "Sie sind noch nicht an der Reihe: Zuerst muss Ann Roe unterschreiben." in german
    token = parse_qs(urlsplit(link).query)["token"][0]
    status, body = action(server, sr["signatures"][1]["signature_id"], "decline", {"token": token, "reason": "x"})
    assert status == 409 and body["error"]["message"] == "It is not your turn yet: waiting for Ann Roe to sign first."
    assert body["error"]["message_id"] == "It is not your turn yet: waiting for {names} to sign first."
    assert body["error"]["message_vars"] == {"names": "Ann Roe"}
