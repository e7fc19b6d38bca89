"""Typed API errors, rendered once into Dropbox Sign's envelope by the handlers in ``paraph.app``.

``{"error": {"error_msg": ..., "error_name": ..., "error_path": ...}}`` with the status codes of the
Dropbox Sign API (API.md section 2.2). Domain code raises these; nothing else builds an error response.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ApiError(Exception):
    status_code: ClassVar[int] = 400
    error_name: ClassVar[str] = "bad_request"

    def __init__(self, error_msg: str, *, error_path: str | None = None) -> None:
        super().__init__(error_msg)
        self.error_msg = error_msg
        self.error_path = error_path

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"error_msg": self.error_msg, "error_name": self.error_name}
        if self.error_path is not None:
            err["error_path"] = self.error_path
        return {"error": err}


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    status_code = 401
    error_name = "unauthorized"


class PaymentRequired(ApiError):
    status_code = 402
    error_name = "payment_required"


class Forbidden(ApiError):
    status_code = 403
    error_name = "forbidden"


class NotFound(ApiError):
    status_code = 404
    error_name = "not_found"


class MethodNotSupported(ApiError):
    status_code = 405
    error_name = "method_not_supported"


class Conflict(ApiError):
    status_code = 409
    error_name = "conflict"


class Deleted(ApiError):
    status_code = 410
    error_name = "deleted"


class PayloadTooLarge(ApiError):
    status_code = 413
    error_name = "bad_request"


class Unprocessable(ApiError):
    status_code = 422
    error_name = "unprocessable_entity"


class ExceededRate(ApiError):
    status_code = 429
    error_name = "exceeded_rate"


class Maintenance(ApiError):
    """503: a part Paraph needs (the document storage) cannot be reached; the request can be tried again."""

    status_code = 503
    error_name = "maintenance"  # Dropbox Sign's name for its 503 (API.md section 2.2)


class InvalidReminder(ApiError):
    error_name = "invalid_reminder"


class InvalidRecipient(ApiError):
    error_name = "invalid_recipient"


class CancelFailed(ApiError):
    error_name = "signature_request_cancel_failed"


class RemoveFailed(ApiError):
    error_name = "signature_request_remove_failed"
