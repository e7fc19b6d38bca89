"""The ready-to-run first request a new account is shown: the official Python SDK, only its host changed."""

from __future__ import annotations

import json

PLACEHOLDER_KEY = "YOUR_API_KEY"
PLACEHOLDER_CLIENT_ID = "YOUR_CLIENT_ID"

_TEMPLATE = """\
# pip install dropbox-sign
import dropbox_sign
from dropbox_sign import models

configuration = dropbox_sign.Configuration(
    host={host},
    username={api_key},
)

with dropbox_sign.ApiClient(configuration) as api_client:
    request = models.SignatureRequestCreateEmbeddedRequest(
        client_id={client_id},
        title="My first signature request",
        signers=[
            models.SubSignatureRequestSigner(
                email_address="jack@example.com", name="Jack", order=0
            ),
        ],
        files=[open("contract.pdf", "rb")],
        test_mode=True,
    )
    created = dropbox_sign.SignatureRequestApi(api_client).signature_request_create_embedded(request)
    signature_id = created.signature_request.signatures[0].signature_id

    sign_url = dropbox_sign.EmbeddedApi(api_client).embedded_sign_url(signature_id)
    print("Open this in your page's iFrame:", sign_url.embedded.sign_url)
"""


def first_request_snippet(base_url: str, api_key: str | None = None, client_id: str | None = None) -> str:
    """Python source. Values go in as JSON string literals (valid Python string literals too), and the page
    escapes the whole text."""
    return _TEMPLATE.format(
        host=json.dumps(f"{base_url.rstrip('/')}/v3"),
        api_key=json.dumps(api_key or PLACEHOLDER_KEY),
        client_id=json.dumps(client_id or PLACEHOLDER_CLIENT_ID),
    )
