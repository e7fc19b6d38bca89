"""How close process_document comes to the cost of the pdfium work it cannot avoid.

A 50-page PDF with 200 text tags is generated, then timed (median of several runs):

(a) the floor: pypdfium2 text extraction + rendering every page to a bitmap, nothing else;
(b) process_document end to end (tags parsed, fields built, PNG page images), tags shown and hidden;
and, for reference, the floor plus the naive PNG encoding (PIL ``save(format="PNG", compress_level=1)``).

Run: .venv/bin/python bench/bench_documents.py [--runs N] [--scale S]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import pypdfium2 as pdfium
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from paraph.documents.processing import process_document

PAGES = 50
TAGS_PER_PAGE = 4
TAG_TEMPLATES = (
    "Signature: [sig|req|signer{s}            ]",
    "Date: [date|req|signer{s}]",
    "Name: [text|req|signer{s}|Full name|name_{p}|letters_only]",
    "Initials: [initial|noreq|signer{s}]",
)


def make_pdf() -> bytes:
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=letter)
    for page in range(PAGES):
        sheet.setFont("Helvetica-Bold", 14)
        sheet.drawString(72, 740, f"Section {page + 1}: Terms and conditions")
        sheet.setFont("Helvetica", 10)
        for line in range(34):
            sheet.drawString(
                72,
                718 - line * 14,
                f"{page}.{line} Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do.",
            )
        sheet.setFont("Helvetica", 11)
        for index, template in enumerate(TAG_TEMPLATES[:TAGS_PER_PAGE]):
            sheet.drawString(72, 200 - index * 36, template.format(s=index % 2 + 1, p=page))
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def floor(data: bytes, scale: float, encode: bool = False) -> None:
    pdf = pdfium.PdfDocument(data)
    for page in pdf:
        textpage = page.get_textpage()
        textpage.get_text_range()
        textpage.close()
        bitmap = page.render(scale=scale)
        if encode:
            bitmap.to_pil().save(io.BytesIO(), format="PNG", compress_level=1)
        bitmap.close()
        page.close()
    pdf.close()


def median_ms(run: Callable[[], object], runs: int) -> float:
    run()  # warm up (imports, font caches)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.5)
    args = parser.parse_args()

    data = make_pdf()

    def process(hide: bool) -> object:
        return process_document(
            data,
            document_index=0,
            signer_count=2,
            use_text_tags=True,
            hide_text_tags=hide,
            ignore_text_tags_errors=False,
            max_pages=500,
            render_scale=args.scale,
        )

    check = process_document(
        data,
        document_index=0,
        signer_count=2,
        use_text_tags=True,
        hide_text_tags=False,
        ignore_text_tags_errors=False,
        max_pages=500,
        render_scale=args.scale,
    )
    assert len(check.fields) == PAGES * TAGS_PER_PAGE, len(check.fields)
    image_kib = sum(len(png) for png in check.page_images) / len(check.page_images) / 1024

    floor_ms = median_ms(lambda: floor(data, args.scale), args.runs)
    naive_ms = median_ms(lambda: floor(data, args.scale, encode=True), args.runs)
    shown_ms = median_ms(lambda: process(False), args.runs)
    hidden_ms = median_ms(lambda: process(True), args.runs)

    print(
        f"document: {PAGES} pages, {PAGES * TAGS_PER_PAGE} text tags, {len(data) / 1024:.0f} KiB; "
        f"render_scale {args.scale}; median of {args.runs} runs"
    )
    rows = [
        ("(a) floor: pdfium text extraction + rendering", floor_ms),
        ("    reference: floor + PIL PNG (compress_level=1)", naive_ms),
        ("(b) process_document, tags shown", shown_ms),
        ("    process_document, hide_text_tags", hidden_ms),
    ]
    for label, ms in rows:
        print(f"{label:<52}{ms:7.1f} ms  ({ms / floor_ms:.2f}x floor)")
    print(f"    page images: {image_kib:.0f} KiB per page on average")


if __name__ == "__main__":
    main()
