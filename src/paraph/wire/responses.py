"""Response shapes shared by every endpoint: JSON with the right content type, list_info, warnings."""

from __future__ import annotations

import math
from typing import Any

from starlette.responses import JSONResponse, Response

from paraph.errors import BadRequest

MAX_PAGE = 1_000_000


class ApiJSONResponse(JSONResponse):
    media_type = "application/json"


def ok(body: dict[str, Any], status_code: int = 200) -> ApiJSONResponse:
    return ApiJSONResponse(body, status_code=status_code)


def empty(status_code: int = 200) -> Response:
    """The spec's bodiless success: cancel, remove (200) and api_app delete (204)."""
    if status_code == 204:
        return Response(status_code=204)
    return ApiJSONResponse({}, status_code=status_code)


def page_params(page: Any, page_size: Any) -> tuple[int, int]:
    def as_int(value: Any, name: str, default: int) -> int:
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise BadRequest(f"{name} must be an integer", error_path=name) from None

    p = as_int(page, "page", 1)
    size = as_int(page_size, "page_size", 20)
    if p < 1:
        raise BadRequest("page must be at least 1", error_path="page")
    if p > MAX_PAGE:  # the offset must stay a 64-bit integer for the database
        raise BadRequest(f"page must be at most {MAX_PAGE}", error_path="page")
    if not 1 <= size <= 100:
        raise BadRequest("page_size must be between 1 and 100", error_path="page_size")
    return p, size


def list_info(page: int, page_size: int, total: int) -> dict[str, int]:
    return {
        "num_pages": max(1, math.ceil(total / page_size)) if total else 0,
        "num_results": total,
        "page": page,
        "page_size": page_size,
    }


def warning(name: str, msg: str) -> dict[str, str]:
    return {"warning_name": name, "warning_msg": msg}
