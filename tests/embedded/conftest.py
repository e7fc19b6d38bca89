from __future__ import annotations

# Sign URLs are tested on requests made and called back over loopback, as the signature request tests do.
from tests.signature_request.conftest import loopback_only  # noqa: F401
