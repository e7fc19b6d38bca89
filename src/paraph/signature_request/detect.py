"""Field detection: the text-tag parser of signature requests, run on one document, nothing stored.

The SDK (2.0.0) documents ``page_range`` as zero-based page indexes (``all``, ``0-2,5``) and
``pages_analyzed`` as that same string; ``pdf.processing.detect_fields`` counts pages from 1 and
reports how many were analyzed, so both are translated here.
"""

from __future__ import annotations

import re
from typing import Any

from paraph.errors import BadRequest
from paraph.pdf.pool import PdfWorkError
from paraph.pdf.stored import DetectOutcome, detect_document_fields
from paraph.runtime import Runtime

PAGE_RANGE = re.compile(r"(?:all|\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)")


def one_based(page_range: str | None) -> str | None:
    """``0-2,5`` (zero-based, the SDK's form) -> ``1-3,6``; ``all`` or nothing -> None."""
    if page_range is None or page_range.strip() in ("", "all"):
        return None
    text = page_range.replace(" ", "")
    if not PAGE_RANGE.fullmatch(text):
        raise BadRequest("page_range: use all, or zero-based pages like 0-2,5", error_path="page_range")
    parts = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        if last and int(last) < int(first):
            raise BadRequest("page_range: a range must not go backwards", error_path="page_range")
        parts.append(f"{int(first) + 1}-{int(last) + 1}" if last else str(int(first) + 1))
    return ",".join(parts)


def detect(rt: Runtime, data: bytes, page_range: str | None, lane: str = "") -> dict[str, Any]:
    """The ``detection_result``; BadRequest for a file that cannot be read (``error_path`` file). ``lane``: the
    caller's account, whose turns in the PDF pool are shared fairly with other accounts'."""
    try:
        outcome: DetectOutcome = rt.pdf_pool.run(
            detect_document_fields, data, one_based(page_range), rt.settings.max_pages, lane=lane
        )
    except PdfWorkError:
        raise BadRequest(
            "file: The file could not be processed (it is damaged or too complex).", error_path="file"
        ) from None
    if outcome.page_range_error is not None:
        raise BadRequest(f"page_range: {outcome.page_range_error}", error_path="page_range")
    if outcome.failure is not None or outcome.result is None:
        message = outcome.failure.message if outcome.failure else "The file could not be read."
        raise BadRequest(f"file: {message}", error_path="file")
    result = dict(outcome.result)
    result["pages_analyzed"] = "all" if one_based(page_range) is None else (page_range or "").replace(" ", "")
    return result
