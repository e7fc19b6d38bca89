"""Schemathesis against the spec the official SDKs are generated from, for every operation Paraph implements
of signature_request, embedded sign_url, account and api_app: no 5xx, and every response conforms (status
code, content type, headers, body schema).

Cases come from the spec (positive data), in each request encoding the operation declares, half of them
with path parameters of real objects (a sent request, its signer, an app) so that success responses are
exercised too, not only 404s. Examples are few per operation to keep the run short; no shrinking. This runs
on SQLite only: it checks response shapes, which do not depend on the database.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok

from tests.conftest import AccountInfo, Server
from tests.receiver import Receiver
from tests.reference import reference_dir
from tests.signature_request.helpers import create_embedded, listen, make_pdf, new_app, wait_event

MAX_EXAMPLES = 50
IMPLEMENTED = {
    ("GET", "/account"),
    ("PUT", "/account"),
    ("POST", "/account/create"),
    ("POST", "/account/verify"),
    ("POST", "/api_app"),
    ("GET", "/api_app/list"),
    ("GET", "/api_app/{client_id}"),
    ("PUT", "/api_app/{client_id}"),
    ("DELETE", "/api_app/{client_id}"),
    ("GET", "/embedded/sign_url/{signature_id}"),
    ("POST", "/signature_request/send"),
    ("POST", "/signature_request/create_embedded"),
    ("GET", "/signature_request/{signature_request_id}"),
    ("GET", "/signature_request/list"),
    ("POST", "/signature_request/cancel/{signature_request_id}"),
    ("POST", "/signature_request/remind/{signature_request_id}"),
    ("POST", "/signature_request/update/{signature_request_id}"),
    ("POST", "/signature_request/remove/{signature_request_id}"),
    ("POST", "/signature_request/release_hold/{signature_request_id}"),
    ("GET", "/signature_request/files/{signature_request_id}"),
    ("GET", "/signature_request/files_as_data_uri/{signature_request_id}"),
    ("GET", "/signature_request/files_as_file_url/{signature_request_id}"),
}
LAST = {
    ("POST", "/signature_request/cancel/{signature_request_id}"),
    ("POST", "/signature_request/remove/{signature_request_id}"),
    ("DELETE", "/api_app/{client_id}"),
}
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
# Deliberate deviations, each with its reason: (method, path, substring of the failure) -> why.
BASELINE: dict[tuple[str, str, str], str] = {}


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    """SQLite only (see the module docstring)."""
    path = tmp_path / "paraph.sqlite3"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


def _operations() -> list[Any]:
    schema = schemathesis.openapi.from_path(reference_dir() / "openapi-sdk.inlined.yaml")
    found = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    ops = [op for op in found if (op.method.upper(), op.path) in IMPLEMENTED]
    assert len(ops) == len(IMPLEMENTED), sorted(IMPLEMENTED - {(op.method.upper(), op.path) for op in ops})
    # Operations that end an object run last, so the others meet the real objects alive.
    return sorted(ops, key=lambda op: (op.method.upper(), op.path) in LAST)


def _strategy(op: Any, real: dict[str, str]) -> st.SearchStrategy[Any]:
    media_types = list(op.get_request_payload_content_types()) or [None]
    known = {p.name: real[p.name] for p in op.path_parameters if p.name in real}
    strategies = list(op.get_strategies_from_examples())  # the spec's own examples: realistic bodies
    for media_type in media_types:
        kw: dict[str, Any] = {"media_type": media_type} if media_type else {}
        strategies.append(op.as_strategy(**kw))
        if known:
            strategies.append(op.as_strategy(path_parameters=known, **kw))
    return st.one_of(*strategies)


def _baselined(op: Any, failure: str) -> bool:
    return any(method == op.method.upper() and path == op.path and text in failure for method, path, text in BASELINE)


def _fuzz(
    op: Any, strategy: st.SearchStrategy[Any], base_url: str, auth: dict[str, str], max_examples: int = MAX_EXAMPLES
) -> list[str]:
    failures: list[str] = []

    @hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=strategy)
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=auth, timeout=60)
        try:
            case.validate_response(response, checks=CHECKS, headers=auth)
        except (Failure, FailureGroup) as exc:  # record it, keep going
            text = f"{op.method.upper()} {op.path} -> {response.status_code}: {exc}"
            if not _baselined(op, text):
                failures.append(text[:2000])

    run()
    return failures


@pytest.mark.slow
def test_it_conforms_to_the_spec(server: Server, sdk: Any, account: AccountInfo, receiver: Receiver) -> None:
    ops = _operations()
    listen(sdk, receiver)
    client_id = new_app(sdk)
    created = create_embedded(sdk, client_id, files=[make_pdf()]).signature_request
    wait_event(receiver, "signature_request_sent", created.signature_request_id)
    real = {
        "signature_request_id": created.signature_request_id,
        "signature_id": created.signatures[0].signature_id,
        "client_id": client_id,
    }
    auth = {"Authorization": "Basic " + base64.b64encode(f"{account.api_key}:".encode()).decode()}
    failures: list[str] = []

    for op in ops:
        failures += _fuzz(op, _strategy(op, real), server.api, auth)
    assert not failures, "\n\n".join(failures[:10])
    # The server still answers normally after the fuzzing.
    assert created.signature_request_id
