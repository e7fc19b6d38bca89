"""Where a signature request stands: one :class:`RequestState`, worked out from the request's flags in one
order, in Python (:func:`state_of`) and in SQL (:func:`state_expression`) side by side.

The API's errors (:func:`api_error_for`), the dashboard (its filter, counts and labels) and the signing page
(:func:`page_state`) all map from it. The order is the one the API always had: a removed request is gone
before anything else, then canceled, still processing, failed, expired, complete, declined. (The dashboard
used to list an errored or a complete request ahead of a processing or an expired one; no code path sets
both flags of either pair.)
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from paraph.errors import ApiError, BadRequest, Conflict, Deleted, NotFound
from paraph.models import SignatureRequest
from paraph.models.signature_request import FilesState


class RequestState(StrEnum):
    REMOVED = "removed"
    CANCELED = "canceled"
    PROCESSING = "processing"
    ERROR = "error"
    EXPIRED = "expired"
    COMPLETE = "complete"
    DECLINED = "declined"
    AWAITING_SIGNATURE = "awaiting_signature"


def state_of(sr: SignatureRequest) -> RequestState:
    """Where ``sr`` stands: the same answer as :func:`state_expression` gives in SQL."""
    if sr.removed_at is not None:
        return RequestState.REMOVED
    if sr.cancel_requested_at is not None:
        return RequestState.CANCELED
    if sr.files_state == FilesState.PROCESSING:
        return RequestState.PROCESSING
    if sr.has_error:
        return RequestState.ERROR
    if sr.is_expired:
        return RequestState.EXPIRED
    if sr.is_complete:
        return RequestState.COMPLETE
    if sr.is_declined:
        return RequestState.DECLINED
    return RequestState.AWAITING_SIGNATURE


def state_expression() -> ColumnElement[str]:
    """:func:`state_of` in SQL, so that filtering by a state and counting by state agree with it."""
    sr = SignatureRequest
    return sa.case(
        (sr.removed_at.is_not(None), RequestState.REMOVED.value),
        (sr.cancel_requested_at.is_not(None), RequestState.CANCELED.value),
        (sr.files_state == FilesState.PROCESSING, RequestState.PROCESSING.value),
        (sr.has_error.is_(True), RequestState.ERROR.value),
        (sr.is_expired.is_(True), RequestState.EXPIRED.value),
        (sr.is_complete.is_(True), RequestState.COMPLETE.value),
        (sr.is_declined.is_(True), RequestState.DECLINED.value),
        else_=RequestState.AWAITING_SIGNATURE.value,
    )


#: The states the dashboard lists (removed requests are never shown), in its order, with their labels.
LISTED = (
    RequestState.PROCESSING,
    RequestState.AWAITING_SIGNATURE,
    RequestState.COMPLETE,
    RequestState.DECLINED,
    RequestState.EXPIRED,
    RequestState.ERROR,
    RequestState.CANCELED,
)
LABELS = {state: state.value.replace("_", " ") for state in LISTED}


def api_error_for(sr: SignatureRequest) -> ApiError | None:
    """Why a signer cannot act on ``sr`` now, as the API says it, or None (for embedded sign URLs and the
    signing page)."""
    state = state_of(sr)
    if state is RequestState.REMOVED:
        return NotFound("Not found.")
    if state is RequestState.CANCELED:
        return Deleted("This signature request has been canceled.")
    if state is RequestState.PROCESSING:
        return Conflict("The signature request is still being prepared; wait for signature_request_sent.")
    if state is RequestState.ERROR:
        return BadRequest(f"This signature request has an error: {sr.error_message}")
    if state is RequestState.EXPIRED:
        return BadRequest("This signature request has expired.")
    if state is RequestState.COMPLETE:
        return Conflict("This signature request is already complete.")
    if state is RequestState.DECLINED:
        return Conflict("This signature request has been declined.")
    return None


#: What the signing page shows for a request a signer cannot act on.
_PAGE_STATES = {
    RequestState.REMOVED: "invalid",
    RequestState.CANCELED: "canceled",
    RequestState.PROCESSING: "closed",
    RequestState.ERROR: "closed",
    RequestState.EXPIRED: "expired",
    RequestState.COMPLETE: "complete",
    RequestState.DECLINED: "declined",
}


def page_state(sr: SignatureRequest) -> str | None:
    """What the signing page shows for ``sr`` when a signer cannot act on it, or None when they can. The
    page tells how the request ended (complete, declined, expired, in that order) even when it was removed
    or canceled afterwards: the signer who comes back learns the outcome, not only that the link is dead."""
    state = state_of(sr)
    if state is RequestState.AWAITING_SIGNATURE:
        return None
    if sr.is_complete:
        return "complete"
    if sr.is_declined:
        return "declined"
    if sr.is_expired:
        return "expired"
    return _PAGE_STATES[state]
