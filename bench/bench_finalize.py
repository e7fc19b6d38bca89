"""How close build_final comes to the cost of the PDF work it cannot avoid.

A 20-page PDF with 40 filled fields (10 signatures and 10 initials as PNGs from two signers, 12 text
fields, 4 dates, 4 checkboxes) is generated, then timed (median of several runs):

(a) the floor: an overlay prepared beforehand (not timed) merged onto every page with pypdf's
    ``merge_page``, the result written, then sealed with pyHanko: stamping and signing, nothing else;
(b) build_final end to end: overlay drawn, stamped, hashed, audit trail made and appended, sealed;
and, for reference, each stage of (b) alone.

Run: .venv/bin/python bench/bench_finalize.py [--runs N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import math
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields as sig_fields
from pyhanko.sign import signers
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from paraph.pdf.audit_trail import AuditEntry, AuditSigner, AuditTrail, audit_trail_pdf
from paraph.pdf.final import build_final
from paraph.pdf.model import Field, FieldType
from paraph.pdf.seal import load_or_create_sealer
from paraph.pdf.signature_image import normalize_signature_image
from paraph.pdf.stamp import FilledField, stamp

PAGES = 20
TARGET_MS = 300.0
PAGE_HEIGHT = letter[1]


def make_pdf() -> bytes:
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=letter)
    for page in range(PAGES):
        sheet.setFont("Helvetica-Bold", 14)
        sheet.drawString(72, 740, f"Section {page + 1}: Terms and conditions")
        sheet.setFont("Helvetica", 10)
        for line in range(34):
            sheet.drawString(
                72, 718 - line * 14, f"{page}.{line} Lorem ipsum dolor sit amet, consectetur adipiscing elit."
            )
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def drawn_png(seed: int, size: tuple[int, int]) -> bytes:
    """A signature as a signature pad draws it: one looping anti-aliased stroke, transparent background."""
    rng = random.Random(seed)
    scale = 4  # drawn large and reduced, for anti-aliased edges like a browser canvas
    width, height = size
    image = Image.new("RGBA", (width * scale, height * scale), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    points = []
    x, phase = 0.08 * width, 0.0
    while x < 0.92 * width:
        phase += rng.uniform(0.35, 0.8)
        y = height / 2 + math.sin(phase) * height * rng.uniform(0.15, 0.35)
        points.append((x * scale, y * scale))
        x += rng.uniform(4, 14)
    draw.line(points, fill=(10, 20, 60, 255), width=4 * scale, joint="curve")
    image = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return normalize_signature_image(out.getvalue(), 10 * 1024 * 1024)


def make_fields() -> list[FilledField]:
    signatures = [drawn_png(1, (1200, 400)), drawn_png(2, (1200, 400))]
    initials = [drawn_png(3, (400, 300)), drawn_png(4, (400, 300))]
    fields: list[FilledField] = []

    def add(
        kind: FieldType,
        page: int,
        y: float,
        w: float,
        h: float,
        value: str | bool | None,
        image: bytes | None = None,
    ) -> None:
        field = Field(
            api_id=f"f{len(fields)}",
            type=kind,
            signer=len(fields) % 2,
            document_index=0,
            page=page,
            x=72 + (len(fields) % 2) * 260,
            y=y,
            width=w,
            height=h,
        )
        fields.append(FilledField(field, value, image))

    for page in range(1, PAGES + 1):
        signer = (page - 1) // 2 % 2
        if page % 2:
            add(FieldType.SIGNATURE, page, 600, 200, 50, None, signatures[signer])
        else:
            add(FieldType.INITIALS, page, 600, 60, 40, None, initials[signer])
    for i in range(12):
        add(FieldType.TEXT, 1 + i % PAGES, 720, 220, 16, f"Filled value number {i} for a text field")
    for i in range(4):
        add(FieldType.DATE_SIGNED, 2 + i, 740, 100, 14, "11/28/2026")
    for i in range(4):
        add(FieldType.CHECKBOX, 6 + i, 760, 12, 12, i % 2 == 0)
    return fields


def make_trail(original: bytes) -> AuditTrail:
    at = dt.datetime(2026, 11, 28, 15, 4, 5, tzinfo=dt.UTC)
    ua = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36"
    )
    signers = [
        AuditSigner(
            f"Signer {n}",
            f"signer{n}@example.com",
            [
                AuditEntry(at + dt.timedelta(minutes=n), "viewed", ip="203.0.113.7", user_agent=ua),
                AuditEntry(at + dt.timedelta(minutes=n + 5), "signed", ip="203.0.113.7", user_agent=ua),
            ],
        )
        for n in (1, 2)
    ]
    return AuditTrail(
        title="Master services agreement",
        signature_request_id="fa5c8a0b0f492d768749333ad6fcc214c111e967",
        original_sha256=[hashlib.sha256(original).hexdigest()],
        signers=signers,
        other_entries=[AuditEntry(at, "sent", actor_email="sender@example.com", ip="198.51.100.1")],
        test_mode=False,
    )


def prepared_overlay(fields: list[FilledField]) -> bytes:
    """The overlay the floor merges: the same images, texts and marks, drawn beforehand."""
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=letter)
    readers: dict[bytes, ImageReader] = {}
    for page in range(1, PAGES + 1):
        for filled in (f for f in fields if f.field.page == page):
            f = filled.field
            y = PAGE_HEIGHT - f.y - f.height
            if filled.image_png:
                reader = readers.setdefault(filled.image_png, ImageReader(io.BytesIO(filled.image_png)))
                sheet.drawImage(reader, f.x, y, f.width, f.height, mask="auto", preserveAspectRatio=True)
            elif isinstance(filled.value, str):
                sheet.setFont("Helvetica", 10)
                sheet.drawString(f.x + 1, y + 3, filled.value)
            elif filled.value:
                sheet.line(f.x, y, f.x + f.width, y + f.height)
                sheet.line(f.x, y + f.height, f.x + f.width, y)
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def stock_pyhanko_seal(seal_pem: Path) -> Callable[[bytes], bytes]:
    """Signing as pyHanko does it out of the box (SimpleSigner, sizing dry run), same key and settings."""
    signer = signers.SimpleSigner.load(str(seal_pem), str(seal_pem))  # type: ignore[no-untyped-call]
    meta = signers.PdfSignatureMetadata(
        field_name="ParaphSeal", subfilter=sig_fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
    )

    def seal(pdf: bytes) -> bytes:
        out = io.BytesIO()
        signers.PdfSigner(meta, signer=signer).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), output=out)
        return out.getvalue()

    return seal


def floor(original: bytes, overlay: bytes, seal: Callable[[bytes], bytes]) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(original)))
    for page, over in zip(writer.pages, PdfReader(io.BytesIO(overlay)).pages, strict=True):
        page.merge_page(over)
    out = io.BytesIO()
    writer.write(out)
    return seal(out.getvalue())


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm caches and imports
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    original = make_pdf()
    fields = make_fields()
    trail = make_trail(original)
    overlay = prepared_overlay(fields)
    with tempfile.TemporaryDirectory() as tmp:
        sealer = load_or_create_sealer(Path(tmp), None, None)
        stamped = stamp(original, fields, test_mode=False)
        final = build_final(original, fields, trail, sealer)

        stock_seal = stock_pyhanko_seal(Path(tmp) / "seal" / "seal.pem")
        stock_floor_ms = median_ms(lambda: floor(original, overlay, stock_seal), args.runs)
        floor_ms = median_ms(lambda: floor(original, overlay, sealer.seal), args.runs)
        total_ms = median_ms(lambda: build_final(original, fields, trail, sealer), args.runs)
        stamp_ms = median_ms(lambda: stamp(original, fields, test_mode=False), args.runs)
        trail_ms = median_ms(lambda: audit_trail_pdf(trail, "0" * 64), args.runs)
        seal_ms = median_ms(lambda: sealer.seal(stamped), args.runs)

    print(
        f"document: {PAGES} pages, {len(fields)} fields, {len(original) // 1024} KiB in, "
        f"{len(final) // 1024} KiB out; median of {args.runs} runs"
    )
    rows = [
        (
            "floor, stock pyHanko signer (merge_page of a prepared overlay + seal)",
            f"{stock_floor_ms:7.1f} ms",
        ),
        ("floor, Paraph's signer (merge_page of a prepared overlay + seal)", f"{floor_ms:7.1f} ms"),
        ("build_final end to end", f"{total_ms:7.1f} ms"),
        ("ratio build_final / floor with stock pyHanko", f"{total_ms / stock_floor_ms:7.2f}"),
        ("ratio build_final / floor with Paraph's signer", f"{total_ms / floor_ms:7.2f}"),
    ]
    for label, value in rows:
        print(f"{label + ':':<72} {value}")
    print(f"  of which stamp {stamp_ms:.1f} ms, audit trail {trail_ms:.1f} ms, seal alone {seal_ms:.1f} ms")
    verdict = "under" if total_ms < TARGET_MS else "OVER"
    print(f"target {TARGET_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
