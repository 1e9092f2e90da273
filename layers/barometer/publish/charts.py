"""History charts as inline SVG, generated at build time (no script, no request).

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` (named by aria-labelledby);
the page adds a data table next to it. Series differ by colour *and* dash pattern. The
polyline points of every brand are computed at once from a brands × dates matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import Markup, escape

from barometer.publish.i18n import Fmt
from barometer.publish.vector import concat_groups, fixed, join

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44.0, 624.0, 14.0, 224.0
# Room on the left for the y labels at the bigger sizes of narrow screens (see site.css).
VIEWBOX = f"-28 0 {WIDTH + 28} {HEIGHT}"


@dataclass(frozen=True)
class SeriesStyle:
    key: str
    color: str
    dash: str  # stroke-dasharray ("" = solid)
    width: float


# Colours have ≥ 4.5:1 contrast on white; dashes tell the series apart without colour.
SERIES: tuple[SeriesStyle, ...] = (
    SeriesStyle("leadership", "#1d4ed8", "", 3.0),
    SeriesStyle("relational", "#b45309", "8 4", 2.0),
    SeriesStyle("expression", "#047857", "2 3", 2.0),
    SeriesStyle("engagement", "#7e22ce", "10 3 2 3", 2.0),
)


def x_positions(dates: Sequence[date]) -> np.ndarray:
    """x coordinate of each date, proportional to time."""
    if not dates:
        return np.zeros(0)
    ords = np.array([d.toordinal() for d in dates], dtype=float)
    span = ords[-1] - ords[0]
    if span <= 0:
        return np.full(len(ords), (LEFT + RIGHT) / 2)
    return LEFT + (ords - ords[0]) / span * (RIGHT - LEFT)


def y_of(values: np.ndarray) -> np.ndarray:
    v = np.clip(values, 0.0, 100.0)
    return BOTTOM - v / 100.0 * (BOTTOM - TOP)


def series_points(x: np.ndarray, matrix: np.ndarray) -> list[str]:
    """SVG `points` of one series for every row (brand) of a rows × dates matrix (NaN = no point)."""
    rows = matrix.shape[0]
    if rows == 0:
        return []
    valid = np.isfinite(matrix)
    ys = y_of(np.where(valid, matrix, 0.0))[valid]
    xs = np.broadcast_to(x, matrix.shape)[valid]
    pts = join(fixed(pa.array(xs), 1, "."), ",", fixed(pa.array(ys), 1, "."))
    counts = valid.sum(axis=1)
    stops = np.cumsum(counts)
    starts = stops - counts
    bounds = [(i, int(a), int(b)) for i, (a, b) in enumerate(zip(starts, stops, strict=True))]
    return concat_groups(pts, bounds, " ")


def last_points(x: np.ndarray, matrix: np.ndarray) -> list[tuple[float, float] | None]:
    rows, cols = matrix.shape
    if cols == 0:
        return [None] * rows
    valid = np.isfinite(matrix)
    last = cols - 1 - np.argmax(valid[:, ::-1], axis=1)
    anyv = valid.any(axis=1)
    ys = y_of(np.where(valid, matrix, 0.0))
    return [(round(float(x[j]), 1), round(float(ys[i, j]), 1)) if anyv[i] else None
            for i, j in enumerate(last.tolist())]


def axes_svg(dates: Sequence[date], lang: str, max_ticks: int = 5) -> str:
    """Grid, y labels (0–100) and a few dated x ticks; shared by every brand's chart."""
    out = ['<g class="axes" font-size="12" fill="#3f3f46">']
    for v in (0, 25, 50, 75, 100):
        y = BOTTOM - v / 100 * (BOTTOM - TOP)
        out.append(f'<line x1="{LEFT}" x2="{RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d4d4d8" '
                   f'stroke-width="1"/><text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{v}</text>')
    out.append(_x_ticks(dates, lang, max_ticks))
    out.append("</g>")
    return "".join(out)


def chart_svg(chart_id: str, title: str, desc: str, axes: str, points: Sequence[str],
              last: Sequence[tuple[float, float] | None]) -> Markup:
    """One chart: title and desc (escaped), axes, and one polyline + end marker per series."""
    out = [f'<svg class="chart" viewBox="{VIEWBOX}" role="img" '
           f'aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false">',
           f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
           axes]
    for style, pts, end in zip(SERIES, points, last, strict=False):
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        if pts:
            out.append(f'<polyline fill="none" stroke="{style.color}" stroke-width="{style.width}"'
                       f'{dash} stroke-linejoin="round" points="{pts}"/>')
        if end is not None:
            out.append(f'<circle cx="{end[0]}" cy="{end[1]}" r="3.5" fill="{style.color}"/>')
    out.append("</svg>")
    return Markup("".join(out))


def legend_swatch(style: SeriesStyle) -> Markup:
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    return Markup(f'<svg width="28" height="10" viewBox="0 0 28 10" aria-hidden="true" focusable="false">'
                  f'<line x1="0" x2="28" y1="5" y2="5" stroke="{style.color}" '
                  f'stroke-width="{style.width}"{dash}/></svg>')


def line_chart(dates: Sequence[date], series: dict[str, Sequence[float | None]], title: str, desc: str,
               lang: str = "fr", chart_id: str = "chart") -> Markup:
    """One chart from plain values (a convenience over the vectorised path, same output)."""
    x = x_positions(dates)
    pts: list[str] = []
    ends: list[tuple[float, float] | None] = []
    for style in SERIES:
        vals = series.get(style.key)
        row = [np.nan if v is None else float(v) for v in (vals or [None] * len(dates))]
        m = np.array([row], dtype=float)
        pts.extend(series_points(x, m))
        ends.extend(last_points(x, m))
    return chart_svg(chart_id, title, desc, axes_svg(dates, lang), pts, ends)


def matrices(scores: pa.Table, brands: Sequence[str], dates: Sequence[date]) -> dict[str, np.ndarray]:
    """brands × dates matrices of leadership and the attributes (NaN where no row)."""
    b_idx = pc.index_in(scores["brand_id"], value_set=pa.array(list(brands), pa.string()))
    d_idx = pc.index_in(scores["dt"], value_set=pa.array(list(dates), pa.date32()))
    ok = pc.and_(pc.is_valid(b_idx), pc.is_valid(d_idx))
    bi = pc.filter(b_idx, ok).to_numpy(zero_copy_only=False).astype(np.int64)
    di = pc.filter(d_idx, ok).to_numpy(zero_copy_only=False).astype(np.int64)
    out = {}
    for s in SERIES:
        m = np.full((len(brands), len(dates)), np.nan)
        vals = pc.filter(pc.cast(scores[s.key], pa.float64()), ok)
        m[bi, di] = vals.to_numpy(zero_copy_only=False).astype(float)
        out[s.key] = m
    return out


def matrix(scores: pa.Table, brands: Sequence[str], dates: Sequence[date], column: str) -> np.ndarray:
    """brands × dates matrix of one numeric column of `scores` (NaN where no row)."""
    b_idx = pc.index_in(scores["brand_id"], value_set=pa.array(list(brands), pa.string()))
    d_idx = pc.index_in(scores["dt"], value_set=pa.array(list(dates), pa.date32()))
    ok = pc.and_(pc.is_valid(b_idx), pc.is_valid(d_idx))
    bi = pc.filter(b_idx, ok).to_numpy(zero_copy_only=False).astype(np.int64)
    di = pc.filter(d_idx, ok).to_numpy(zero_copy_only=False).astype(np.int64)
    m = np.full((len(brands), len(dates)), np.nan)
    vals = pc.filter(pc.cast(scores[column], pa.float64()), ok)
    m[bi, di] = vals.to_numpy(zero_copy_only=False).astype(float)
    return m


def rank_y(ranks: np.ndarray, worst: int) -> np.ndarray:
    """y of ranks on a chart whose axis runs from rank 1 (top) to `worst` (bottom)."""
    span = max(worst - 1, 1)
    return TOP + (np.clip(ranks, 1, worst) - 1) / span * (BOTTOM - TOP)


def rank_points(x: np.ndarray, ranks: np.ndarray, worst: int) -> list[str]:
    """SVG `points` of each row of a rows × dates rank matrix (NaN = no point)."""
    if ranks.shape[0] == 0:
        return []
    valid = np.isfinite(ranks)
    ys = rank_y(np.where(valid, ranks, 1.0), worst)[valid]
    xs = np.broadcast_to(x, ranks.shape)[valid]
    pts = join(fixed(pa.array(xs), 1, "."), ",", fixed(pa.array(ys), 1, "."))
    counts = valid.sum(axis=1)
    stops = np.cumsum(counts)
    bounds = [(i, int(a), int(b)) for i, (a, b) in enumerate(zip(stops - counts, stops, strict=True))]
    return concat_groups(pts, bounds, " ")


def rank_ticks(worst: int) -> list[int]:
    """A few rank labels from 1 to `worst`."""
    if worst <= 1:
        return [1]
    out = [1, worst]
    for r in np.linspace(1, worst, min(5, worst)).round().astype(int).tolist():
        if all(abs(r - k) >= (worst - 1) / 5 for k in out):
            out.append(r)
    return sorted(out)


def rank_axes_svg(dates: Sequence[date], lang: str, worst: int) -> str:
    """Axes of a rank chart: rank 1 at the top, `worst` at the bottom; dated x ticks."""
    out = ['<g class="axes" font-size="12" fill="#3f3f46">']
    for r in rank_ticks(worst):
        y = float(rank_y(np.array([r], float), worst)[0])
        out.append(f'<line x1="{LEFT}" x2="{RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d4d4d8" '
                   f'stroke-width="1"/><text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{r}</text>')
    out.append(_x_ticks(dates, lang))
    out.append("</g>")
    return "".join(out)


def _x_ticks(dates: Sequence[date], lang: str, max_ticks: int = 5) -> str:
    """Dated x ticks; the ticks between the ends are `minor` (hidden on narrow screens, where the
    labels are bigger)."""
    if not dates:
        return ""
    f = Fmt(lang)
    x = x_positions(dates)
    n = len(dates)
    idx = sorted(set(np.linspace(0, n - 1, min(max_ticks, n)).round().astype(int).tolist()))
    out = []
    for k, i in enumerate(idx):
        first, last = k == 0, k == len(idx) - 1
        anchor = "start" if first and len(idx) > 1 else ("end" if last and len(idx) > 1 else "middle")
        minor = "" if first or last or k == len(idx) // 2 else ' class="minor"'
        out.append(f'<g{minor}><line x1="{x[i]:.1f}" x2="{x[i]:.1f}" y1="{BOTTOM}" y2="{BOTTOM + 5}" '
                   f'stroke="#71717a"/><text x="{x[i]:.1f}" y="{BOTTOM + 20}" '
                   f'text-anchor="{anchor}">{escape(f.short_day(dates[i]))}</text></g>')
    return "".join(out)


def lines_svg(chart_id: str, title: str, desc: str, axes: str, points: Sequence[str],
              styles: Sequence[SeriesStyle]) -> Markup:
    """A chart of one line per style (brands overlaid, ranks): title and desc escaped."""
    out = [f'<svg class="chart" viewBox="{VIEWBOX}" role="img" '
           f'aria-labelledby="{chart_id}-t {chart_id}-d" focusable="false">',
           f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
           axes]
    for style, pts in zip(styles, points, strict=False):
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        if pts:
            out.append(f'<polyline fill="none" stroke="{style.color}" stroke-width="{style.width}"'
                       f'{dash} stroke-linejoin="round" points="{pts}"/>')
    out.append("</svg>")
    return Markup("".join(out))


# Up to ten lines told apart by colour and dash (ranks of the leaderboard's first brands).
LINE_STYLES: tuple[SeriesStyle, ...] = (
    *SERIES,
    SeriesStyle("s5", "#be123c", "", 2.0),
    SeriesStyle("s6", "#0e7490", "8 4", 2.0),
    SeriesStyle("s7", "#4d7c0f", "2 3", 2.0),
    SeriesStyle("s8", "#a21caf", "10 3 2 3", 2.0),
    SeriesStyle("s9", "#c2410c", "4 2", 2.0),
    SeriesStyle("s10", "#334155", "1 2", 2.0),
)
