"""The deployment's self-signed seal, kept in the database so every worker seals with the same certificate.

Without PARAPH_SEAL_PKCS12, the first process that seals a document makes a key and a self-signed certificate
and stores them (encrypted with PARAPH_SECRET_KEY's KeyBox) in ``seal_keys``; a process that races it finds
the row taken and uses the one stored. A data dir from before (``DATA_DIR/seal/seal.pem``) is adopted as the
deployment's seal, so documents sealed before keep the certificate integrators trust. Each data dir making its
own certificate would have had every worker of a deployment seal with a different one.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from paraph.models import SealKey
from paraph.runtime import Runtime

SELF_SIGNED = "self-signed"


def seal_pem(rt: Runtime) -> bytes | None:
    """The PEM (PKCS#8 key, then the certificate) of the deployment's self-signed seal, made once; None when
    PARAPH_SEAL_PKCS12 is set (that file is the seal)."""
    if rt.settings.seal_pkcs12 is not None:
        return None
    found = _stored(rt)
    if found is not None:
        return found
    from paraph.pdf.seal import legacy_seal_path, new_self_signed_pem  # pyHanko loads only where a seal is made

    legacy = legacy_seal_path(rt.settings.data_dir.resolve())
    pem = legacy.read_bytes() if legacy.is_file() else new_self_signed_pem()
    try:
        with rt.unit_of_work() as session:
            session.add(SealKey(name=SELF_SIGNED, pem_encrypted=rt.keys.encrypt(pem.decode("ascii"))))
    except IntegrityError:
        pass  # another process stored one first: the one stored is the deployment's
    stored = _stored(rt)
    assert stored is not None
    return stored


def _stored(rt: Runtime) -> bytes | None:
    with rt.unit_of_work(write=False) as session:
        row = session.get(SealKey, SELF_SIGNED)
        return None if row is None else rt.keys.decrypt(row.pem_encrypted).encode("ascii")
