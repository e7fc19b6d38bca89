"""Editor fixtures: drafts made and called back over loopback (as the signature request tests do), and for the
browser an integrator's page on a second origin (``http://localhost:<port>``) loading the unmodified
hellosign-embedded UMD build from node_modules, which records every event the library emits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.signature_request.conftest import loopback_only
from tests.signing.conftest import Host, browser_page, chromium, integrator_page

__all__ = ["browser_page", "chromium", "editor_host", "loopback_only"]

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Integrator</title><script src="/embedded.js"></script></head>
<body><h1>Integrator page</h1>
<script>
window.events = [];
window.openEditor = function (url, clientId, options) {
  var client = new HelloSign({ clientId: clientId });
  ["open", "ready", "send", "createTemplate", "finish", "cancel", "close", "error"].forEach(function (name) {
    client.on(name, function (payload) { window.events.push({ name: name, payload: payload || null }); });
  });
  client.open(url, options || { testMode: true });
  window.client = client;
};
</script></body></html>
"""


@pytest.fixture(scope="session")
def editor_host() -> Iterator[Host]:
    with integrator_page(HOST_PAGE) as found:
        yield found
