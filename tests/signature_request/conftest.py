from __future__ import annotations

from collections.abc import Iterator

import pytest

from paraph.outbound import guard
from tests.signature_request.helpers import FileServer, file_server


@pytest.fixture
def files() -> Iterator[FileServer]:
    with file_server() as state:
        yield state


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever URL a test (or schemathesis) makes Paraph fetch or call back, only loopback is ever
    connected to: the guard itself refuses every other address, here."""

    def allowed(ip: guard.IPAddress, allow_private: bool) -> bool:
        return ip.is_loopback

    monkeypatch.setattr(guard, "_allowed", allowed)
    guard.parse_url.cache_clear()
    yield
    guard.parse_url.cache_clear()
