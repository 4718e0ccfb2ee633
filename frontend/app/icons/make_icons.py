"""Draws the app's icons (192 and 512 px PNG, plus a maskable 512) with Pillow.

Run from anywhere: ``python frontend/app/icons/make_icons.py``. The PNGs it writes beside
this file are committed; rerun it only when the design changes.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
TEAL = (15, 118, 110)
WHITE = (255, 255, 255)
AMBER = (251, 191, 36)


def draw(size: int, safe: float) -> Image.Image:
    """A map pin over a 3×3 grid on teal; ``safe`` is the share of the icon kept clear of
    the edge (maskable icons must keep their picture inside the middle 80%)."""
    scale = 4  # drawn large and shrunk, for smooth edges
    big = size * scale
    image = Image.new("RGB", (big, big), TEAL)
    pen = ImageDraw.Draw(image)
    inset = big * (1 - safe) / 2
    left, top = inset + big * 0.12 * safe, inset + big * 0.12 * safe
    span = big * 0.76 * safe
    line = max(scale, int(big * 0.018))
    for i in range(4):
        offset = span * i / 3
        pen.line([(left + offset, top), (left + offset, top + span)], fill=WHITE, width=line)
        pen.line([(left, top + offset), (left + span, top + offset)], fill=WHITE, width=line)
    cx, cy, r = left + span / 2, top + span * 0.36, span * 0.22
    pen.ellipse([cx - r, cy - r, cx + r, cy + r], fill=AMBER)
    tip = [(cx - r * 0.86, cy + r * 0.5), (cx + r * 0.86, cy + r * 0.5), (cx, cy + r * 2.3)]
    pen.polygon(tip, fill=AMBER)
    hole = r * 0.42
    pen.ellipse([cx - hole, cy - hole, cx + hole, cy + hole], fill=TEAL)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    draw(192, 1.0).save(HERE / "icon-192.png", optimize=True)
    draw(512, 1.0).save(HERE / "icon-512.png", optimize=True)
    draw(512, 0.8).save(HERE / "icon-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
