"""Signature and initials images: typed ones rendered, drawn or uploaded ones checked and bounded.

Whatever way a signer made a signature, the final document receives a PNG of bounded size, so stamping
cost and file size do not depend on what a browser or a phone camera produced.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

import reportlab
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

MAX_WIDTH = 1200
MAX_HEIGHT = 400
#: Refuse to decode more pixels than this (a small file can declare a huge canvas: a decompression bomb).
MAX_SOURCE_PIXELS = 40_000_000
INK = (17, 24, 39, 255)

_REPORTLAB_FONTS = Path(reportlab.__file__).parent / "fonts"
#: Tried in order; the first that has a glyph for every character of the text is used. ``callig15`` is a
#: calligraphic script (Peter Vanroose, freely redistributable) shipped inside the reportlab wheel, so it
#: is there wherever Paraph is installed; it covers ASCII letters and Western European accents only.
#: Other scripts fall back to an oblique sans-serif (DejaVu when the system has it, else reportlab's Vera),
#: then to Noto CJK when the system has it (Debian's fonts-noto-cjk).
_FONT_CANDIDATES = (
    _REPORTLAB_FONTS / "callig15.pfb",
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf"),
    _REPORTLAB_FONTS / "VeraIt.ttf",
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
#: Characters the script font lacks but that have an equivalent it draws.
_SCRIPT_SUBSTITUTES = str.maketrans({"'": "\u2019", "`": "\u2018"})
_PROBE_SIZE = 48


def render_typed_signature(text: str, *, height_px: int = 120) -> bytes:
    """A PNG of ``text`` in a handwriting-like font, dark ink on a transparent background.

    The text is drawn ``height_px`` tall and as wide as it needs (at most ``MAX_WIDTH``: a long name is drawn
    smaller rather than cut), then cropped to its ink with a hairline margin: placed in a field with its aspect
    ratio kept, the ink fills the field's height (or its width, for a long name). Raises ``ValueError`` when no
    available font can draw every character (the signer then draws or uploads instead: a row of missing-glyph
    boxes is no signature).
    """
    text = " ".join(text.split())
    if not text:
        raise ValueError("a typed signature needs some text")
    if not 16 <= height_px <= MAX_HEIGHT:
        raise ValueError(f"height_px must be between 16 and {MAX_HEIGHT}")
    font_path, text = _font_for(text)
    size = int(height_px * 0.62)
    font = ImageFont.truetype(str(font_path), size)
    pad = max(2, height_px // 12)
    left, top, right, bottom = (round(v) for v in font.getbbox(text))
    if right - left + 2 * pad > MAX_WIDTH:
        size = max(8, int(size * (MAX_WIDTH - 2 * pad) / (right - left)))
        font = ImageFont.truetype(str(font_path), size)
        left, top, right, bottom = (round(v) for v in font.getbbox(text))
    width = min(MAX_WIDTH, right - left + 2 * pad)
    image = Image.new("RGBA", (width, height_px), (255, 255, 255, 0))
    y = (height_px - (bottom - top)) // 2 - top
    ImageDraw.Draw(image).text((pad - left, y), text, font=font, fill=INK)
    return _png(_crop_to_ink(image, margin=2))


def _crop_to_ink(image: Image.Image, *, margin: int) -> Image.Image:
    bbox = image.getchannel("A").getbbox()
    if bbox is None:
        return image
    left, top, right, bottom = bbox
    box = (
        max(0, left - margin),
        max(0, top - margin),
        min(image.width, right + margin),
        min(image.height, bottom + margin),
    )
    return image.crop(box)


#: An opaque upload's pixels at least this light (0-255, after stretching its contrast) are paper, not ink.
_PAPER = 200


def _ink_of_photo(image: Image.Image) -> Image.Image:
    """An opaque picture of a signature (a scan, a phone photo) as dark ink on a transparent background: its
    contrast stretched, paper made transparent, the rest drawn in :data:`INK` as dark as it was."""
    grey = ImageOps.autocontrast(_to_rgba(image).convert("L"), cutoff=1)
    alpha = grey.point(lambda v: 0 if v >= _PAPER else min(255, round((_PAPER - v) * 255 / (_PAPER - 80))))
    ink = Image.new("RGBA", image.size, INK)
    ink.putalpha(alpha)
    return ink


def normalize_signature_image(data: bytes, max_bytes: int) -> bytes:
    """Check a drawn or uploaded signature and return it as a PNG no larger than 1200x400.

    Raises ``ValueError`` for an oversized upload, anything that is not a PNG or JPEG, a picture too large
    to decode safely, or an empty (fully transparent) drawing. Transparent margins are cropped so the ink
    fills the field it is stamped into; a phone photo is turned upright from its EXIF orientation. An opaque
    picture (a JPEG, a scan) becomes dark ink on a transparent background, its paper dropped.
    """
    if not data:
        raise ValueError("the signature image is empty")
    if len(data) > max_bytes:
        raise ValueError(f"the signature image is larger than {max_bytes} bytes")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.format not in ("PNG", "JPEG"):
                raise ValueError("the signature image must be a PNG or a JPEG")
            if opened.width * opened.height > MAX_SOURCE_PIXELS:
                raise ValueError("the signature image has too many pixels")
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError("the signature image is not a readable PNG or JPEG") from exc
    opaque = image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info
    image = _ink_of_photo(image) if opaque else _to_rgba(image)
    bbox = image.getchannel("A").getbbox()
    if bbox is None:
        raise ValueError("the signature image is blank")
    image = image.crop(bbox)
    if image.width > MAX_WIDTH or image.height > MAX_HEIGHT:
        image.thumbnail((MAX_WIDTH, MAX_HEIGHT), Image.Resampling.LANCZOS)
    return _png(image)


def _to_rgba(image: Image.Image) -> Image.Image:
    if image.mode == "RGBA":
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit and float greyscale: pillow cannot convert these to RGBA directly; scale to 8 bits first.
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    return image.convert("RGBA")


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _font_for(text: str) -> tuple[Path, str]:
    """The first candidate font that draws every character of ``text``, and the text as it will draw it."""
    for index, path in enumerate(_FONT_CANDIDATES):
        if not path.exists():
            continue
        candidate = text.translate(_SCRIPT_SUBSTITUTES) if index == 0 else text
        if all(_has_glyph(str(path), ch) for ch in set(candidate) if not ch.isspace()):
            return path, candidate
    raise ValueError("no installed font can draw this signature; draw or upload it instead")


@functools.lru_cache(maxsize=4096)
def _has_glyph(font_path: str, ch: str) -> bool:
    """Whether the font draws ``ch`` as something other than nothing or its missing-glyph box."""
    font = _probe_font(font_path)
    mask = font.getmask(ch)
    if mask.getbbox() is None:
        return False
    missing = font.getmask("\U0010fffd")  # a private-use code point no font maps: shows the .notdef glyph
    return bool(mask.size != missing.size or bytes(mask) != bytes(missing))


@functools.cache
def _probe_font(font_path: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path, _PROBE_SIZE)
