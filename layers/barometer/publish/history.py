"""Honest history: what the history chart must say besides its lines.

**Indicators entering or leaving a brand's index.** A brand's leadership is the mean of the
indicators it has data for; when one enters (community growth needs a year of followers
snapshots; a source collected later) or leaves (data missing), the score can jump without the
brand's standing changing. Each such date is marked on the brand's history chart (a dashed
vertical line, numbered) and explained under it, indicator by indicator.

The dates are found cheaply: only where a brand's `coverage` (its share of indicators with data)
changes between two published dates are the `indicators` rows of those two dates read.

**Provisional leaderboard.** A score resting on fewer collected days than
`scoring.min_window_days` (see `score.collected`) is published under a banner saying how many
days it rests on (or withheld: `scoring.provisional: withhold`, see `publish.data`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from html import escape as esc
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from markupsafe import Markup

from barometer.definitions import INDICATORS
from barometer.lake.store import Lake
from barometer.publish.i18n import Fmt

TOP, BOTTOM = 14.0, 224.0  # the history chart's plot area (see charts.TOP/BOTTOM)
MARK_COLOR = "#52525b"  # ≥ 4.5:1 on white


@dataclass(frozen=True)
class Change:
    dt: date
    indicator: str
    entered: bool  # False: left the index


def _leaderboard_rows(t: pa.Table) -> pa.Table:
    """The rows of the leaderboard's network: `all` when the table has some, else every row."""
    if "network" not in t.column_names or t.num_rows == 0:
        return t
    is_all = pc.fill_null(pc.equal(t["network"], "all"), False)
    return t.filter(is_all) if pc.any(is_all).as_py() else t


def _coverage_matrix(s: pa.Table, brands: list[str], dates: list[date]) -> np.ndarray:
    """brands × dates of the scores' `coverage` (NaN where a brand has no row or no value; a
    (brand, date) given twice: its last row)."""
    cov = np.full((len(brands), len(dates)), np.nan)
    if s.num_rows == 0:
        return cov

    def column(x: pa.ChunkedArray | pa.Array, fill: float | int) -> np.ndarray:
        return np.asarray(pc.fill_null(x, fill).to_numpy(zero_copy_only=False))

    bi = column(pc.index_in(s["brand_id"], value_set=pa.array(brands, pa.string())), -1)
    di = column(pc.index_in(s["dt"], value_set=pa.array(dates, pa.date32())), -1)
    c = column(pc.cast(s["coverage"], pa.float64()), np.nan)
    keep = (bi >= 0) & (di >= 0) & ~np.isnan(c)
    cov[bi[keep], di[keep]] = c[keep]
    return cov


def indicator_changes(lake: Lake, panel_id: str, scores: pa.Table, dates: list[date]) -> dict[str, list[Change]]:
    """brand id → the indicators that entered or left its index, date by date (published dates)."""
    if len(dates) < 2 or scores.num_rows == 0 or "coverage" not in scores.column_names:
        return {}
    s = _leaderboard_rows(scores)
    brands = sorted(set(pc.unique(s["brand_id"]).to_pylist()))
    cov = _coverage_matrix(s, brands, dates)
    changed = np.zeros(len(dates), dtype=bool)
    both = np.isfinite(cov[:, 1:]) & np.isfinite(cov[:, :-1])
    changed[1:] = (both & (np.abs(cov[:, 1:] - cov[:, :-1]) > 1e-9)).any(axis=0)
    pairs = sorted({j for j in np.flatnonzero(changed)} | {j - 1 for j in np.flatnonzero(changed)})
    if not pairs:
        return {}
    days = [dates[j] for j in pairs]
    have = set(lake.partitions("indicators", panel_id))
    days = [d for d in days if d in have]
    if not days:
        return {}
    t = lake.read("indicators", panel_id, days[0], days[-1], columns=["brand_id", "indicator", "missing", "dt",
                                                                        "network"],
                  filter=ds.field("dt").isin(pa.array(days, pa.date32())))
    t = _leaderboard_rows(t)
    present: dict[tuple[str, date], set[str]] = defaultdict(set)
    for b, ind, miss, d in zip(t["brand_id"].to_pylist(), t["indicator"].to_pylist(), t["missing"].to_pylist(),
                               t["dt"].to_pylist(), strict=True):
        entry = present[(b, d)]  # the brand has rows that day (maybe all missing)
        if not miss:
            entry.add(ind)
    order = {i.id: k for k, i in enumerate(INDICATORS)}
    out: dict[str, list[Change]] = {}
    for j in np.flatnonzero(changed):
        d0, d1 = dates[j - 1], dates[j]
        for b in brands:
            if (b, d0) not in present or (b, d1) not in present:
                continue
            before, after = present[(b, d0)], present[(b, d1)]
            for ind in sorted(after - before, key=lambda x: order.get(x, 99)):
                out.setdefault(b, []).append(Change(d1, ind, True))
            for ind in sorted(before - after, key=lambda x: order.get(x, 99)):
                out.setdefault(b, []).append(Change(d1, ind, False))
    return out


# -- texts -------------------------------------------------------------------------------
TEXTS = {
    "fr": {
        "notes": "Repères sur la courbe",
        "enters": "« {ind} » entre dans l'indice : ses données sont disponibles à partir de cette date ; "
                  "le score tient compte d'un indicateur de plus, d'où un saut qui ne traduit pas une "
                  "évolution de la marque.",
        "enters_growth": "« {ind} » entre dans l'indice : la croissance se mesure par rapport au même jour un an "
                         "plus tôt, il faut donc un an de relevés d'abonnés ; le score tient compte d'un "
                         "indicateur de plus, d'où un saut qui ne traduit pas une évolution de la marque.",
        "leaves": "« {ind} » sort de l'indice : ses données manquent à cette date (collecte incomplète) ; le "
                  "score repose sur les autres indicateurs.",
        "provisional": "Classement provisoire",
        "provisional_text": "il repose sur {days} {unit} de données collectées sur les {window} jours de sa "
                            "fenêtre (un classement complet en demande au moins {min}).",
        "provisional_none": "aucun jour de sa fenêtre de {window} jours n'a encore été collecté (un classement "
                            "complet en demande au moins {min}).",
    },
    "en": {
        "notes": "Marks on the chart",
        "enters": "“{ind}” enters the index: its data is available from this date; the score counts one more "
                  "indicator, hence a jump that is not a change in the brand's standing.",
        "enters_growth": "“{ind}” enters the index: growth is measured against the same day one year earlier, "
                         "which takes a year of follower snapshots; the score counts one more indicator, hence "
                         "a jump that is not a change in the brand's standing.",
        "leaves": "“{ind}” leaves the index: its data is missing from this date (incomplete collection); the "
                  "score rests on the other indicators.",
        "provisional": "Provisional leaderboard",
        "provisional_text": "it rests on {days} {unit} of collected data out of its {window}-day window (a "
                            "complete leaderboard needs at least {min}).",
        "provisional_none": "no day of its {window}-day window has been collected yet (a complete leaderboard "
                            "needs at least {min}).",
    },
}
_NAMES = {i.id: (i.name_fr, i.name_en) for i in INDICATORS}


def _text(lang: str, c: Change) -> str:
    t = TEXTS[lang]
    names = _NAMES.get(c.indicator, (c.indicator, c.indicator))
    name = names[0] if lang == "fr" else names[1]
    if not c.entered:
        return t["leaves"].format(ind=name)
    return (t["enters_growth"] if c.indicator == "community_growth" else t["enters"]).format(ind=name)


def history_marks(svg: Markup, builder: Any, lang: str, brand_id: str) -> Markup:
    """The brand's history chart with its marks, followed by the list that explains them."""
    changes: list[Change] = (getattr(builder.d, "history_changes", None) or {}).get(brand_id) or []
    dates = list(builder.d.dates)
    if not changes or not dates:
        return svg
    from barometer.publish.charts import x_positions

    x = x_positions(dates)
    at = {d: float(x[j]) for j, d in enumerate(dates)}
    by_date: dict[date, list[Change]] = defaultdict(list)
    for c in changes:
        if c.dt in at:
            by_date[c.dt].append(c)
    if not by_date:
        return svg
    f = Fmt(lang)
    marks, notes = [], []
    for n, (d, cs) in enumerate(sorted(by_date.items()), 1):
        xx = at[d]
        anchor = "end" if xx > 600 else "middle"
        marks.append(f'<g class="mark"><line x1="{xx:.1f}" x2="{xx:.1f}" y1="{TOP + 14:.1f}" y2="{BOTTOM}" '
                     f'stroke="{MARK_COLOR}" stroke-width="1.5" stroke-dasharray="3 3"/>'
                     f'<text x="{xx:.1f}" y="{TOP + 10:.1f}" text-anchor="{anchor}" font-size="12" '
                     f'fill="{MARK_COLOR}">{n}</text></g>')
        notes.append(f'<li value="{n}"><time datetime="{d.isoformat()}">{esc(f.date(d))}</time> — '
                     + " ".join(esc(_text(lang, c)) for c in cs) + "</li>")
    s = str(svg)
    i = s.rfind("</svg>")
    s = s[:i] + "".join(marks) + s[i:]
    return Markup(f'{s}\n<div class="chart-notes"><p>{esc(TEXTS[lang]["notes"])}</p>\n<ol>\n'
                  + "\n".join(notes) + "\n</ol></div>")


def provisional_note(brand_rows: list[dict[str, Any]], panel: Any, lang: str) -> dict[str, str] | None:
    """The banner of a provisional leaderboard (None when the leaderboard is complete)."""
    flagged = [r for r in brand_rows if r.get("provisional")]
    if not flagged:
        return None
    days = max(int(r.get("days_collected") or 0) for r in flagged)
    t = TEXTS[lang]
    s = panel.scoring
    unit = ("jour" if days <= 1 else "jours") if lang == "fr" else ("day" if days == 1 else "days")
    text = (t["provisional_text"] if days else t["provisional_none"]).format(
        days=days, unit=unit, window=s.window_days, min=s.min_days)
    return {"title": t["provisional"], "text": text, "days": str(days)}
