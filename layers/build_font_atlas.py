"""Build the glyph atlas of the share images (layers/barometer/publish/fonts/atlas.npz).

The share images (OpenGraph cards) are drawn at publish time, inside the Lambda, by the
small rasteriser of `barometer.publish.raster`: no browser, no font library there. Their text
comes from this atlas: DejaVu Sans (Bold and Book) glyphs pre-rendered at the few sizes the
cards use, as 8-bit coverage bitmaps with their metrics. The atlas is committed; rebuild it
only to change the sizes or the characters (a developer's machine, not the layer build):

    pip install pillow && apt-get install fonts-dejavu-core
    .venv/bin/python layers/build_font_atlas.py

The characters: printable ASCII, Latin-1, Latin Extended-A (every French and most European
brand names) and a little typography; anything else is drawn as `?`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
OUT = Path(__file__).resolve().parent / "barometer" / "publish" / "fonts" / "atlas.npz"

TEXT_CHARS = ("".join(chr(c) for c in range(0x20, 0x7F)) + "".join(chr(c) for c in range(0xA0, 0x180))
              + "‘’“”–—…•·−€▲▼№")
DIGITS = "0123456789#.,/+−–—%e r"
# name: (font file, pixel size, characters)
FACES = {
    "title": ("DejaVuSans-Bold.ttf", 64, TEXT_CHARS),
    "title_s": ("DejaVuSans-Bold.ttf", 46, TEXT_CHARS),
    "head": ("DejaVuSans-Bold.ttf", 34, TEXT_CHARS),
    "body": ("DejaVuSans.ttf", 30, TEXT_CHARS),
    "small": ("DejaVuSans.ttf", 24, TEXT_CHARS),
    "huge": ("DejaVuSans-Bold.ttf", 150, DIGITS),
    "big": ("DejaVuSans-Bold.ttf", 104, DIGITS),
}


def main() -> int:
    from PIL import ImageFont

    metrics: list[list[int]] = []
    faces: list[list[int]] = []
    bitmaps: list[np.ndarray] = []
    offset = 0
    for fi, (name, (file, size, chars)) in enumerate(FACES.items()):
        font = ImageFont.truetype(str(FONT_DIR / file), size)
        ascent, descent = font.getmetrics()
        faces.append([fi, size, ascent, descent])
        for ch in dict.fromkeys(chars):
            advance = round(font.getlength(ch) * 64)
            mask, (x0, y0) = font.getmask2(ch, mode="L", anchor="ls")
            w, h = mask.size
            if w and h:
                bm = np.asarray(mask, dtype=np.uint8).reshape(h, w)
                bitmaps.append(bm.ravel())
            metrics.append([fi, ord(ch), advance, x0, y0, w, h, offset])
            offset += w * h
        print(f"{name}: {file} {size}px, {len(dict.fromkeys(chars))} glyphs", file=sys.stderr)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, names=np.array(list(FACES)), faces=np.array(faces, dtype=np.int32),
                        metrics=np.array(metrics, dtype=np.int32),
                        bitmaps=np.concatenate(bitmaps) if bitmaps else np.zeros(0, np.uint8))
    print(f"{OUT} ({OUT.stat().st_size / 1024:.0f} KB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
