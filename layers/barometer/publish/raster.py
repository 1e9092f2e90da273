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
from itertools import pairwise
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
    mask: np.ndarray  # levels > 0


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
        glyphs[fi][chr(code)] = Glyph(adv / 64.0, x0, y0, bm, bm > 0)
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
        np.copyto(self.px[c:d, a:b], lv + np.uint8(base), where=g.mask[c - y:d - y, a - x:b - x])

    def rows(self, y0: int = 0, y1: int | None = None) -> bytes:
        """Rows y0..y1 as PNG scanlines (filter byte 0, then the palette indices)."""
        y1 = self.height if y1 is None else y1
        out = np.zeros((y1 - y0, self.width + 1), np.uint8)
        out[:, 1:] = self.px[y0:y1]
        return out.tobytes()

    def png(self, level: int = 6) -> bytes:
        """The canvas as an indexed-colour PNG (8 bits a pixel, filter 0 on every row)."""
        return self._png(zlib.compress(self.rows(), level))

    def _png(self, idat: bytes) -> bytes:
        ihdr = struct.pack(">IIBBBBB", self.width, self.height, 8, 3, 0, 0, 0)
        return b"".join((b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", ihdr), _chunk(b"PLTE", self.palette.plte()),
                         _chunk(b"IDAT", idat), _chunk(b"IEND", b"")))

    def copy(self) -> Canvas:
        out = Canvas.__new__(Canvas)
        out.width, out.height, out.palette = self.width, self.height, self.palette
        out.px = self.px.copy()
        return out


class Frame:
    """A template canvas whose only changing rows are `bands` ([y0, y1) ranges): the other rows
    are compressed once, and an image drawn on `canvas()` compresses its bands only. The zlib
    stream is made of raw deflate segments, each ended by a full flush (no reference crosses
    it), and the Adler-32 of the whole is combined from the segments'."""

    def __init__(self, base: Canvas, bands: list[tuple[int, int]], level: int = 1) -> None:
        self.base, self.level = base, level
        cuts = sorted({0, base.height, *(y for b in bands for y in b)})
        self.segments: list[tuple[int, int, bool]] = [(y0, y1, any(a <= y0 and y1 <= b for a, b in bands))
                                                      for y0, y1 in pairwise(cuts)]
        self.static: dict[int, tuple[bytes, int, int]] = {}
        for y0, y1, d in self.segments:
            if not d:
                raw = base.rows(y0, y1)
                self.static[y0] = (_deflate(raw, level), zlib.adler32(raw), len(raw))

    def canvas(self) -> Canvas:
        return self.base.copy()

    def png(self, c: Canvas) -> bytes:
        parts = [b"\x78\x01"]
        adler = 1
        for y0, y1, d in self.segments:
            if d:
                raw = c.rows(y0, y1)
                body, a, n = _deflate(raw, self.level), zlib.adler32(raw), len(raw)
            else:
                body, a, n = self.static[y0]
            parts.append(body)
            adler = _adler_combine(adler, a, n)
        parts.append(b"\x03\x00")  # an empty final block
        parts.append(struct.pack(">I", adler))
        return c._png(b"".join(parts))


def _deflate(raw: bytes, level: int) -> bytes:
    z = zlib.compressobj(level, zlib.DEFLATED, -15)
    return z.compress(raw) + z.flush(zlib.Z_FULL_FLUSH)


def _adler_combine(a1: int, a2: int, len2: int) -> int:
    """Adler-32 of A + B from those of A and B and the length of B (zlib's adler32_combine)."""
    base = 65521
    rem = len2 % base
    s1 = a1 & 0xFFFF
    s2 = (rem * s1) % base
    s1 += (a2 & 0xFFFF) + base - 1
    s2 += ((a1 >> 16) & 0xFFFF) + ((a2 >> 16) & 0xFFFF) + base - rem
    s1 %= base
    s2 %= base
    return s1 | (s2 << 16)


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
