"""Every function the PDF process pool runs (:mod:`paraph.pdf.pool`): the processing of a signature
request's documents, the detect_fields API, and the final document.

Each function reads its input from storage and writes its output there itself, so only keys and small
metadata cross the process boundary (not megabytes of PDF and page images), and the pool process is the
only one that holds the bytes. Failures come back as values: a DocumentError does not survive pickling.
A pool process imports only this module and what it needs (no web app, no database models); the pool
warms itself with :func:`warm_up` below.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pypdf import PdfWriter

from paraph.config import Settings
from paraph.pdf import processing
from paraph.pdf.audit_trail import AuditTrail
from paraph.pdf.convert import office_to_pdf
from paraph.pdf.fields import FieldsError
from paraph.pdf.final import build_final
from paraph.pdf.model import DocumentError, DocumentErrorKind, Field, FieldGroup, PageInfo
from paraph.pdf.processing import (
    PixelBudget,
    append_signature_page,
    detect_fields,
    process_document,
    render_page_png,
    render_pages,
)
from paraph.pdf.sniff import OFFICE_KINDS, OfficeKind, sniff
from paraph.pdf.stamp import FilledField
from paraph.storage import Storage, open_storage

if TYPE_CHECKING:  # pyHanko is heavy: only a pool process that seals loads it
    from paraph.pdf.seal import PadesSealer

_STORAGES: dict[str, Storage] = {}


def _storage(settings: Settings) -> Storage:
    """One storage per location and process (the pool's processes live on between calls)."""
    key = repr(settings.storage_location)
    found = _STORAGES.get(key)
    if found is None:
        found = _STORAGES[key] = open_storage(settings)
    return found


def pixel_budget(settings: Settings) -> PixelBudget:
    """The pixel budget of a document (``PARAPH_PDF_MAX_PAGE_MEGAPIXELS``, ``PARAPH_PDF_MAX_DOCUMENT_MEGAPIXELS``)."""
    return PixelBudget(
        page=settings.pdf_max_page_megapixels * 1_000_000,
        document=settings.pdf_max_document_megapixels * 1_000_000,
    )


def warm_up() -> None:
    """The pool's initializer: importing this module loaded every PDF module a task needs; then pdfium's
    fonts and caches are loaded by processing a small tagged page (best effort, see ``processing.warm_up``)."""
    processing.warm_up()


@dataclass(slots=True)
class Failure:
    kind: DocumentErrorKind
    message: str

    @classmethod
    def of(cls, exc: DocumentError) -> Failure:
        return cls(exc.kind, exc.message)


@dataclass(slots=True)
class DocumentTask:
    settings: Settings
    prefix: str  # storage key prefix of this document: sr/<id>/docs/<index>
    original_key: str
    document_index: int
    signer_count: int
    use_text_tags: bool
    hide_text_tags: bool
    ignore_text_tags_errors: bool
    max_pages: int
    #: Render the page images here only up to this many pages; longer documents come back without them, for
    #: :func:`render_stored_pages` to render in several processes at once. None: always here.
    render_limit: int | None = None
    #: The uploaded file's name, for messages about it (an office file that does not convert).
    name: str = ""


@dataclass(slots=True)
class DocumentOutcome:
    processed_key: str = ""
    sha256: str = ""
    size: int = 0
    page_sizes: list[tuple[float, float]] = field(default_factory=list)
    page_image_keys: list[str] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    groups: list[FieldGroup] = field(default_factory=list)
    failure: Failure | None = None


def process_stored_document(task: DocumentTask) -> DocumentOutcome:
    """Validate one stored upload, read its text tags, render its pages; store the PDF (when processing
    changed it) and the page images."""
    storage = _storage(task.settings)
    data = storage.get(task.original_key)
    try:
        pdf = converted(data, name=task.name, settings=task.settings, max_pages=task.max_pages)
        done = process_document(
            pdf,
            document_index=task.document_index,
            signer_count=task.signer_count,
            use_text_tags=task.use_text_tags,
            hide_text_tags=task.hide_text_tags,
            ignore_text_tags_errors=task.ignore_text_tags_errors,
            max_pages=task.max_pages,
            render_limit=task.render_limit,
            pixel_budget=pixel_budget(task.settings),
        )
    except DocumentError as exc:
        exc.document_index = task.document_index
        return DocumentOutcome(size=len(data), failure=Failure.of(exc))
    if pdf is not data:  # converted: the hash in the audit trail is the uploaded file's
        done.sha256 = hashlib.sha256(data).hexdigest()
    if done.pdf is data:
        processed_key = task.original_key
    else:
        processed_key = f"{task.prefix}/processed.pdf"
        storage.put(processed_key, done.pdf)
    image_keys = _store_pages(storage, task.prefix, 1, done.page_images)
    return DocumentOutcome(
        processed_key=processed_key,
        sha256=done.sha256,
        size=len(data),
        page_sizes=[(p.width, p.height) for p in done.pages],
        page_image_keys=image_keys,
        fields=done.fields,
        groups=done.groups,
    )


def converted(data: bytes, *, name: str, settings: Settings, max_pages: int) -> bytes:
    """An office file (Word, Excel, PowerPoint, OpenDocument, RTF, HTML, text: judged by its content) as PDF,
    converted by LibreOffice in this process (:mod:`paraph.pdf.convert`); any other file unchanged."""
    kind = sniff(data)
    if kind is None or kind not in OFFICE_KINDS:
        return data
    return office_to_pdf(data, cast(OfficeKind, kind), name=name, timeout=settings.convert_timeout, max_pages=max_pages)


def _image_key(prefix: str, number: int) -> str:
    return f"{prefix}/pages/{number}.png"


def _store_pages(storage: Storage, prefix: str, first: int, images: list[bytes]) -> list[str]:
    keys = []
    for number, png in enumerate(images, start=first):
        key = _image_key(prefix, number)
        storage.put(key, png)
        keys.append(key)
    return keys


@dataclass(slots=True)
class PagesTask:
    settings: Settings
    pdf_key: str  # the processed document
    prefix: str
    first: int  # 1-based
    count: int


@dataclass(slots=True)
class PagesOutcome:
    image_keys: list[str] = field(default_factory=list)
    failure: Failure | None = None


def render_stored_pages(task: PagesTask) -> PagesOutcome:
    """Render a range of a processed document's pages and store their images."""
    storage = _storage(task.settings)
    try:
        images = render_pages(
            storage.get(task.pdf_key), task.first, task.count, pixel_budget=pixel_budget(task.settings)
        )
    except DocumentError as exc:
        return PagesOutcome(failure=Failure.of(exc))
    return PagesOutcome(_store_pages(storage, task.prefix, task.first, images))


@dataclass(slots=True)
class SignaturePageOutcome:
    pdf_key: str = ""
    fields: list[Field] = field(default_factory=list)
    page: PageInfo | None = None
    image_key: str = ""
    failure: Failure | None = None


def append_stored_signature_page(
    settings: Settings, pdf_key: str, prefix: str, signer_names: list[str], document_index: int
) -> SignaturePageOutcome:
    """Append a signature page (a box per signer) to a stored document, and render the new page."""
    storage = _storage(settings)
    try:
        pdf, fields, page = append_signature_page(storage.get(pdf_key), signer_names, document_index)
        number = fields[0].page
        png = render_page_png(pdf, number, pixel_budget=pixel_budget(settings))
    except DocumentError as exc:
        return SignaturePageOutcome(failure=Failure.of(exc))
    out_key = f"{prefix}/with_signature_page.pdf"
    image_key = _image_key(prefix, number)
    storage.put(out_key, pdf)
    storage.put(image_key, png)
    return SignaturePageOutcome(out_key, fields, page, image_key)


def merge_stored_pdfs(settings: Settings, keys: list[str], out_key: str) -> str:
    """The documents of a request as one PDF (what ``files`` returns before completion)."""
    storage = _storage(settings)
    writer = PdfWriter()
    for key in keys:
        writer.append(io.BytesIO(storage.get(key)))
    out = io.BytesIO()
    writer.write(out)
    storage.put(out_key, out.getvalue())
    return out_key


@dataclass(slots=True)
class DetectOutcome:
    result: dict[str, Any] | None = None
    failure: Failure | None = None
    page_range_error: str | None = None


def detect_document_fields(data: bytes, page_range: str | None, max_pages: int) -> DetectOutcome:
    """``pdf.processing.detect_fields`` with its errors returned as values (they do not pickle)."""
    try:
        return DetectOutcome(result=detect_fields(data, page_range, max_pages=max_pages))
    except DocumentError as exc:
        return DetectOutcome(failure=Failure.of(exc))
    except FieldsError as exc:
        return DetectOutcome(page_range_error=exc.message)


# The final document (the finalize job of paraph.signing.tasks)


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
    #: The deployment's self-signed seal (paraph.signing.seal_key); None with PARAPH_SEAL_PKCS12.
    seal_pem: bytes | None = None


@dataclass(slots=True)
class FinalOutcome:
    key: str
    sha256: str
    size: int


_SEALERS: dict[str, PadesSealer] = {}


def _sealer(settings: Settings, seal_pem: bytes | None) -> PadesSealer:
    """The deployment's sealer: PARAPH_SEAL_PKCS12, else the self-signed PEM the task carries (the one in the
    database, paraph.signing.seal_key); one per pool process (loading a key is not free)."""
    from paraph.pdf.seal import load_or_create_sealer, sealer_from_pem

    if settings.seal_pkcs12 is not None or seal_pem is None:
        pkcs12 = str(settings.seal_pkcs12) if settings.seal_pkcs12 else None
        key = f"file:{settings.data_dir.resolve()}:{pkcs12}"
        if key not in _SEALERS:
            _SEALERS[key] = load_or_create_sealer(
                settings.data_dir.resolve(), Path(pkcs12) if pkcs12 else None, settings.seal_pkcs12_password
            )
        return _SEALERS[key]
    key = "pem:" + hashlib.sha256(seal_pem).hexdigest()
    if key not in _SEALERS:
        _SEALERS[key] = sealer_from_pem(seal_pem)
    return _SEALERS[key]


def build_and_store(task: FinalTask) -> FinalOutcome:
    """Stamp, append the audit trail, seal (``pdf.final.build_final``), and store the result."""
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
    sealer = _sealer(task.settings, task.seal_pem)
    pdf = build_final(documents[0] if len(documents) == 1 else documents, filled, task.trail, sealer)
    storage.put(task.out_key, pdf)
    return FinalOutcome(task.out_key, hashlib.sha256(pdf).hexdigest(), len(pdf))
