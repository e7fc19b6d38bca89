"""What a service is handed besides its arguments: the unit of work and the process-wide objects it may use.

A service that needs only the database takes the ``session``; one that needs settings (``base_url``), keys
(MACs, digests) or storage takes a :class:`Scope` and says so in its signature, instead of fetching the
runtime through the session. The edges build it: the HTTP handlers from the request's runtime, the worker
for each job it runs (a job handler is handed its scope), a periodic sweep from the runtime it is given.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from paraph.config import Settings
from paraph.runtime import Runtime
from paraph.security import KeyBox
from paraph.storage import Storage


@dataclass(frozen=True, slots=True)
class Scope:
    session: Session
    settings: Settings
    keys: KeyBox
    storage: Storage

    @classmethod
    def of(cls, session: Session, runtime: Runtime) -> Scope:
        return cls(session, runtime.settings, runtime.keys, runtime.storage)
