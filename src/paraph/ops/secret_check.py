"""Is PARAPH_SECRET_KEY the key this database's secrets were encrypted with?

Every process of a deployment (API nodes, workers) must share one secret key: it encrypts the API keys that
``event_hash`` is computed from and the deployment's seal, and signs sign URLs, file links and CSRF tokens. A
node started with another key would fail at its first callback or seal, and answer 401 to links the others
made. So ``paraph serve`` and ``paraph worker`` read one stored secret at start and refuse to run, with one
line, when it cannot be decrypted.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from paraph.models import ApiKey, SealKey
from paraph.security import KeyBox

MISMATCH = (
    "PARAPH_SECRET_KEY is not the key this database's secrets were encrypted with: every process of a "
    "deployment must use the same PARAPH_SECRET_KEY (docs/deploy.md); not starting"
)


def secret_key_problem(session: Session, keys: KeyBox) -> str | None:
    """:data:`MISMATCH` if a stored secret (the seal, else an API key) cannot be decrypted with ``keys``;
    None if it can, or if nothing is stored yet."""
    for column in (SealKey.pem_encrypted, ApiKey.encrypted_key):
        token = session.scalar(sa.select(column).limit(1))
        if token is None:
            continue
        try:
            keys.decrypt(token)
        except RuntimeError:
            return MISMATCH
        return None
    return None
