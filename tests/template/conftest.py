from __future__ import annotations

from tests.signature_request.conftest import files, loopback_only

__all__ = ["files", "loopback_only"]
