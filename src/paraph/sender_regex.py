"""Regular expressions a sender writes (a text field's ``validation_custom_regex``, a form-field rule's
``match`` trigger) and a signer's value is run against: RE2, whose matching time is linear in the value, never
Python's backtracking ``re`` (``(a+)+$`` against a long value would pin the process).

A pattern RE2 cannot read (a backreference, a look-around) is refused when the request is created; values are
bounded (``MAX_VALUE_LENGTH``), patterns too (``MAX_PATTERN_LENGTH``), and so is the memory of each compiled
pattern.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

MAX_PATTERN_LENGTH = 1000
MAX_VALUE_LENGTH = 1000
MAX_PATTERN_MEMORY = 1 << 20  # bytes per compiled pattern (RE2's own bound; the default is 8 MiB)


class PatternError(ValueError):
    """A pattern the linear-time engine refuses; the message says why."""


def _options() -> Any:
    options = re2.Options()
    options.max_mem = MAX_PATTERN_MEMORY
    options.log_errors = False
    return options


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Any:
    """The compiled pattern, or PatternError."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"the pattern is longer than {MAX_PATTERN_LENGTH} characters")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise PatternError(
            f"unsupported regular expression ({detail or 'rejected'}); backreferences and look-around are not supported"
        ) from None


def check_pattern(pattern: str) -> str:
    compile_pattern(pattern)
    return pattern


def fullmatch(pattern: str, value: str) -> bool:
    """Whether all of ``value`` (at most MAX_VALUE_LENGTH characters) matches; PatternError for bad patterns."""
    return compile_pattern(pattern).fullmatch(value[:MAX_VALUE_LENGTH]) is not None


def search(pattern: str, value: str) -> bool:
    return compile_pattern(pattern).search(value[:MAX_VALUE_LENGTH]) is not None
