"""``paraph storage migrate --to URL``: copy the files of a data dir into another storage (a bucket).

Resumable: a key the target already holds with the same SHA-256 is skipped, so a run that stopped half-way is
run again as it was. Every copied object is read back and its SHA-256 compared with the source's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from paraph.storage.base import Storage, StorageKeyError
from paraph.storage.local import LocalStorage


@dataclass
class MigrationReport:
    copied: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


def _sha256(storage: Storage, key: str) -> str | None:
    try:
        return hashlib.sha256(storage.get(key)).hexdigest()
    except StorageKeyError:
        return None


def migrate(source: LocalStorage, target: Storage, progress: Callable[[str], None] = lambda _: None) -> MigrationReport:
    report = MigrationReport()
    for key in source.keys():
        data = source.get(key)
        digest = hashlib.sha256(data).hexdigest()
        if _sha256(target, key) == digest:
            report.skipped += 1
            continue
        target.put(key, data)
        if _sha256(target, key) != digest:
            report.failed.append(key)
            progress(f"{key}: the copy read back differs from the source")
            continue
        report.copied += 1
        if report.copied % 500 == 0:
            progress(f"{report.copied} copied, {report.skipped} already there")
    return report
