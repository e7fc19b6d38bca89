"""Text a client sends must be storable text: no NUL (PostgreSQL refuses it in text columns) and no unpaired
UTF-16 surrogate (JSON's ``"\\ud800"``; it cannot be encoded as UTF-8, for the database or for a response).

Checked once where strings enter: every decoded API body, query and JSON form value (``wire.decode``) and
every dashboard form (``web.core.form_fields``). A bad string is a 400 naming its parameter.
"""

from __future__ import annotations

import re
from typing import Any

_BAD = re.compile("[\x00\ud800-\udfff]")


def problem(text: str) -> str | None:
    """What is wrong with ``text`` as stored text, or None."""
    found = _BAD.search(text)
    if found is None:
        return None
    return "contains a NUL character" if found.group() == "\x00" else "contains an unpaired UTF-16 surrogate"


def bad_text(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first (path, problem) among the strings of ``value`` (keys included), or None.

    Paths are written as in ``error_path``: ``signers[0].name``, ``metadata.key``.
    """
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            why = problem(node)
            if why is not None:
                return where, why
        elif isinstance(node, dict):
            for key, child in node.items():
                here = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and (why := problem(key)) is not None:
                    return _printable(where) or "body", f"has a key that {why}"
                stack.append((child, _printable(here)))
        elif isinstance(node, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(node))
    return None


def _printable(path: str) -> str:
    """A path safe to put in an error message (itself free of the characters it reports)."""
    return _BAD.sub("\ufffd", path)[:200]
