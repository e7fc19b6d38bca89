"""The part of the final document job that runs in the PDF process pool (``Runtime.run_pdf``).

Kept apart from the job module so a pool process imports only what building the file needs (no web app,
no database models): the child reads the documents and signature images from storage itself and writes
the result there, so only keys and small values cross the process boundary.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paraph.config import Settings
from paraph.pdf.finalize import AuditTrail, FilledField, build_final
from paraph.pdf.model import Field
from paraph.storage import Storage, make_storage

if TYPE_CHECKING:  # pyHanko is heavy: only a pool process that seals loads it
    from paraph.pdf.seal import PadesSealer


@dataclass(slots=True)
class StampedField:
    field: Field
    value: str | bool | None
    image_key: str | None


@dataclass(slots=True)
class FinalTask:
    """Everything the PDF process needs, picklable."""

    settings: Settings
    document_keys: list[str]
    fields: list[StampedField]
    trail: AuditTrail
    out_key: str


@dataclass(slots=True)
class FinalOutcome:
    key: str
    sha256: str
    size: int


_STORAGES: dict[str, Storage] = {}
_SEALERS: dict[tuple[str, str | None], PadesSealer] = {}


def _storage(settings: Settings) -> Storage:
    key = str(settings.data_dir.resolve())
    if key not in _STORAGES:
        _STORAGES[key] = make_storage(settings)
    return _STORAGES[key]


def _sealer(settings: Settings) -> PadesSealer:
    """One sealer per data dir and PKCS#12 file in each pool process (loading a key is not free)."""
    from paraph.pdf.seal import load_or_create_sealer

    pkcs12 = str(settings.seal_pkcs12) if settings.seal_pkcs12 else None
    key = (str(settings.data_dir.resolve()), pkcs12)
    if key not in _SEALERS:
        _SEALERS[key] = load_or_create_sealer(
            settings.data_dir.resolve(), Path(pkcs12) if pkcs12 else None, settings.seal_pkcs12_password
        )
    return _SEALERS[key]


def build_and_store(task: FinalTask) -> FinalOutcome:
    """Stamp, append the audit trail, seal (``documents.finalize.build_final``), and store the result."""
    storage = _storage(task.settings)
    images: dict[str, bytes] = {}
    filled: list[FilledField] = []
    for f in task.fields:
        png = None
        if f.image_key is not None:
            png = images.get(f.image_key)
            if png is None:
                png = images[f.image_key] = storage.get(f.image_key)
        filled.append(FilledField(f.field, f.value, png))
    documents = [storage.get(key) for key in task.document_keys]
    pdf = build_final(documents[0] if len(documents) == 1 else documents, filled, task.trail, _sealer(task.settings))
    storage.put(task.out_key, pdf)
    return FinalOutcome(task.out_key, hashlib.sha256(pdf).hexdigest(), len(pdf))
