"""The PDF limits seen through the API (ADR 0014): a document that would keep a PDF process busy for minutes is
stopped at ``PARAPH_PDF_TIMEOUT`` and reported as the documented ``file_error``, while another account's
document is processed and the server serves on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dropbox_sign
import pytest

from tests.conftest import AccountInfo, Server
from tests.factories import make_account
from tests.pdfs import slow_path
from tests.receiver import Receiver
from tests.signature_request.helpers import listen, make_pdf, send, wait_event


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"pdf_timeout": 3.0}


@pytest.fixture
def other_sdk(server: Server) -> Iterator[Any]:
    """The SDK as a second account."""
    other: AccountInfo = make_account(server.runtime, email="other@example.com")
    cfg = dropbox_sign.Configuration(host=server.api, username=other.api_key)
    cfg.proxy = None
    with dropbox_sign.ApiClient(cfg) as client:
        yield client


def test_a_document_past_the_time_limit_is_a_file_error_and_another_account_s_goes_through(
    sdk: Any, other_sdk: Any, receiver: Receiver
) -> None:
    listen(sdk, receiver)
    listen(other_sdk, receiver)
    slow = send(sdk, files=[slow_path()]).signature_request.signature_request_id  # ~2 minutes of drawing
    normal = send(other_sdk, files=[make_pdf()]).signature_request.signature_request_id

    sent = wait_event(receiver, "signature_request_sent", normal, timeout=60)
    assert sent["signature_request"]["has_error"] is False
    failed = wait_event(receiver, "file_error", slow, timeout=60)
    message = failed["event"]["event_metadata"]["event_message"]
    assert "could not be processed" in message
    got = dropbox_sign.SignatureRequestApi(sdk).signature_request_get(slow).signature_request
    assert got.has_error is True
    assert [s.status_code for s in got.signatures] == ["error_file"]
    assert got.signatures[0].error == message

    # The process that was drawing it was replaced: the same account's next document goes through.
    again = send(sdk, files=[make_pdf()]).signature_request.signature_request_id
    assert wait_event(receiver, "signature_request_sent", again, timeout=60)["signature_request"]["has_error"] is False


def test_an_account_s_queue_of_slow_documents_delays_another_account_s_by_one_document(
    sdk: Any, other_sdk: Any, receiver: Receiver
) -> None:
    """One job loop (the default): the other account's document is processed after the first slow one, not
    after both (ADR 0014, the job queue's turns)."""
    listen(sdk, receiver)
    listen(other_sdk, receiver)
    slow = [send(sdk, files=[slow_path()]).signature_request.signature_request_id for _ in range(2)]
    normal = send(other_sdk, files=[make_pdf()]).signature_request.signature_request_id

    sent = wait_event(receiver, "signature_request_sent", normal, timeout=60)
    failed = [wait_event(receiver, "file_error", rid, timeout=60) for rid in slow]
    times = [int(e["event"]["event_time"]) for e in [failed[0], sent, failed[1]]]
    assert times == sorted(times) and times[1] < times[2]  # stopped at the time limit, three seconds apart
