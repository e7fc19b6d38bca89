"""Strip a document's active content before it is served back or sealed: what a PDF reader would run or open
on its own (JavaScript, launch and submit actions, actions on opening a document, a page or a field,
embedded files). What a person sees is kept: page content, form fields, annotations, links to web pages or to
pages of the document.

Removed, as Dropbox Sign's flattening removes them:

- in the catalog: ``/OpenAction``, ``/AA``, the ``/JavaScript`` and ``/EmbeddedFiles`` name trees, the
  AcroForm's ``/XFA`` (forms with scripts of their own);
- on every page, form field and annotation: ``/AA`` (additional actions: on open, close, focus, keystroke,
  format, calculate...);
- an annotation's, a field's or a bookmark's ``/A`` unless every action of its chain (``/Next``) is a link
  (``/URI``, ``/GoTo``, ``/Named``);
- file attachment and multimedia annotations (``/FileAttachment``, ``/Sound``, ``/Movie``, ``/Screen``,
  ``/RichMedia``).

The document is rewritten (pypdf) only when it had any: objects that nothing refers to any more are not
copied, so the scripts are gone from the bytes too, not only from the structure. The hash in the audit trail
stays the upload's. Parsing every page with pypdf costs ~0.5 ms a page, so :func:`page_has_active_content`
checks pages where pdfium has them loaded anyway, and pypdf then reads only the catalog when none has any.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, PdfObject

log = logging.getLogger(__name__)

#: Actions a link may take: open a web page, go to a page of this document, a viewer command (next page...).
SAFE_ACTIONS = frozenset({"/URI", "/GoTo", "/Named"})
#: Annotations that carry a file or play media (and may run scripts): removed with their content.
ACTIVE_ANNOTATIONS = frozenset({"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia"})
_CATALOG_KEYS = ("/OpenAction", "/AA")
_NAME_TREES = ("/JavaScript", "/EmbeddedFiles")
#: Bounds on the walks below (an action chain, the outline, the field tree): a hostile file may loop.
_MAX_CHAIN = 100
_MAX_NODES = 1_000_000


_PDFIUM_ACTIVE_ANNOTATIONS = frozenset(
    {
        pdfium_c.FPDF_ANNOT_FILEATTACHMENT,
        pdfium_c.FPDF_ANNOT_SOUND,
        pdfium_c.FPDF_ANNOT_MOVIE,
        pdfium_c.FPDF_ANNOT_SCREEN,
        pdfium_c.FPDF_ANNOT_RICHMEDIA,
        pdfium_c.FPDF_ANNOT_XFAWIDGET,
    }
)
_PDFIUM_LINKS = frozenset({pdfium_c.PDFACTION_URI, pdfium_c.PDFACTION_GOTO})


def page_has_active_content(page: pdfium.PdfPage) -> bool:
    """Whether a page (loaded in pdfium) may have active content: an action on opening or closing it, or an
    annotation with additional actions, an action other than a link, or a file or media in it. Cheap (no
    parse in Python); a page with a viewer command (``/Named``) link is a false alarm that only costs the
    full check."""
    raw = page.raw
    if any(
        pdfium_c.FPDF_GetPageAAction(raw, event)
        for event in (pdfium_c.FPDFPAGE_AACTION_OPEN, pdfium_c.FPDFPAGE_AACTION_CLOSE)
    ):
        return True
    for index in range(pdfium_c.FPDFPage_GetAnnotCount(raw)):
        annot = pdfium_c.FPDFPage_GetAnnot(raw, index)
        if not annot:
            return True
        try:
            if pdfium_c.FPDFAnnot_GetSubtype(annot) in _PDFIUM_ACTIVE_ANNOTATIONS:
                return True
            if pdfium_c.FPDFAnnot_HasKey(annot, b"AA"):
                return True
            if pdfium_c.FPDFAnnot_HasKey(annot, b"A"):
                link = pdfium_c.FPDFAnnot_GetLink(annot)
                target = pdfium_c.FPDFLink_GetAction(link) if link else None
                if not target or pdfium_c.FPDFAction_GetType(target) not in _PDFIUM_LINKS:
                    return True
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    return False


def _resolve(obj: PdfObject | None) -> PdfObject | None:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _dict(obj: PdfObject | None) -> DictionaryObject | None:
    found = _resolve(obj)
    return found if isinstance(found, DictionaryObject) else None


def _array(obj: PdfObject | None) -> ArrayObject | None:
    found = _resolve(obj)
    return found if isinstance(found, ArrayObject) else None


def _safe_action(action: PdfObject | None) -> bool:
    """Whether an action and every action chained after it (``/Next``) is a link."""
    pending = [action]
    seen = 0
    while pending:
        seen += 1
        if seen > _MAX_CHAIN:
            return False
        current = _dict(pending.pop())
        if current is None or current.get("/S") not in SAFE_ACTIONS:
            return False
        following = _resolve(current.get("/Next"))
        if isinstance(following, ArrayObject):
            pending.extend(following)
        elif following is not None:
            pending.append(following)
    return True


class _Stripper:
    def __init__(self) -> None:
        self.removed: list[str] = []

    def drop(self, where: DictionaryObject, key: str, label: str) -> None:
        if key in where:
            del where[NameObject(key)]
            self.removed.append(label)

    def actions(self, where: DictionaryObject, label: str) -> None:
        """Drop ``where``'s additional actions, and its action unless it is a link."""
        self.drop(where, "/AA", f"{label} /AA")
        if "/A" in where and not _safe_action(where.get("/A")):
            self.drop(where, "/A", f"{label} /A")

    def catalog(self, root: DictionaryObject) -> None:
        for key in _CATALOG_KEYS:
            self.drop(root, key, f"catalog {key}")
        names = _dict(root.get("/Names"))
        if names is not None:
            for key in _NAME_TREES:
                self.drop(names, key, f"names {key}")
        form = _dict(root.get("/AcroForm"))
        if form is not None:
            self.drop(form, "/XFA", "AcroForm /XFA")
            for node in _tree(form.get("/Fields"), "/Kids"):
                self.actions(node, "field")
        outlines = _dict(root.get("/Outlines"))
        if outlines is not None:
            for item in _outline(outlines):
                self.actions(item, "bookmark")

    def page(self, page: DictionaryObject, number: int) -> None:
        self.drop(page, "/AA", f"page {number} /AA")
        annots = _array(page.get("/Annots"))
        if annots is None:
            return
        kept = ArrayObject()
        for ref in annots:
            annot = _dict(ref)
            if annot is None:
                continue
            if annot.get("/Subtype") in ACTIVE_ANNOTATIONS:
                self.removed.append(f"page {number} {annot.get('/Subtype')} annotation")
                continue
            self.actions(annot, f"page {number} annotation")
            kept.append(ref)
        if len(kept) != len(annots):
            annots[:] = kept


def _tree(start: PdfObject | None, children: str) -> Iterator[DictionaryObject]:
    """Every dictionary of a tree (the AcroForm's fields) from an array of roots, each once."""
    pending = list(_array(start) or [])
    seen: set[int] = set()
    while pending and len(seen) < _MAX_NODES:
        node = _dict(pending.pop())
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        pending.extend(_array(node.get(children)) or [])


def _outline(outlines: DictionaryObject) -> Iterator[DictionaryObject]:
    """Every bookmark: each item's children (``/First``) and the items after it (``/Next``)."""
    pending = [outlines.get("/First")]
    seen: set[int] = set()
    while pending and len(seen) < _MAX_NODES:
        item = _dict(pending.pop())
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        pending += [item.get("/Next"), item.get("/First")]


def _pages(root: DictionaryObject) -> Iterator[DictionaryObject]:
    """The page dictionaries, in order, from the page tree itself (pypdf's ``reader.pages`` are copies)."""
    pending = [root.get("/Pages")]
    seen: set[int] = set()
    while pending and len(seen) < _MAX_NODES:
        node = _dict(pending.pop())
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.get("/Type") == "/Pages" or "/Kids" in node:
            pending.extend(reversed(_array(node.get("/Kids")) or []))
        else:
            yield node


def strip_active_content(pdf: bytes, *, pages_checked: bool = False) -> tuple[bytes, list[str]] | None:
    """The PDF without its active content and what was removed, or None when it had none (or pypdf cannot
    read it: pdfium, which rendered it, runs no script, and the bytes are kept). ``pages_checked``: the caller
    found no page with :func:`page_has_active_content`, so the pages are walked only when the catalog has
    active content (the document is rewritten then, and every page is stripped)."""
    try:
        reader = PdfReader(io.BytesIO(pdf), strict=False)
        root = _dict(reader.trailer.get("/Root"))
        if root is None:
            return None
        stripper = _Stripper()
        stripper.catalog(root)
        if not pages_checked or stripper.removed:
            for number, page in enumerate(_pages(root), start=1):
                stripper.page(page, number)
        if not stripper.removed:
            return None
        writer = PdfWriter(clone_from=reader)  # copies what the catalog still refers to, nothing else
        out = io.BytesIO()
        writer.write(out)
    except (PyPdfError, ValueError, KeyError, TypeError, RecursionError) as exc:
        log.warning("active content not checked: pypdf cannot read the document (%s)", exc)
        return None
    return out.getvalue(), stripper.removed
