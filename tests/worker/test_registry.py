"""The background work a worker runs is exactly the expected set, learnt from ``paraph.tasks`` alone."""

from __future__ import annotations

import json
import subprocess
import sys

EXPECTED_JOB_KINDS = {
    "bulk_send.rows",
    "mail.completed",
    "mail.endpoint_disabled",
    "mail.expired",
    "mail.expired_notice",
    "mail.final_copy",
    "mail.remind",
    "mail.signature_request_sent",
    "mail.signer_invite",
    "signature_request.cancel",
    "signature_request.process",
    "signing.finalize",
    "template.process",
    "unclaimed_draft.process",
}
EXPECTED_SWEEPS = {
    "callbacks.prune",
    "mail.expiry_notices",
    "signature_requests.expire",
    "signature_requests.sign_url_tokens",
}


def test_it_registers_every_job_kind_and_sweep_without_importing_a_router() -> None:
    # A fresh interpreter, as `paraph worker` starts: nothing imported but what the worker imports itself.
    code = (
        "import json, sys; from paraph import tasks; r = tasks.load(); from fastapi import APIRouter; "
        "routers = sorted(n for n, m in list(sys.modules.items()) if n.startswith('paraph') "
        "and any(isinstance(v, APIRouter) for v in vars(m).values())); "
        "print(json.dumps({'jobs': sorted(r.job_kinds), 'sweeps': sorted(r.sweeps), 'routers': routers}))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    found = json.loads(out)
    assert set(found["jobs"]) == EXPECTED_JOB_KINDS
    assert set(found["sweeps"]) == EXPECTED_SWEEPS
    assert found["routers"] == []
