"""A small rasteriser for the share images: flat rectangles and anti-aliased text, written as an
indexed-colour PNG with zlib. No browser, no imaging library: numpy slices and the standard
library, about a millisecond an image.

```python
pal = Palette()
c = Canvas(1200, 630, pal, "#ffffff")
c.rect(0, 0, 1200, 90, "#f4f4f5")
c.text("Sanofi", 60, 220, "title", ink="#18181b", bg="#ffffff")
png = c.png()
```

Text comes from a glyph atlas (`fonts/atlas.npz`, DejaVu Sans pre-rendered at a few sizes by
`layers/build_font_atlas.py`): 16 coverage levels per glyph, each drawn with a palette entry
that blends the ink into the background the text is drawn on (the cards draw text on flat
areas only, so this is exact). A character the atlas lacks is drawn as `?`.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

ATLAS = Path(__file__).resolve().parent / "fonts" / "atlas.npz"
LEVELS = 16  # coverage levels of a glyph pixel (0 = transparent)
ELLIPSIS = "…"


@dataclass(frozen=True)
class Glyph:
    advance: float  # px
    x0: int  # bitmap's left, from the pen position
    y0: int  # bitmap's top, from the baseline (negative: above)
    levels: np.ndarray  # (h, w) uint8, 0..LEVELS-1


@dataclass(frozen=True)
class Face:
    name: str
    size: int
    ascent: int
    glyphs: dict[str, Glyph]

    def glyph(self, ch: str) -> Glyph:
        return self.glyphs.get(ch) or self.glyphs["?"]

    def width(self, text: str) -> float:
        return sum(self.glyph(ch).advance for ch in text)


@cache
def faces() -> dict[str, Face]:
    """The atlas's faces by name (loaded once per process)."""
    with np.load(ATLAS) as z:
        names = [str(n) for n in z["names"]]
        face_rows, metrics, bitmaps = z["faces"], z["metrics"], z["bitmaps"]
    levels = (bitmaps.astype(np.uint16) * (LEVELS - 1) + 127) // 255
    levels = levels.astype(np.uint8)
    glyphs: dict[int, dict[str, Glyph]] = {int(r[0]): {} for r in face_rows}
    for fi, code, adv, x0, y0, w, h, off in metrics.tolist():
        bm = levels[off:off + w * h].reshape(h, w) if w and h else np.zeros((0, 0), np.uint8)
        glyphs[fi][chr(code)] = Glyph(adv / 64.0, x0, y0, bm)
    return {names[int(r[0])]: Face(names[int(r[0])], int(r[1]), int(r[2]), glyphs[int(r[0])])
            for r in face_rows}


def _rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


class Palette:
    """At most 256 colours: solid ones, and for each (ink, background) pair its blend ramp."""

    def __init__(self) -> None:
        self.colors: list[tuple[int, int, int]] = []
        self._solid: dict[str, int] = {}
        self._ramps: dict[tuple[str, str], int] = {}

    def solid(self, color: str) -> int:
        if color not in self._solid:
            self._solid[color] = self._add([_rgb(color)])
        return self._solid[color]

    def ramp(self, ink: str, bg: str) -> int:
        """Index of level 0 of the blend of `ink` over `bg` (level k at index + k)."""
        key = (ink, bg)
        if key not in self._ramps:
            fg, back = np.array(_rgb(ink), float), np.array(_rgb(bg), float)
            a = np.arange(LEVELS)[:, None] / (LEVELS - 1)
            ramp = np.rint(back * (1 - a) + fg * a).astype(int)
            self._ramps[key] = self._add([(int(r), int(g), int(b)) for r, g, b in ramp])
        return self._ramps[key]

    def _add(self, colors: list[tuple[int, int, int]]) -> int:
        if len(self.colors) + len(colors) > 256:
            raise ValueError("palette full (256 colours)")
        self.colors.extend(colors)
        return len(self.colors) - len(colors)

    def plte(self) -> bytes:
        return bytes(v for c in self.colors for v in c)


class Canvas:
    def __init__(self, width: int, height: int, palette: Palette, background: str) -> None:
        self.width, self.height, self.palette = width, height, palette
        self.px = np.full((height, width), palette.solid(background), np.uint8)

    def rect(self, x0: float, y0: float, x1: float, y1: float, color: str) -> None:
        a, b = max(0, round(x0)), min(self.width, round(x1))
        c, d = max(0, round(y0)), min(self.height, round(y1))
        if a < b and c < d:
            self.px[c:d, a:b] = self.palette.solid(color)

    def text(self, text: str, x: float, baseline: float, face: str | Face, ink: str, bg: str,
             anchor: str = "start") -> float:
        """Draw `text` on a flat `bg` area; `anchor`: start, middle or end at x. Returns its width."""
        f = faces()[face] if isinstance(face, str) else face
        width = f.width(text)
        pen = x - (width if anchor == "end" else width / 2 if anchor == "middle" else 0.0)
        base = self.palette.ramp(ink, bg)
        y = round(baseline)
        for ch in text:
            g = f.glyph(ch)
            self._blit(g, round(pen) + g.x0, y + g.y0, base)
            pen += g.advance
        return width

    def _blit(self, g: Glyph, x: int, y: int, base: int) -> None:
        h, w = g.levels.shape
        a, b, c, d = max(0, x), min(self.width, x + w), max(0, y), min(self.height, y + h)
        if a >= b or c >= d:
            return
        lv = g.levels[c - y:d - y, a - x:b - x]
        region = self.px[c:d, a:b]
        np.copyto(region, lv + np.uint8(base), where=lv > 0)

    def png(self, level: int = 6) -> bytes:
        """The canvas as an indexed-colour PNG (8 bits a pixel, filter 0 on every row)."""
        rows = np.empty((self.height, self.width + 1), np.uint8)
        rows[:, 0] = 0
        rows[:, 1:] = self.px
        ihdr = struct.pack(">IIBBBBB", self.width, self.height, 8, 3, 0, 0, 0)
        return b"".join((b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", ihdr), _chunk(b"PLTE", self.palette.plte()),
                         _chunk(b"IDAT", zlib.compress(rows.tobytes(), level)), _chunk(b"IEND", b"")))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def fit(text: str, names: tuple[str, ...], max_width: float) -> tuple[Face, str]:
    """The first face of `names` in which `text` fits `max_width`; else the last one, with the text
    cut and ended with an ellipsis."""
    fs = faces()
    for n in names:
        if fs[n].width(text) <= max_width:
            return fs[n], text
    f = fs[names[-1]]
    room = max_width - f.width(ELLIPSIS)
    out, used = [], 0.0
    for ch in text:
        used += f.glyph(ch).advance
        if used > room:
            break
        out.append(ch)
    return f, "".join(out).rstrip() + ELLIPSIS


def png_size(body: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR."""
    if body[:8] != b"\x89PNG\r\n\x1a\n" or body[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    w, h = struct.unpack(">II", body[16:24])
    return w, h
