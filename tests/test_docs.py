"""The README stays true to the code: every setting is documented, and it opens with the two commands."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from paraph.config import settings_help

README = Path(__file__).resolve().parents[1] / "README.md"


def test_it_documents_every_setting_in_the_readme() -> None:
    text = README.read_text()
    for name, _default, _desc in settings_help():
        assert f"`{name}`" in text, f"{name} is missing from the README"


def test_it_opens_with_the_two_commands() -> None:
    block = README.read_text().split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in block.splitlines()[1:] if line.strip()]
    assert commands == ["make run", "make test"]


ROOT = README.parent


def test_it_says_in_one_line_what_make_test_needs_from_the_system(tmp_path: Path) -> None:
    # A machine with neither Chromium nor npm on its PATH (and no PARAPH_CHROMIUM): tools/check-test-deps,
    # which `make test` runs first, names them at once and fails.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("ls",):
        (bin_dir / tool).symlink_to(shutil.which(tool) or f"/bin/{tool}")
    env = {k: v for k, v in os.environ.items() if k not in ("PARAPH_CHROMIUM",)}
    env["PATH"] = str(bin_dir)
    done = subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(ROOT / "tools" / "check-test-deps")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "chromium" in lines[0] and "npm" in lines[0] and "apt-get install" in lines[0]


def test_it_installs_python_packages_from_the_lock_only() -> None:
    makefile = (ROOT / "Makefile").read_text()
    syncs = [line.strip() for line in makefile.splitlines() if "$(UV) sync" in line]
    assert syncs and all("--locked" in line for line in syncs)
    assert "pip install" not in makefile.replace("pip install --quiet --require-hashes", "")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make check" in ci and "make test" in ci


def test_it_documents_every_dom_hook_in_the_readme() -> None:
    # Integrators' end-to-end tests rely on data-testid hooks: each one in a page or script is in the README.
    src = ROOT / "src" / "paraph"
    found: set[str] = set()
    for path in [*src.rglob("*.html"), *src.rglob("*.js")]:
        found |= set(re.findall(r'data-testid="([a-z0-9-]+)"', path.read_text()))
    assert found, "no hook found: the pattern no longer matches the pages"
    text = README.read_text()
    assert sorted(h for h in found if f"`{h}`" not in text) == []
