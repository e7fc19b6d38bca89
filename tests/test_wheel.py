"""`pip install paraph` is all an integrator's CI needs: the sdist and wheel built from this checkout, the wheel
installed into a fresh virtual environment (its dependencies at the versions of uv.lock, from uv's cache), and
`paraph dev --json` run from there, outside the checkout, finalizes a request driven by the official SDK and
the simulation API, with no browser and no network beyond loopback."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import dropbox_sign
import pypdf
import pytest
import urllib3

from paraph.testing import Paraph
from tests.client import wait_until
from tests.pgcluster import free_port
from tests.signing.helpers import make_pdf

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def uv() -> str:
    found = ROOT / ".tools" / "bin" / "uv"
    return str(found) if found.exists() else shutil.which("uv") or pytest.fail("uv is needed (make installs it)")


def run(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, f"{argv}: {done.stderr[-3000:]}"
    return done.stdout


def uv_offline_first(*argv: str, cwd: Path, env: dict[str, str]) -> None:
    """From uv's cache (what `make` installed), else from the package index."""
    try:
        run(uv(), *argv, "--offline", cwd=cwd, env=env)
    except AssertionError:
        run(uv(), *argv, cwd=cwd, env=env)


def test_the_wheel_installed_in_a_fresh_venv_serves_paraph_dev_and_finalizes_a_request(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARAPH_", "VIRTUAL_ENV", "PYTHONPATH", "UV_"))}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    dist = tmp_path / "dist"
    uv_offline_first("build", "--out-dir", str(dist), str(ROOT), cwd=tmp_path, env=env)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    (wheel,) = dist.glob(f"paraph-{version}-py3-none-any.whl")
    assert (dist / f"paraph-{version}.tar.gz").exists()

    locked = tmp_path / "requirements.txt"
    exported = run(uv(), "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", cwd=ROOT, env=env)
    locked.write_text(exported)
    venv = tmp_path / "venv"
    run(uv(), "venv", "--quiet", "--python", sys.executable, str(venv), cwd=tmp_path, env=env)
    python = venv / "bin" / "python"
    uv_offline_first(
        "pip", "install", "--quiet", "--python", str(python), "-r", str(locked), str(wheel), cwd=tmp_path, env=env
    )

    where = run(str(python), "-c", "import paraph; print(paraph.__file__)", cwd=tmp_path, env=env).strip()
    assert where.startswith(str(venv)), where  # the installed package, not the checkout
    assert run(str(venv / "bin" / "paraph"), "--version", cwd=tmp_path, env=env).strip() == f"paraph {version}"

    port = free_port()
    proc = subprocess.Popen(
        [str(venv / "bin" / "paraph"), "dev", "--json", "--port", str(port), "--data-dir", "data"],
        cwd=tmp_path,
        env={**env, "PARAPH_CALLBACK_RETRY_DELAYS": "1,1,1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.communicate(timeout=30)[1][-3000:]
        paraph = Paraph.from_json(line)
        _finalize_a_request(paraph)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err


def _finalize_a_request(paraph: Paraph) -> None:
    for path in ("/login", "/signing/static/sign.js", "/signing/static/sign.css"):  # templates and static files
        assert urllib3.request("GET", paraph.base_url + path, retries=False, timeout=30).status == 200

    contract = io.BytesIO(make_pdf(1))
    contract.name = "contract.pdf"
    request = dropbox_sign.SignatureRequestSendRequest(
        title="Wheel check",
        signers=[dropbox_sign.SubSignatureRequestSigner(name="Jack Doe", email_address="jack@example.com")],
        files=[contract],
        form_fields_per_document=[
            dropbox_sign.SubFormFieldsPerDocumentSignature(
                api_id="sig",
                type="signature",
                signer=0,
                page=1,
                x=72,
                y=600,
                width=200,
                height=40,
                required=True,
                document_index=0,
            )
        ],
        test_mode=True,
    )
    with dropbox_sign.ApiClient(paraph.configuration) as client:
        sent = dropbox_sign.SignatureRequestApi(client).signature_request_send(request).signature_request
    rid = sent.signature_request_id
    inspector = paraph.inspector()
    inspector.wait_for("signature_request_sent", signature_request_id=rid, timeout=120)

    signed = paraph.simulate_sign(sent.signatures[0].signature_id)
    assert signed["is_complete"] is True
    caught = inspector.wait_for("signature_request_all_signed", signature_request_id=rid, timeout=60)
    assert caught["event_hash_verified"] and caught["signature_verified"]
    inspector.wait_for("signature_request_downloadable", signature_request_id=rid, timeout=120)

    def final_pdf() -> bytes | None:
        with dropbox_sign.ApiClient(paraph.configuration) as client:
            got: Any = dropbox_sign.SignatureRequestApi(client).signature_request_files(rid, file_type="pdf")
        data = got.read() if hasattr(got, "read") else Path(got).read_bytes()
        return data if isinstance(data, bytes) and data.startswith(b"%PDF") else None

    pdf = wait_until(final_pdf, timeout=60)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    fields = reader.get_fields() or {}
    assert any(f.get("/FT") == "/Sig" and f.get("/V") for f in fields.values())  # the PAdES seal
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Audit trail" in text and "Simulated (test mode)" in text
    assert json.loads(json.dumps(caught["payload"]))["event"]["event_type"] == "signature_request_all_signed"
