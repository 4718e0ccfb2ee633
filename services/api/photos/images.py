"""Checking and cleaning an uploaded image: pure functions over bytes (Pillow, no I/O).

- the type is read from the bytes (JPEG, PNG or WebP); the declared content type and the
  file name are never trusted, so a PNG named ``.jpg`` is a PNG and text named ``.jpg`` is
  refused;
- the size and the pixel count are bounded before any pixel is decoded (a small file can
  declare a huge canvas: a decompression bomb);
- the image is re-encoded from its pixels, which drops every piece of metadata (EXIF with
  its GPS position, XMP, ICC, comments) after the EXIF orientation has been applied;
- a small JPEG thumbnail is made for lists.

Every refusal is an :class:`ImageRefused` carrying the HTTP status to answer and a reason.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

JPEG, PNG, WEBP = "image/jpeg", "image/png", "image/webp"
PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}
MAX_PIXELS = 40_000_000  # a 40 MP photo is the largest phone camera output we expect
THUMB_PX = 320
JPEG_QUALITY = 88
THUMB_QUALITY = 80


class ImageRefused(ValueError):
    """An upload we do not keep; ``status`` is the HTTP answer (413, 415 or 422)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class CleanImage:
    data: bytes
    content_type: str
    width: int
    height: int
    thumb: bytes


def sniff(data: bytes) -> str | None:
    """The content type the bytes themselves declare, if it is one we accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise too_large(max_bytes)
    if size == 0:
        raise ImageRefused(422, "照片文件为空")


def too_large(max_bytes: int) -> ImageRefused:
    limit = (
        f"{max_bytes / 1024 / 1024:g} MiB"
        if max_bytes >= 1024 * 1024
        else f"{max_bytes // 1024} KiB"
    )
    return ImageRefused(413, f"照片过大：最多 {limit}，请压缩后再上传")


def clean(data: bytes, max_bytes: int, max_pixels: int = MAX_PIXELS) -> CleanImage:
    """The image re-encoded without metadata, its size, and its thumbnail."""
    check_size(len(data), max_bytes)
    content_type = sniff(data)
    if content_type is None:
        raise ImageRefused(415, "只接受 JPEG、PNG 或 WebP 格式的照片（按文件内容判断，而非扩展名）")
    image = _decode(data, content_type, max_pixels)
    upright = ImageOps.exif_transpose(image)  # a copy; its metadata is dropped below
    if upright.mode == "P":  # a palette's transparency lives in the metadata we drop
        upright = upright.convert("RGBA" if "transparency" in upright.info else "RGB")
    upright.info.clear()
    return CleanImage(
        data=_encode(upright, content_type),
        content_type=content_type,
        width=upright.width,
        height=upright.height,
        thumb=thumbnail(upright),
    )


def _decode(data: bytes, content_type: str, max_pixels: int) -> Image.Image:
    """Opens with the one decoder the bytes named; refuses huge canvases before decoding."""
    try:
        image = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[content_type]])
    except Image.DecompressionBombError as exc:  # Pillow's own, far higher, limit
        raise _too_many_pixels(max_pixels) from exc
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's ways of saying "corrupt"
        raise _damaged() from exc
    width, height = image.size  # read from the header: nothing decoded yet
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise _damaged() from exc
    return image


def _damaged() -> ImageRefused:
    return ImageRefused(422, "照片文件已损坏或不完整，无法读取")


def _too_many_pixels(max_pixels: int) -> ImageRefused:
    return ImageRefused(413, f"照片像素过多：最多 {max_pixels // 1_000_000} 百万像素")


def _encode(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    if content_type == JPEG:
        _flat(image, keep_alpha=False).save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif content_type == PNG:
        image.save(out, "PNG", optimize=True)
    else:
        _flat(image, keep_alpha=True).save(out, "WEBP", quality=JPEG_QUALITY)
    return out.getvalue()


def thumbnail(image: Image.Image, size: int = THUMB_PX) -> bytes:
    """A JPEG at most ``size`` px on its longer side (transparency on white)."""
    small = image.copy()
    small.thumbnail((size, size))
    out = io.BytesIO()
    _flat(small, keep_alpha=False).save(out, "JPEG", quality=THUMB_QUALITY)
    return out.getvalue()


def _flat(image: Image.Image, keep_alpha: bool) -> Image.Image:
    """``image`` in a mode JPEG (RGB, L) or, with ``keep_alpha``, WebP (RGB, RGBA) stores."""
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La")
    if has_alpha and keep_alpha:
        return image.convert("RGBA")
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode == "RGB" or (image.mode == "L" and not keep_alpha):
        return image
    return image.convert("RGB")
