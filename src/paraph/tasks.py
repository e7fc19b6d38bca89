"""Every job handler and periodic sweep, listed once.

The worker loops (``paraph worker``, and ``paraph serve``'s in-process ones) call :func:`load` before they
start; nothing learns its background work by importing an HTTP router. A sweep or job kind whose module is
missing here is never run: the callback retention sweep was lost that way once, and ``tests`` compare
:func:`load`'s answer with the expected set.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Registered:
    job_kinds: frozenset[str]
    sweeps: frozenset[str]


def load() -> Registered:
    """Import every module that registers background work, and say what is registered."""
    from paraph.bulk_send import tasks as _bulk_send  # noqa: F401  bulk send jobs' rows
    from paraph.callbacks import tasks as _callbacks  # noqa: F401  callbacks.prune
    from paraph.editor import tasks as _editor  # noqa: F401  processing unclaimed drafts
    from paraph.mail import tasks as _mail  # noqa: F401  mail.*, mail.expiry_notices
    from paraph.signature_request import tasks as _requests  # noqa: F401  processing, cancel, expiry and token sweeps
    from paraph.signing import tasks as _signing  # noqa: F401  finalizing signed requests
    from paraph.template import tasks as _templates  # noqa: F401  processing templates' documents
    from paraph.worker import periodic, queue

    return Registered(frozenset(queue.handlers()), periodic.names())
