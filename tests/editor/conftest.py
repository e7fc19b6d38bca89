from __future__ import annotations

# The editor is tested on drafts made and called back over loopback, as the signature request tests do.
from tests.signature_request.conftest import loopback_only

__all__ = ["loopback_only"]
