"""Upload checks on plain bytes: the type comes from the content, metadata never survives."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image

from services.api.photos.images import (
    JPEG,
    PNG,
    THUMB_PX,
    WEBP,
    ImageRefused,
    clean,
    sniff,
)

MAX = 8 * 1024 * 1024
GPS_IFD = 0x8825


def encoded(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", **save: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red" if mode != "RGBA" else (255, 0, 0, 128)).save(out, fmt, **save)
    return out.getvalue()


def with_gps(orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (30.0, 54.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 55.0, 3.25)
    return encoded("JPEG", (200, 100), exif=exif)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_the_bytes_decide_the_type_not_the_name_or_the_header() -> None:
    # a PNG uploaded as photo.jpg with Content-Type image/jpeg: neither is ever consulted
    png = encoded("PNG")
    result = clean(png, MAX)
    assert result.content_type == PNG and opened(result.data).format == "PNG"
    assert sniff(encoded("JPEG")) == JPEG and sniff(encoded("WEBP")) == WEBP


@pytest.mark.parametrize(
    "data",
    [b"hello, this is text pretending to be image/jpeg", b"GIF89a" + b"\0" * 40, b"%PDF-1.7\n"],
)
def test_anything_but_jpeg_png_webp_is_refused(data: bytes) -> None:
    with pytest.raises(ImageRefused) as refused:
        clean(data, MAX)
    assert refused.value.status == 415 and "JPEG" in str(refused.value)


def test_a_jpeg_that_is_only_a_header_is_refused_as_damaged() -> None:
    with pytest.raises(ImageRefused) as refused:
        clean(encoded("JPEG")[:40], MAX)
    assert refused.value.status == 422


def test_oversized_is_refused_before_decoding() -> None:
    data = encoded("PNG", (300, 300))
    with pytest.raises(ImageRefused) as refused:
        clean(data, max_bytes=len(data) - 1)
    assert refused.value.status == 413 and "照片过大" in str(refused.value)
    with pytest.raises(ImageRefused) as empty:
        clean(b"", MAX)
    assert empty.value.status == 422


def test_a_huge_canvas_in_a_small_file_is_refused() -> None:
    bomb = encoded("PNG", (5000, 5000), mode="L")  # 25 MP of one colour: a few kB
    assert len(bomb) < 100_000
    with pytest.raises(ImageRefused) as refused:
        clean(bomb, MAX, max_pixels=10_000_000)
    assert refused.value.status == 413 and "像素" in str(refused.value)


def test_exif_and_gps_are_gone_after_cleaning() -> None:
    original = with_gps()
    assert opened(original).getexif().get_ifd(GPS_IFD)  # the fixture does carry a position
    result = clean(original, MAX)
    image = opened(result.data)
    assert result.content_type == JPEG
    assert not image.getexif() and "exif" not in image.info
    assert b"Exif" not in result.data and b"PhoneCo" not in result.data
    assert b"Exif" not in result.thumb


def test_the_orientation_is_applied_before_it_is_dropped() -> None:
    result = clean(with_gps(orientation=6), MAX)  # 6: the camera was turned 90°
    assert (result.width, result.height) == (100, 200)
    assert opened(result.data).size == (100, 200)


def test_png_text_chunks_are_dropped_and_transparency_kept() -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "taken at 121.9E 30.9N")
    result = clean(encoded("PNG", mode="RGBA", pnginfo=info), MAX)
    image = opened(result.data)
    assert image.mode == "RGBA" and not image.text  # type: ignore[attr-defined]
    assert b"121.9E" not in result.data


def test_the_thumbnail_is_a_small_jpeg_keeping_the_aspect() -> None:
    result = clean(encoded("WEBP", (1600, 800)), MAX)
    thumb = opened(result.thumb)
    assert result.content_type == WEBP and (result.width, result.height) == (1600, 800)
    assert thumb.format == "JPEG" and thumb.size == (THUMB_PX, THUMB_PX // 2)
    small = opened(clean(encoded("PNG", (100, 50), mode="RGBA"), MAX).thumb)
    assert small.size == (100, 50)  # never enlarged
