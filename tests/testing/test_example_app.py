"""The example integration (examples/integration/contracts_app.py) tested end to end with Paraph's pytest plugin,
as an integrator's suite would: the ``paraph`` server, a simulated signer, the inspector and the app's own
verified callbacks. The plugin is the installed ``pytest11`` entry point (nothing imported here)."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import dropbox_sign
import pytest
from examples.integration.contracts_app import ContractsApp

from paraph.testing import Inspector, Paraph
from tests.client import wait_until
from tests.signing.helpers import make_pdf


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def contracts(paraph: Paraph) -> Iterator[tuple[ContractsApp, str]]:
    app = ContractsApp(paraph.configuration, paraph.api_key, paraph.client_id, make_pdf(1))
    httpd = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_port}"
    with dropbox_sign.ApiClient(paraph.configuration) as client:  # the app's callbacks come to the app
        update = dropbox_sign.ApiAppUpdateRequest(callback_url=f"{url}/dropbox-sign/callback")
        dropbox_sign.ApiAppApi(client).api_app_update(paraph.client_id, update)
    try:
        yield app, url
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_contract_is_sent_signed_and_its_callbacks_verified(
    paraph: Paraph,
    paraph_inspector: Inspector,
    simulate_sign: Callable[..., dict[str, Any]],
    contracts: tuple[ContractsApp, str],
) -> None:
    app, url = contracts
    form = b"name=Jack+Doe&email=jack%40example.com"
    with urllib.request.urlopen(urllib.request.Request(f"{url}/contracts", data=form), timeout=60) as resp:
        sent = json.load(resp)
    rid = sent["signature_request_id"]
    paraph_inspector.wait_for("signature_request_sent", signature_request_id=rid)

    signed = simulate_sign(sent["signature_id"])
    assert signed["is_complete"] is True
    caught = paraph_inspector.wait_for("signature_request_all_signed", signature_request_id=rid)
    assert caught["event_hash_verified"] and caught["signature_verified"]
    wait_until(lambda: "signature_request_all_signed" in app.events.get(rid, []), timeout=30)
    assert app.events[rid][0] == "signature_request_sent"  # every callback the app got was genuine
