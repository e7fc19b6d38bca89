"""Placeholders for the mail the signature request feature asks for, until the mail feature handles it.

The feature enqueues ``mail.signature_request_sent`` (a non-embedded request was sent: mail each signer their
signing link) and ``mail.remind`` (``POST /signature_request/remind``: mail one signer a reminder), with
``{"signature_request_id", "signature_id"?}``. The mail feature registers real handlers for these kinds with
``jobs.handler``; the placeholders below are registered only where no handler exists yet, so the import
order of the two modules does not matter, and until then the jobs complete without sending anything.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from paraph.signature_request.service import MAIL_REMIND_JOB, MAIL_SENT_JOB
from paraph.worker import jobs

log = logging.getLogger(__name__)


def _not_mailed(session: Session, payload: dict[str, Any]) -> None:
    log.info("no mail handler is installed; not mailing %s", payload)


for _kind in (MAIL_SENT_JOB, MAIL_REMIND_JOB):
    if _kind not in jobs.handlers():
        jobs.handler(_kind)(_not_mailed)
