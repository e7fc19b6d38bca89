"""The request decoder: every way real clients encode a request decodes to the same data, bad bodies are 400s.

Requests go through a real Starlette app driven in-process over ASGI (no network, no extra dependency), so the
bytes, the chunking and a client hanging up mid-body are exactly what the test says.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import pytest
from dropbox_sign.api.signature_request_api import SignatureRequestApi
from dropbox_sign.api_client import ApiClient
from dropbox_sign.configuration import Configuration
from dropbox_sign.models.signature_request_create_embedded_request import SignatureRequestCreateEmbeddedRequest
from dropbox_sign.models.sub_signature_request_signer import SubSignatureRequestSigner
from dropbox_sign.models.sub_signing_options import SubSigningOptions
from pydantic import BaseModel, ConfigDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from urllib3 import encode_multipart_formdata

from paraph.errors import BadRequest
from paraph.wire.decode import (
    DecodeError,
    NullableBool,
    NullableInt,
    NullableStr,
    UploadedFile,
    WireBool,
    WireInt,
    WireList,
    WireObject,
    coerce_bool,
    coerce_int,
    decode_pairs,
    decode_query,
    null_to_none,
    read_body,
)
from paraph.wire.parse import RequestModel, parse

PDF_A = b"%PDF-1.4\n% first document\n%%EOF\n"
PDF_B = b"%PDF-1.7\n% second document\n%%EOF\n"

# -- a real app and an in-process ASGI client ------------------------------------------------------------------

Message = MutableMapping[str, Any]


def make_app(**limits: int) -> Starlette:
    async def echo(request: Request) -> Response:
        body = await read_body(request, **limits)
        files = {
            name: [{"filename": f.filename, "content_type": f.content_type, "data": f.data.hex()} for f in uploads]
            for name, uploads in body.files.items()
        }
        return JSONResponse({"data": body.data, "files": files})

    async def query(request: Request) -> Response:
        return JSONResponse(decode_query(request))

    async def bad_request(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, DecodeError)
        return JSONResponse(BadRequest(exc.message, error_path=exc.path).body(), status_code=400)

    return Starlette(
        routes=[
            Route("/echo", echo, methods=["GET", "POST", "PUT", "DELETE"]),
            Route("/query", query, methods=["GET"]),
        ],
        exception_handlers={DecodeError: bad_request},
    )


APP = make_app()
SMALL = make_app(max_parts=20, max_file_size=1024, max_fields_size=2048, max_files=3)
CAPPED = make_app(max_parts=20, max_file_size=1024, max_fields_size=2048, max_files=3, max_files_total=1500)


def call(
    app: Starlette,
    method: str = "POST",
    *,
    body: bytes = b"",
    content_type: str | None = None,
    path: str = "/echo",
    query: bytes = b"",
    chunk: int = 0,
    hang_up_after: int | None = None,
    content_length: int | None = None,
) -> tuple[int, dict[str, Any]]:
    """Send one request; ``chunk`` splits the body, ``hang_up_after`` disconnects after that many chunks."""
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)] if chunk and body else [body]
    incoming: list[dict[str, Any]] = [
        {"type": "http.request", "body": p, "more_body": i < len(pieces) - 1} for i, p in enumerate(pieces)
    ]
    if hang_up_after is not None:
        incoming = [{**m, "more_body": True} for m in incoming[:hang_up_after]] + [{"type": "http.disconnect"}]
    headers = [] if content_type is None else [(b"content-type", content_type.encode("latin-1"))]
    if hang_up_after is None:
        headers.append((b"content-length", str(len(body) if content_length is None else content_length).encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[Message] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(_run(app, scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(status), json.loads(payload)


async def _run(
    app: Starlette,
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    await app(scope, receive, send)


def multipart(
    parts: list[tuple[str, str | tuple[str, bytes, str]]], boundary: str = "------------------------d74496d66958873e"
) -> tuple[bytes, str]:
    """A body exactly as ``curl -F`` writes it (text parts without a Content-Type, files with one)."""
    out = b""
    for name, value in parts:
        out += f"--{boundary}\r\n".encode()
        if isinstance(value, str):
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
        else:
            filename, data, ctype = value
            out += f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
            out += f"Content-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def urlencoded(pairs: list[tuple[str, str]]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(pairs).encode()


def files_of(payload: dict[str, Any], name: str = "files") -> list[bytes]:
    return [bytes.fromhex(f["data"]) for f in payload["files"].get(name, [])]


# -- the same request, encoded the four ways clients send it ---------------------------------------------------


def sdk_request(*, with_files: bool) -> tuple[bytes, str]:
    """create_embedded exactly as dropbox-sign 2.0.0 puts it on the wire (its own serializer and urllib3)."""
    client = ApiClient(Configuration(host="http://127.0.0.1:9/v3", username="key"))
    documents: dict[str, Any] = {"files": [PDF_A, PDF_B]} if with_files else {"file_urls": ["https://x.test/a.pdf"]}
    request = SignatureRequestCreateEmbeddedRequest(
        client_id="c1ient",
        title="NDA with Acme Co.",
        signers=[
            SubSignatureRequestSigner(name="Jack", email_address="jack@example.com", order=0),
            SubSignatureRequestSigner(name="Jill", email_address="jill@example.com", order=1),
        ],
        cc_email_addresses=["lawyer@example.com"],
        test_mode=True,
        metadata={"order_id": "1234"},
        signing_options=SubSigningOptions(default_type="draw", draw=True, type=True),
        **documents,
    )
    serialized = SignatureRequestApi(client)._signature_request_create_embedded_serialize(request, None, None, None, 0)
    headers, body = serialized[2], serialized[3]
    post_params: Any = serialized[4]  # annotated List[str], really (name, value) pairs
    if with_files:
        assert headers["Content-Type"] == "multipart/form-data"
        encoded, content_type = encode_multipart_formdata(post_params)
        return encoded, content_type
    assert headers["Content-Type"] == "application/json"
    return json.dumps(body).encode(), "application/json"


# The docs' curl example (API.md 3.2, point 3; the reference has no examples/*.sh):
#   curl -X POST https://api.hellosign.com/v3/signature_request/create_embedded -u 'KEY:' \
#     -F 'client_id=c1ient' -F 'title=NDA with Acme Co.' \
#     -F 'signers[0][email_address]=jack@example.com' -F 'signers[0][name]=Jack' -F 'signers[0][order]=0' \
#     -F 'signers[1][email_address]=jill@example.com' -F 'signers[1][name]=Jill' -F 'signers[1][order]=1' \
#     -F 'cc_email_addresses[]=lawyer@example.com' -F 'metadata[order_id]=1234' \
#     -F 'signing_options[draw]=1' -F 'signing_options[type]=1' -F 'signing_options[default_type]=draw' \
#     -F 'test_mode=1' -F 'files[0]=@a.pdf' -F 'files[1]=@b.pdf'
CURL_FIELDS = [
    ("client_id", "c1ient"),
    ("title", "NDA with Acme Co."),
    ("signers[0][email_address]", "jack@example.com"),
    ("signers[0][name]", "Jack"),
    ("signers[0][order]", "0"),
    ("signers[1][email_address]", "jill@example.com"),
    ("signers[1][name]", "Jill"),
    ("signers[1][order]", "1"),
    ("cc_email_addresses[]", "lawyer@example.com"),
    ("metadata[order_id]", "1234"),
    ("signing_options[draw]", "1"),
    ("signing_options[type]", "1"),
    ("signing_options[default_type]", "draw"),
    ("test_mode", "1"),
]


def curl_multipart() -> tuple[bytes, str]:
    files: list[tuple[str, str | tuple[str, bytes, str]]] = [
        ("files[0]", ("a.pdf", PDF_A, "application/pdf")),
        ("files[1]", ("b.pdf", PDF_B, "application/pdf")),
    ]
    return multipart([*CURL_FIELDS, *files])


def curl_urlencoded() -> tuple[bytes, str]:
    """``curl -d`` with the legacy ``file_url[]`` name."""
    return urlencoded([*CURL_FIELDS, ("file_url[]", "https://x.test/a.pdf")]), "application/x-www-form-urlencoded"


class Signer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    email_address: str
    order: NullableInt = None


class SigningOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    draw: WireBool = False
    type: WireBool = False
    upload: WireBool = False
    default_type: str


class CreateEmbedded(RequestModel):
    """A slice of SignatureRequestCreateEmbeddedRequest, typed the way request schemas use the Wire types."""

    client_id: str
    title: str
    test_mode: WireBool = False
    allow_decline: WireBool = False
    signers: WireList[Signer]
    cc_email_addresses: WireList[str] = []
    metadata: WireObject[dict[str, str]] = {}
    signing_options: WireObject[SigningOptions] | None = None
    file_urls: WireList[str] = []


EXPECTED = CreateEmbedded(
    client_id="c1ient",
    title="NDA with Acme Co.",
    test_mode=True,
    signers=[
        Signer(name="Jack", email_address="jack@example.com", order=0),
        Signer(name="Jill", email_address="jill@example.com", order=1),
    ],
    cc_email_addresses=["lawyer@example.com"],
    metadata={"order_id": "1234"},
    signing_options=SigningOptions(draw=True, type=True, default_type="draw"),
)

ENCODINGS: dict[str, tuple[Callable[[], tuple[bytes, str]], bool]] = {
    "sdk-multipart": (lambda: sdk_request(with_files=True), True),
    "sdk-json": (lambda: sdk_request(with_files=False), False),
    "curl-multipart": (curl_multipart, True),
    "curl-urlencoded": (curl_urlencoded, False),
}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_it_decodes_every_client_encoding_of_a_request_to_the_same_request(encoding: str) -> None:
    build, has_files = ENCODINGS[encoding]
    body, content_type = build()
    status, payload = call(APP, body=body, content_type=content_type)
    assert status == 200, payload
    req = parse(CreateEmbedded, payload["data"])
    assert req.model_dump(exclude={"file_urls"}) == EXPECTED.model_dump(exclude={"file_urls"})
    if has_files:
        assert files_of(payload) == [PDF_A, PDF_B]
        assert req.file_urls == []
    else:
        assert payload["files"] == {}
        assert req.file_urls == ["https://x.test/a.pdf"]


def test_it_keeps_the_sdk_multipart_values_as_sent() -> None:
    body, content_type = sdk_request(with_files=True)
    _, payload = call(APP, body=body, content_type=content_type)
    data = payload["data"]
    assert data["signers"][1] == {"name": "Jill", "email_address": "jill@example.com", "order": 1}
    assert data["metadata"] == {"order_id": "1234"}
    assert data["signing_options"]["draw"] is True  # JSON inside the part
    assert data["test_mode"] == "true"  # a bare part is text until the model coerces it
    assert data["use_text_tags"] == "false"  # defaults the SDK always sends are kept (and ignored by models)
    assert [(f["filename"], f["content_type"]) for f in payload["files"]["files"]] == [
        ("files[0]", "application/octet-stream"),
        ("files[1]", "application/octet-stream"),
    ]


def test_it_decodes_a_body_that_arrives_a_few_bytes_at_a_time() -> None:
    body, content_type = sdk_request(with_files=True)
    status, payload = call(APP, body=body, content_type=content_type, chunk=7)
    assert status == 200
    assert parse(CreateEmbedded, payload["data"]).signers == EXPECTED.signers
    assert files_of(payload) == [PDF_A, PDF_B]


# -- decode_pairs: the bracket and JSON-string rules -----------------------------------------------------------

PAIR_CASES: dict[str, tuple[list[tuple[str, str]], dict[str, Any]]] = {
    "nested-objects-in-a-list": (
        [("signers[0][name]", "A"), ("signers[0][email_address]", "a@x.test"), ("signers[1][name]", "B")],
        {"signers": [{"name": "A", "email_address": "a@x.test"}, {"name": "B"}]},
    ),
    "sparse-indexes-in-index-order": (
        [("signers[2][name]", "C"), ("signers[0][name]", "A")],
        {"signers": [{"name": "A"}, {"name": "C"}]},
    ),
    "empty-brackets-append": (
        [("cc_email_addresses[]", "a@x.test"), ("cc_email_addresses[]", "b@x.test")],
        {"cc_email_addresses": ["a@x.test", "b@x.test"]},
    ),
    "each-empty-bracket-is-a-new-element-as-in-php": (
        [("a[][x]", "1"), ("a[][y]", "2")],
        {"a": [{"x": "1"}, {"y": "2"}]},
    ),
    "append-after-the-highest-index": (
        [("a[5]", "five"), ("a[]", "six")],
        {"a": ["five", "six"]},
    ),
    "named-keys-make-an-object": (
        [("metadata[order_id]", "1234"), ("metadata[0]", "zero"), ("metadata[007]", "bond")],
        {"metadata": {"order_id": "1234", "0": "zero", "007": "bond"}},
    ),
    "array-of-arrays": (
        [("form_fields_per_document[0][0][api_id]", "s1"), ("form_fields_per_document[1][0][api_id]", "s2")],
        {"form_fields_per_document": [[{"api_id": "s1"}], [{"api_id": "s2"}]]},
    ),
    "values-are-not-coerced": (
        [("title", "1"), ("test_mode", "true"), ("signers[0][order]", "0"), ("callback_url", "null")],
        {"title": "1", "test_mode": "true", "signers": [{"order": "0"}], "callback_url": "null"},
    ),
    "bare-json-strings-are-parsed": (
        [("signers", ' [{"name": "A", "order": 0}]'), ("metadata", '{"k": "v"}')],
        {"signers": [{"name": "A", "order": 0}], "metadata": {"k": "v"}},
    ),
    "bracketed-values-are-never-json": (
        [("metadata[note]", '{"k": "v"}')],
        {"metadata": {"note": '{"k": "v"}'}},
    ),
    "text-that-only-looks-like-json-stays-text": (
        [("subject", "[Urgent] Please sign"), ("message", "{name}, please sign"), ("signers", "[{broken")],
        {"subject": "[Urgent] Please sign", "message": "{name}, please sign", "signers": "[{broken"},
    ),
    "a-repeated-bare-key-keeps-the-last-value": (
        [("title", "first"), ("title", "second")],
        {"title": "second"},
    ),
    "legacy-file-url-names": (
        [("file_url[]", "https://x.test/a.pdf"), ("file_url[]", "https://x.test/b.pdf")],
        {"file_urls": ["https://x.test/a.pdf", "https://x.test/b.pdf"]},
    ),
    "a-single-file-url-becomes-a-list": (
        [("file_url", "https://x.test/a.pdf"), ("detection_mode", "text_tags")],
        {"file_urls": ["https://x.test/a.pdf"], "detection_mode": "text_tags"},
    ),
    "unicode": (
        [("signers[0][name]", "Jöhn Ñandú 日本"), ("metadata[clé]", "värde")],
        {"signers": [{"name": "Jöhn Ñandú 日本"}], "metadata": {"clé": "värde"}},
    ),
}


@pytest.mark.parametrize("case", PAIR_CASES)
def test_it_builds_the_data_a_json_client_would_have_sent(case: str) -> None:
    pairs, expected = PAIR_CASES[case]
    assert decode_pairs(pairs).data == expected


def upload(name: str, data: bytes = b"%PDF-") -> UploadedFile:
    return UploadedFile(name, "application/pdf", data)


FILE_CASES: dict[str, tuple[list[tuple[str, str | UploadedFile]], dict[str, list[str | None]]]] = {
    "indexes-in-index-order": (
        [("files[1]", upload("b")), ("files[0]", upload("a"))],
        {"files": ["a", "b"]},
    ),
    "legacy-file-brackets-in-send-order": (
        [("file[]", upload("a")), ("file[]", upload("b")), ("file[]", upload("c"))],
        {"files": ["a", "b", "c"]},
    ),
    "legacy-file-indexes": (
        [("file[0]", upload("a")), ("file[1]", upload("b"))],
        {"files": ["a", "b"]},
    ),
    "single-file-names": (
        [("custom_logo_file", upload("logo")), ("file", upload("doc"))],
        {"custom_logo_file": ["logo"], "files": ["doc"]},
    ),
    "an-empty-html-file-input-is-no-file": (
        [("files[]", UploadedFile("", "application/octet-stream", b"")), ("files[]", upload("a"))],
        {"files": ["a"]},
    ),
}


@pytest.mark.parametrize("case", FILE_CASES)
def test_it_orders_uploads_under_their_base_name(case: str) -> None:
    pairs, expected = FILE_CASES[case]
    decoded = decode_pairs(pairs)
    assert {k: [f.filename for f in v] for k, v in decoded.files.items()} == expected
    assert decoded.data == {}


BAD_PAIRS: dict[str, tuple[list[tuple[str, str | UploadedFile]], str | None]] = {
    "value-then-object": ([("title", "x"), ("title[a]", "y")], "title"),
    "object-then-value": ([("title[a]", "y"), ("title", "x")], "title"),
    "json-then-brackets": ([("signers", '[{"name": "A"}]'), ("signers[0][name]", "B")], "signers"),
    "deep-value-then-deeper": ([("a[0][b]", "x"), ("a[0][b][c]", "y")], "a[0].b"),
    "too-deep": ([("a" + "[x]" * 9, "v")], "a"),
    "index-too-large": ([("signers[10001][name]", "A")], "signers"),
    "index-absurdly-large": ([("signers[" + "9" * 400 + "][name]", "A")], "signers"),
    "append-past-the-limit": ([("a[10000]", "x"), ("a[]", "y")], "a"),
    "unclosed-bracket": ([("signers[0][name", "A")], "signers[0][name"),
    "text-after-brackets": ([("signers[0]name", "A")], "signers[0]name"),
    "no-name": ([("[0]", "A")], "[0]"),
    "too-deep-json-string": ([("signers", "[" * 40 + "]" * 40)], "signers"),
    "json-string-deeper-than-python-recurses": ([("signers", "[" * 100_000 + "]" * 100_000)], "signers"),
    "same-file-index-twice": ([("files[0]", upload("a")), ("files[0]", upload("b"))], "files[0]"),
    "file-with-a-named-key": ([("files[0][x]", upload("a"))], "files[0][x]"),
    "legacy-and-current-file-names": ([("file[0]", upload("a")), ("files[0]", upload("b"))], "file"),
    "legacy-and-current-url-names": ([("file_url[]", "u1"), ("file_urls[]", "u2")], "file_url"),
}


@pytest.mark.parametrize("case", BAD_PAIRS)
def test_it_refuses_malformed_pairs_with_the_path(case: str) -> None:
    pairs, path = BAD_PAIRS[case]
    with pytest.raises(DecodeError) as caught:
        decode_pairs(pairs)
    assert caught.value.path == path
    assert caught.value.message


# -- read_body over HTTP ------------------------------------------------------------------------------------


def many_parts() -> list[tuple[str, str]]:
    """150 form fields in bracket style, 9 keys each, with signers and ccs: 1,500 parts."""
    pairs = [("title", "Big form"), ("signers[0][name]", "A"), ("signers[0][email_address]", "a@x.test")]
    for i in range(150):
        for key, value in [
            ("api_id", f"f{i}"),
            ("type", "text"),
            ("signer", "0"),
            ("document_index", "0"),
            ("page", str(1 + i // 50)),
            ("x", str(10 + i)),
            ("y", str(20 + i)),
            ("width", "100"),
            ("height", "16"),
        ]:
            pairs.append((f"form_fields_per_document[{i}][{key}]", value))
    pairs += [("cc_email_addresses[]", f"cc{i}@x.test") for i in range(1500 - len(pairs))]
    assert len(pairs) == 1500
    return pairs


def assert_many_parts_decoded(data: dict[str, Any]) -> None:
    fields = data["form_fields_per_document"]
    assert len(fields) == 150
    assert fields[149] == {
        "api_id": "f149",
        "type": "text",
        "signer": "0",
        "document_index": "0",
        "page": "3",
        "x": "159",
        "y": "169",
        "width": "100",
        "height": "16",
    }
    assert len(data["cc_email_addresses"]) == 147
    assert data["signers"] == [{"name": "A", "email_address": "a@x.test"}]


def test_it_reads_a_multipart_form_with_1500_parts() -> None:
    body, content_type = multipart([*many_parts(), ("files[0]", ("a.pdf", PDF_A, "application/pdf"))])
    status, payload = call(APP, body=body, content_type=content_type)
    assert status == 200, payload
    assert_many_parts_decoded(payload["data"])
    assert files_of(payload) == [PDF_A]


def test_it_reads_a_urlencoded_form_with_1500_fields() -> None:
    status, payload = call(APP, body=urlencoded(many_parts()), content_type="application/x-www-form-urlencoded")
    assert status == 200, payload
    assert_many_parts_decoded(payload["data"])


def test_it_accepts_a_file_at_the_size_limit() -> None:
    body, content_type = multipart([("files[0]", ("a.pdf", b"x" * 1024, "application/pdf"))])
    status, payload = call(SMALL, body=body, content_type=content_type)
    assert status == 200
    assert files_of(payload) == [b"x" * 1024]


def test_it_decodes_a_json_body_of_a_delete() -> None:
    status, payload = call(APP, "DELETE", body=b'{"number": "+14155550100"}', content_type="application/json")
    assert (status, payload["data"]) == (200, {"number": "+14155550100"})


EMPTY_CASES: dict[str, tuple[str, bytes, str | None]] = {
    "get-ignores-a-body": ("GET", b'{"a": 1}', "application/json"),
    "empty-json": ("POST", b"", "application/json"),
    "whitespace-json": ("POST", b" \r\n", "application/json"),
    "no-content-type-no-body": ("POST", b"", None),
    "empty-multipart": ("POST", b"", "multipart/form-data; boundary=xyz"),
    "empty-urlencoded": ("PUT", b"", "application/x-www-form-urlencoded"),
    "empty-delete-of-another-type": ("DELETE", b"", "application/octet-stream"),
}


@pytest.mark.parametrize("case", EMPTY_CASES)
def test_it_reads_a_missing_body_as_an_empty_object(case: str) -> None:
    method, body, content_type = EMPTY_CASES[case]
    assert call(APP, method, body=body, content_type=content_type) == (200, {"data": {}, "files": {}})


JSON_CASES: dict[str, tuple[bytes, str | None, dict[str, Any]]] = {
    "charset-parameter": (b'{"title": "T"}', "application/json; charset=utf-8", {"title": "T"}),
    "vendor-json-type": (b'{"title": "T"}', "application/vnd.api+json", {"title": "T"}),
    "no-content-type": (b'{"title": "T"}', None, {"title": "T"}),
    "detect-fields-file-url": (
        b'{"file_url": "https://x.test/a.pdf"}',
        "application/json",
        {"file_urls": ["https://x.test/a.pdf"]},
    ),
    "double-encoded-list-is-left-to-the-model": (
        b'{"file_urls": "[\\"https://x.test/a.pdf\\"]"}',
        "application/json",
        {"file_urls": '["https://x.test/a.pdf"]'},
    ),
    "null-stays-null": (
        b'{"callback_url": null, "title": "null"}',
        "application/json",
        {"callback_url": None, "title": "null"},
    ),
}


@pytest.mark.parametrize("case", JSON_CASES)
def test_it_reads_json_bodies(case: str) -> None:
    body, content_type, expected = JSON_CASES[case]
    assert call(APP, body=body, content_type=content_type) == (200, {"data": expected, "files": {}})


def bad(parts: list[tuple[str, str | tuple[str, bytes, str]]], boundary: str = "b0undary") -> tuple[bytes, str]:
    return multipart(parts, boundary)


OK_FORM, OK_TYPE = bad([("title", "T")])
TOO_DEEP_JSON = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

BAD_BODIES: dict[str, tuple[Starlette, bytes, str | None, str | None, str]] = {
    # name: (app, body, content type, error_path, words in the message)
    "wrong-boundary": (APP, OK_FORM, "multipart/form-data; boundary=another", None, "malformed"),
    "no-boundary": (APP, OK_FORM, "multipart/form-data", None, "boundary"),
    "garbage-multipart": (APP, b"this is not multipart", OK_TYPE, None, "malformed"),
    "truncated-multipart": (APP, OK_FORM[:-12], OK_TYPE, None, "closing boundary"),
    "part-without-name": (
        APP,
        b"--b0undary\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b0undary--\r\n",
        OK_TYPE,
        None,
        "no name",
    ),
    "text-part-not-utf8": (
        APP,
        b'--b0undary\r\nContent-Disposition: form-data; name="title"\r\n\r\n\xff\xfe\r\n--b0undary--\r\n',
        OK_TYPE,
        "title",
        "UTF-8",
    ),
    "conflicting-keys-in-multipart": (APP, *bad([("title", "x"), ("title[a]", "y")]), "title", "both"),
    "file-over-the-limit": (
        SMALL,
        *bad([("files[0]", ("a.pdf", b"x" * 1024, "application/pdf")), ("files[1]", ("b.pdf", b"x" * 1025, "x/y"))]),
        "files[1]",
        "1024 bytes",
    ),
    "files-over-the-total": (
        CAPPED,
        *bad([("files[0]", ("a.pdf", b"x" * 1000, "application/pdf")), ("files[1]", ("b.pdf", b"x" * 501, "x/y"))]),
        "files",
        "1500 bytes together",
    ),
    "too-many-files": (SMALL, *bad([("file[]", ("a.pdf", PDF_A, "application/pdf"))] * 4), None, "3 files"),
    "too-many-parts": (SMALL, *bad([("cc_email_addresses[]", "a@x.test")] * 21), None, "20 parts"),
    "text-over-the-limit": (SMALL, *bad([("message", "m" * 2049)]), None, "2048 bytes"),
    "json-over-the-limit": (SMALL, b'{"message": "' + b"m" * 2048 + b'"}', "application/json", None, "2048 bytes"),
    "urlencoded-over-the-limit": (SMALL, b"m=" + b"m" * 2048, "application/x-www-form-urlencoded", None, "limit"),
    "urlencoded-too-many-fields": (SMALL, b"&".join([b"a[]=1"] * 21), "application/x-www-form-urlencoded", None, "20"),
    "urlencoded-not-utf8": (APP, b"title=%FF%FE", "application/x-www-form-urlencoded", None, "UTF-8"),
    "urlencoded-conflict": (APP, b"a=1&a[b]=2", "application/x-www-form-urlencoded", "a", "both"),
    "broken-json": (APP, b'{"title": "T",', "application/json", None, "not valid JSON"),
    "json-array": (APP, b'[{"title": "T"}]', "application/json", None, "JSON object"),
    "json-string": (APP, b'"title"', "application/json", None, "JSON object"),
    "json-nan": (APP, b'{"x": NaN}', "application/json", None, "not valid JSON"),
    "json-huge-number": (APP, b'{"x": 1e999}', "application/json", None, "not valid JSON"),
    "json-not-utf8": (APP, b'{"title": "\xff"}', "application/json", None, "not valid JSON"),
    "json-deeper-than-python-recurses": (APP, TOO_DEEP_JSON, "application/json", None, "nested"),
    "json-both-file-url-names": (
        APP,
        b'{"file_url": "u", "file_urls": ["v"]}',
        "application/json",
        "file_url",
        "either",
    ),
    "no-content-type-not-json": (APP, b"title=T", None, None, "not valid JSON"),
    "unsupported-content-type": (APP, b"%PDF-1.4", "application/pdf", None, "Content-Type"),
}


@pytest.mark.parametrize("case", BAD_BODIES)
def test_it_answers_a_bad_body_with_400_and_the_path(case: str) -> None:
    app, body, content_type, path, words = BAD_BODIES[case]
    status, payload = call(app, body=body, content_type=content_type)
    assert status == 400
    assert payload["error"]["error_name"] == "bad_request"
    assert payload["error"].get("error_path") == path
    assert words in payload["error"]["error_msg"]


def test_it_refuses_a_body_declared_beyond_every_limit_before_reading_it() -> None:
    body, content_type = multipart([("files[0]", ("a.pdf", b"x" * 10, "application/pdf"))])
    status, payload = call(CAPPED, body=body, content_type=content_type, content_length=10**9)
    assert status == 400
    assert payload["error"]["error_path"] == "files"
    assert "1500 bytes together" in payload["error"]["error_msg"]
    # Within the limits, the same body is read.
    assert call(CAPPED, body=body, content_type=content_type)[0] == 200


def test_it_answers_400_when_the_client_hangs_up_mid_body() -> None:
    body, content_type = sdk_request(with_files=True)
    status, payload = call(APP, body=body, content_type=content_type, chunk=100, hang_up_after=2)
    assert status == 400
    assert "disconnected" in payload["error"]["error_msg"]


# -- query strings -----------------------------------------------------------------------------------------


def test_it_reads_query_strings_with_the_bracket_rules_and_keeps_text() -> None:
    query = b"page=2&page_size=20&query=%5Btitle%5D&account_id[]=a1&account_id[]=a2&filter[status]=signed"
    status, payload = call(APP, "GET", path="/query", query=query)
    assert status == 200
    assert payload == {
        "page": "2",
        "page_size": "20",
        "query": "[title]",
        "account_id": ["a1", "a2"],
        "filter": {"status": "signed"},
    }


def test_it_refuses_a_query_string_with_conflicting_keys() -> None:
    status, payload = call(APP, "GET", path="/query", query=b"page=1&page[x]=2")
    assert (status, payload["error"]["error_path"]) == (400, "page")


# -- coercion for request models -------------------------------------------------------------------------

BOOLS: list[tuple[Any, bool]] = [
    (True, True),
    (False, False),
    (1, True),
    (0, False),
    ("true", True),
    ("false", False),
    ("TRUE", True),
    ("1", True),
    ("0", False),
    ("on", True),
    ("off", False),
    (" true ", True),
]


@pytest.mark.parametrize(("value", "expected"), BOOLS)
def test_it_reads_booleans_as_clients_send_them(value: Any, expected: bool) -> None:
    assert coerce_bool(value) is expected


@pytest.mark.parametrize("value", ["yes", "", "2", 2, None, "null", 1.5, [True]])
def test_it_refuses_what_is_not_a_boolean(value: Any) -> None:
    with pytest.raises(ValueError, match="true or false"):
        coerce_bool(value)


@pytest.mark.parametrize(("value", "expected"), [(5, 5), ("5", 5), (" -3 ", -3), ("+7", 7), (12.0, 12), ("0", 0)])
def test_it_reads_integers_from_json_and_text(value: Any, expected: int) -> None:
    assert coerce_int(value) == expected


@pytest.mark.parametrize("value", [True, "1.5", "", "ten", "1_000", 1.5, None, "9" * 19])
def test_it_refuses_what_is_not_an_integer(value: Any) -> None:
    with pytest.raises(ValueError, match="integer"):
        coerce_int(value)


def test_it_reads_the_text_null_as_none() -> None:
    assert [null_to_none(v) for v in ("null", " null ", "nullable", "", None, "NULL")] == [
        None,
        None,
        "nullable",
        "",
        None,
        "NULL",
    ]


class Fields(RequestModel):
    callback_url: NullableStr = "unset"
    expires_at: NullableInt = 0
    is_eid: NullableBool = False
    count: WireInt = 0
    tags: WireList[str] = []
    options: WireObject[SigningOptions] | None = None


FIELD_CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "defaults": ({}, {}),
    "form-null": (
        {"callback_url": "null", "expires_at": "null", "is_eid": "null"},
        {"callback_url": None, "expires_at": None, "is_eid": None},
    ),
    "json-null": (
        {"callback_url": None, "expires_at": None, "is_eid": None},
        {"callback_url": None, "expires_at": None, "is_eid": None},
    ),
    "form-text": (
        {"callback_url": "https://x.test/cb", "expires_at": "1700000000", "is_eid": "1", "count": "3"},
        {"callback_url": "https://x.test/cb", "expires_at": 1700000000, "is_eid": True, "count": 3},
    ),
    "json-string-of-a-list": ({"tags": '["a", "b"]'}, {"tags": ["a", "b"]}),
    "json-string-of-an-object": (
        {"options": '{"draw": true, "default_type": "draw"}'},
        {"options": {"draw": True, "type": False, "upload": False, "default_type": "draw"}},
    ),
}


@pytest.mark.parametrize("case", FIELD_CASES)
def test_it_coerces_wire_values_in_request_models(case: str) -> None:
    data, changed = FIELD_CASES[case]
    base = {"callback_url": "unset", "expires_at": 0, "is_eid": False, "count": 0, "tags": [], "options": None}
    assert Fields.model_validate(data).model_dump() == {**base, **changed}


BAD_FIELDS: dict[str, tuple[dict[str, Any], str]] = {
    "broken-json-list": ({"tags": "[{broken"}, "tags"),
    "broken-json-object": ({"options": '{"draw": tru'}, "options"),
    "bool-word": ({"is_eid": "maybe"}, "is_eid"),
    "int-word": ({"count": "three"}, "count"),
    "bool-for-int": ({"count": True}, "count"),
}


@pytest.mark.parametrize("case", BAD_FIELDS)
def test_it_reports_a_bad_wire_value_at_its_path(case: str) -> None:
    data, path = BAD_FIELDS[case]
    with pytest.raises(BadRequest) as caught:
        parse(Fields, data)
    assert caught.value.error_path == path


def test_it_reports_broken_json_in_a_form_field_at_its_path() -> None:
    body, content_type = multipart([("client_id", "c"), ("title", "T"), ("signers", '[{"name": "Jack",')])
    status, payload = call(APP, body=body, content_type=content_type)
    assert status == 200  # the decoder keeps it as text; the model knows signers must be JSON
    with pytest.raises(BadRequest) as caught:
        parse(CreateEmbedded, payload["data"])
    assert caught.value.error_path == "signers"
    assert "not valid JSON" in caught.value.error_msg
