"""The README stays true to the code: every setting is documented, and it opens with the two commands."""

from __future__ import annotations

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
