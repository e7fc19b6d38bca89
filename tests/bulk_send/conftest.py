from __future__ import annotations

from tests.signature_request.conftest import files, loopback_only
from tests.web.conftest import browser, context, page, shoot

__all__ = ["browser", "context", "files", "loopback_only", "page", "shoot"]
