"""Where the Dropbox Sign reference material lives, for tests that compare against it.

It sits beside the repository (``../shared/reference/dropbox-sign``), not in it. A developer without it gets a
skip that says so; CI has it, so there a missing folder is a failure, never a silent skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REFERENCE_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference" / "dropbox-sign"


def in_ci() -> bool:
    """CI sets CI=true; .ci/run also sets PARAPH_REQUIRE_REFERENCE=1 to make the reference mandatory."""
    flags = (os.environ.get("CI", ""), os.environ.get("PARAPH_REQUIRE_REFERENCE", ""))
    return any(f.strip().lower() not in ("", "0", "false", "no") for f in flags)


def reference_dir() -> Path:
    """The reference folder, or a skip (a failure under CI) when it is absent."""
    path = REFERENCE_DIR.resolve()
    if not path.is_dir():
        reason = f"Dropbox Sign reference material not found at {path} (expected beside the repository)"
        if in_ci():
            pytest.fail(reason + "; CI must provide it", pytrace=False)
        pytest.skip(reason)
    return path
