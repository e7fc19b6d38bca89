"""Schemathesis over the template operations and the sends from templates, against the spec the official
SDKs are generated from: no 5xx, and every response conforms (status code, content type, headers, body).
The same harness as ``tests/signature_request/test_conformance.py`` (SQLite only, for the same reason), with
path parameters of a real, processed template half of the time."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import schemathesis
from schemathesis.core.result import Ok

from tests.conftest import AccountInfo, Server
from tests.receiver import Receiver
from tests.reference import reference_dir
from tests.signature_request import test_conformance as harness
from tests.signature_request.helpers import listen
from tests.template.helpers import ready_template

#: Bulk sends and edits (issue 15): fewer examples each, their paths being mostly the sends' own.
BRIEF = {
    ("POST", "/signature_request/bulk_send_with_template"),
    ("POST", "/signature_request/bulk_create_embedded_with_template"),
    ("GET", "/bulk_send_job/{bulk_send_job_id}"),
    ("GET", "/bulk_send_job/list"),
    ("PUT", "/signature_request/edit/{signature_request_id}"),
    ("PUT", "/signature_request/edit_embedded/{signature_request_id}"),
    ("PUT", "/signature_request/edit_with_template/{signature_request_id}"),
    ("PUT", "/signature_request/edit_embedded_with_template/{signature_request_id}"),
}
IMPLEMENTED = {
    ("POST", "/template/create"),
    ("GET", "/template/{template_id}"),
    ("GET", "/template/list"),
    ("POST", "/template/update_files/{template_id}"),
    ("POST", "/template/add_user/{template_id}"),
    ("POST", "/template/remove_user/{template_id}"),
    ("GET", "/template/files/{template_id}"),
    ("GET", "/template/files_as_data_uri/{template_id}"),
    ("GET", "/template/files_as_file_url/{template_id}"),
    ("POST", "/template/delete/{template_id}"),
    ("POST", "/signature_request/send_with_template"),
    ("POST", "/signature_request/create_embedded_with_template"),
} | BRIEF
BRIEF_EXAMPLES = 10
LAST = {("POST", "/template/delete/{template_id}"), ("POST", "/template/update_files/{template_id}")}

db_url = harness.db_url


def _operations() -> list[Any]:
    schema = schemathesis.openapi.from_path(reference_dir() / "openapi-sdk.inlined.yaml")
    found = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    ops = [op for op in found if (op.method.upper(), op.path) in IMPLEMENTED]
    assert len(ops) == len(IMPLEMENTED), sorted(IMPLEMENTED - {(op.method.upper(), op.path) for op in ops})
    return sorted(ops, key=lambda op: (op.method.upper(), op.path) in LAST)


@pytest.mark.slow
def test_the_template_operations_conform_to_the_spec(
    server: Server, sdk: Any, account: AccountInfo, receiver: Receiver
) -> None:
    ops = _operations()
    listen(sdk, receiver)
    real = {"template_id": ready_template(sdk, receiver)}
    auth = {"Authorization": "Basic " + base64.b64encode(f"{account.api_key}:".encode()).decode()}
    failures: list[str] = []
    for op in ops:
        brief = (op.method.upper(), op.path) in BRIEF
        examples = BRIEF_EXAMPLES if brief else harness.MAX_EXAMPLES
        failures += harness._fuzz(op, harness._strategy(op, real), server.api, auth, examples)
    assert not failures, "\n\n".join(failures[:10])
