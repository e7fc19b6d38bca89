"""A sender's regular expression cannot freeze the server: it runs on a linear-time engine, patterns that
engine refuses are a 400 at creation, and the value it runs on is bounded."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import AccountInfo, Server
from tests.signing.helpers import action, api, create, f, make_pdf, new_app, sign_url, token_of

CATASTROPHIC = "(a+)+$"


def _rule(pattern: str) -> list[dict[str, Any]]:
    return [
        {
            "id": "code_rule",
            "trigger_operator": "AND",
            "triggers": [{"id": "code", "operator": "match", "value": pattern}],
            "actions": [{"field_id": "note", "hidden": True, "type": "change-field-visibility"}],
        }
    ]


def test_a_catastrophic_pattern_answers_at_once_through_submit(server: Server, account: AccountInfo) -> None:
    fields = [
        f("sig", "signature", 0, 72, 420, 200, 40),
        f("code", "text", 0, 72, 480, validation_type="custom_regex", validation_custom_regex=CATASTROPHIC),
        f("note", "text", 0, 72, 520, required=False),
    ]
    client_id = new_app(server, account, ["localhost"])
    sr = create(
        server,
        account,
        client_id=client_id,
        signers=[("Jack Doe", "jack@example.com")],
        fields=fields,
        form_field_rules=_rule(CATASTROPHIC),
    )
    sid = sr["signatures"][0]["signature_id"]
    token = token_of(sign_url(server, account, sid))
    signature = {"method": "type", "text": "Jack Doe"}
    hostile = "a" * 990 + "!"  # Python's re would backtrack 2**990 times on this
    status, body = action(server, sid, "submit", {"token": token, "values": {"sig": True, "code": hostile}})
    assert status == 422, body
    assert "code" in body["error"]["fields"]
    status, body = action(server, sid, "submit", {"token": token, "values": {"sig": True, "code": "a" * 5000}})
    assert status == 422 and "code" in body["error"]["fields"]  # bounded: too long for a pattern
    status, body = action(
        server, sid, "submit", {"token": token, "values": {"sig": True, "code": "aaaa"}, "signature": signature}
    )
    assert (status, body) == (200, {"ok": True, "complete": True})


REFUSED = [r"(a)\1", r"(?=a)a", r"(?<!x)a", "a{2000}{2000}"]  # backreference, look-around, too large


def test_a_pattern_the_engine_refuses_is_a_400_at_creation(server: Server, account: AccountInfo) -> None:
    def send(**extra: Any) -> tuple[int, Any]:
        form: dict[str, Any] = {
            "title": "Regex",
            "test_mode": "1",
            "files[0]": ("a.pdf", make_pdf(1), "application/pdf"),
            "signers[0][name]": "Ann",
            "signers[0][email_address]": "ann@example.com",
            **{k: json.dumps(v) for k, v in extra.items()},
        }
        return api(server, account, "POST", "/signature_request/send", fields=form)

    for pattern in REFUSED:
        field = f("code", "text", 0, 72, 480, validation_type="custom_regex", validation_custom_regex=pattern)
        status, body = send(form_fields_per_document=[f("sig", "signature", 0, 72, 420, 200, 40), field])
        assert status == 400, (pattern, body)
        assert body["error"]["error_name"] == "bad_request"
        assert body["error"]["error_path"].endswith("validation_custom_regex"), body

        fields = [f("code", "text", 0, 72, 480), f("note", "text", 0, 72, 520, required=False)]
        status, body = send(form_fields_per_document=fields, form_field_rules=_rule(pattern))
        assert status == 400, (pattern, body)
        assert "form_field_rules" in body["error"]["error_path"], body
