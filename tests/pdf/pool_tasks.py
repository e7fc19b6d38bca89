"""Tasks for the PDF pool's tests: module-level, so a spawned pool process can import them."""

from __future__ import annotations

import os
import time
from pathlib import Path

from paraph.pdf.processing import process_document


def pid() -> int:
    return os.getpid()


def forever(marker: str) -> None:
    """Write this process's id to ``marker``, then never return."""
    Path(marker).write_text(str(os.getpid()))
    while True:
        time.sleep(1)


def allocate(mib: int) -> int:
    return len(bytearray(mib * 1024 * 1024))


def fail(message: str) -> None:
    raise ValueError(message)


def record(log: str, name: str) -> str:
    """Append ``name`` to the file ``log`` (the order tasks ran in)."""
    with open(log, "a") as out:
        out.write(name + "\n")
    return name


def process(data: bytes) -> int:
    """Process a document as a signature request does; its page count."""
    done = process_document(
        data,
        document_index=0,
        signer_count=1,
        use_text_tags=False,
        hide_text_tags=False,
        ignore_text_tags_errors=False,
        max_pages=10,
    )
    return len(done.pages)
