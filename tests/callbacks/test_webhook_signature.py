"""event_hash against the official SDK's golden vectors; Standard Webhooks headers against the reference
library; the multipart body against real form parsers and the official SDK."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import time
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from dropbox_sign.event_callback_helper import EventCallbackHelper
from dropbox_sign.models.event_callback_request import EventCallbackRequest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.datastructures import Headers
from starlette.formparsers import MultiPartParser

from paraph.callbacks.webhook_signature import (
    callback_json,
    encode_callback_body,
    encode_callback_json,
    event_hash,
    new_webhook_secret,
    standard_webhook_headers,
)
from tests.reference import reference_dir

# The API key the official Python SDK's EventCallbackHelper tests use (quoted in CALLBACKS.md).
SDK_TEST_KEY = "324e3b0840f065eb51f3fd63231d0d33daa35d4ed10d27718839e81737065782"


def test_it_computes_the_documented_example_hash() -> None:
    assert (
        event_hash(SDK_TEST_KEY, "1348177752", "signature_request_sent")
        == "08d45a6b7677492b78be030cef18cfeaece8fe67e163cc8e526ee638ad483756"
    )


@pytest.mark.parametrize(
    "fixture", ["EventCallbackHelper_AccountCallbacks.json", "EventCallbackHelper_AppCallbacks.json"]
)
def test_it_matches_every_golden_vector_of_the_official_sdk(fixture: str) -> None:
    vectors: dict[str, Any] = json.loads((reference_dir() / "fixtures" / fixture).read_text())
    assert vectors, f"{fixture} holds no vectors"
    for name, payload in vectors.items():
        event = payload["event"]
        assert event_hash(SDK_TEST_KEY, event["event_time"], event["event_type"]) == event["event_hash"], name
        # The SDK agrees with the fixture too, so the vectors test what receivers actually run.
        assert EventCallbackHelper.is_valid(SDK_TEST_KEY, EventCallbackRequest.init(payload)), name


def test_it_gives_a_different_hash_for_another_key_time_or_type() -> None:
    base = event_hash(SDK_TEST_KEY, "1348177752", "signature_request_sent")
    assert event_hash(SDK_TEST_KEY[:-1] + "0", "1348177752", "signature_request_sent") != base
    assert event_hash(SDK_TEST_KEY, "1348177753", "signature_request_sent") != base
    assert event_hash(SDK_TEST_KEY, "1348177752", "signature_request_signed") != base


# -- Standard Webhooks ---------------------------------------------------------------------------------


def test_it_makes_webhook_secrets_of_32_random_bytes() -> None:
    a, b = new_webhook_secret(), new_webhook_secret()
    assert a.startswith("whsec_") and b.startswith("whsec_")
    assert len(base64.b64decode(a.removeprefix("whsec_"), validate=True)) == 32
    assert a != b


def _signed(body: bytes, *, timestamp: int | None = None) -> tuple[str, dict[str, str]]:
    secret = new_webhook_secret()
    ts = int(time.time()) if timestamp is None else timestamp
    return secret, standard_webhook_headers(secret, "evt_2f9c1e", ts, body)


def test_it_signs_headers_the_standard_webhooks_library_accepts() -> None:
    body, _ = encode_callback_body({"event": {"event_type": "callback_test"}})
    secret, headers = _signed(body)
    assert headers["webhook-id"] == "evt_2f9c1e"
    assert headers["webhook-signature"].startswith("v1,")
    Webhook(secret).verify(body, headers, json_parse=False)


def test_it_signs_exactly_what_the_reference_library_signs() -> None:
    secret = new_webhook_secret()
    body = b'{"a":1}'
    ts = 1_700_000_000
    ours = standard_webhook_headers(secret, "msg_1", ts, body)["webhook-signature"]
    theirs = Webhook(secret).sign("msg_1", dt.datetime.fromtimestamp(ts, dt.UTC), body.decode())
    assert ours == theirs


def test_it_signs_so_that_a_changed_body_is_refused() -> None:
    body, _ = encode_callback_body({"event": {"event_type": "signature_request_signed"}})
    secret, headers = _signed(body)
    tampered = body.replace(b"signed", b"viewed")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, headers, json_parse=False)


def test_it_signs_so_that_an_old_timestamp_is_refused() -> None:
    body, _ = encode_callback_body({"event": {"event_type": "callback_test"}})
    secret, headers = _signed(body, timestamp=int(time.time()) - 3600)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers, json_parse=False)


def test_it_signs_so_that_another_secret_is_refused() -> None:
    body, _ = encode_callback_body({"event": {"event_type": "callback_test"}})
    _secret, headers = _signed(body)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(body, headers, json_parse=False)


def test_it_refuses_a_secret_that_is_not_base64() -> None:
    with pytest.raises(ValueError):
        standard_webhook_headers("whsec_not*base64!", "msg", 1, b"")


# -- the multipart body --------------------------------------------------------------------------------


def _payload(app_id: str | None) -> dict[str, Any]:
    event_time = "1700000000"
    return {
        "event": {
            "event_time": event_time,
            "event_type": "signature_request_sent",
            "event_hash": event_hash(SDK_TEST_KEY, event_time, "signature_request_sent"),
            "event_metadata": {
                "related_signature_id": None,
                "reported_for_account_id": "a1b2c3",
                "reported_for_app_id": app_id,
                "event_message": None,
            },
        },
        "account_guid": "a1b2c3",
        "client_id": app_id,
        "signature_request": {
            "signature_request_id": "fa5c8a0b0f492d768749333ad6fcc214c111e967",
            "title": "NDA — José Ñúñez ✓ </script>",
            "test_mode": True,
            "metadata": {"order": "42"},
        },
    }


def _parse_form(body: bytes, content_type: str) -> dict[str, str]:
    async def stream() -> AsyncGenerator[bytes, None]:
        yield body[:7]  # in two pieces, as a socket may deliver it
        yield body[7:]

    async def parse() -> dict[str, str]:
        form = await MultiPartParser(Headers({"content-type": content_type}), stream()).parse()
        fields = list(form.multi_items())
        assert all(isinstance(v, str) for _k, v in fields), "the json part must be a text field, not a file"
        return {k: str(v) for k, v in fields}

    return asyncio.run(parse())


def test_it_encodes_one_json_field_a_multipart_parser_reads_back() -> None:
    payload = _payload("0dd3b823a682527788c4e40cb7b6f7e9")
    body, content_type = encode_callback_body(payload)
    assert content_type.startswith("multipart/form-data; boundary=")
    form = _parse_form(body, content_type)
    assert list(form) == ["json"]
    assert form["json"] == callback_json(payload)
    assert json.loads(form["json"]) == payload


def test_it_writes_compact_ascii_json() -> None:
    text = callback_json(_payload(None))
    assert ", " not in text and '": ' not in text
    assert text.isascii()


def test_it_encodes_the_same_bytes_for_the_same_input() -> None:
    one = encode_callback_json('{"a":1}', boundary="b0undary")
    two = encode_callback_json('{"a":1}', boundary="b0undary")
    assert (
        one
        == two
        == (
            b'--b0undary\r\nContent-Disposition: form-data; name="json"\r\n\r\n{"a":1}\r\n--b0undary--\r\n',
            "multipart/form-data; boundary=b0undary",
        )
    )


def test_it_uses_a_new_random_boundary_each_time() -> None:
    assert encode_callback_json("{}")[1] != encode_callback_json("{}")[1]


def test_it_refuses_a_boundary_that_occurs_in_the_body() -> None:
    with pytest.raises(ValueError):
        encode_callback_json('{"a":"--xyz"}', boundary="xyz")


@pytest.mark.parametrize(
    ("app_id", "kind"), [("0dd3b823a682527788c4e40cb7b6f7e9", "app_callback"), (None, "account_callback")]
)
def test_it_encodes_a_body_the_official_sdk_parses_and_validates(app_id: str | None, kind: str) -> None:
    body, content_type = encode_callback_body(_payload(app_id))
    form = _parse_form(body, content_type)
    callback = EventCallbackRequest.init(json.loads(form["json"]))
    assert EventCallbackHelper.is_valid(SDK_TEST_KEY, callback)
    assert not EventCallbackHelper.is_valid(SDK_TEST_KEY[::-1], callback)
    assert EventCallbackHelper.get_callback_type(callback) == kind
    assert callback.signature_request is not None
    assert callback.signature_request.title == "NDA — José Ñúñez ✓ </script>"


# -- the reference-folder helper -----------------------------------------------------------------------


def test_it_skips_without_the_reference_folder_but_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import tests.reference as reference

    monkeypatch.setattr(reference, "REFERENCE_DIR", tmp_path / "absent")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("PARAPH_REQUIRE_REFERENCE", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not found"):
        reference.reference_dir()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must provide it"):
        reference.reference_dir()
