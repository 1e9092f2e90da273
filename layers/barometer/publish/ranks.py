"""Ranks over time and every indicator ranked.

- `History`: brands × dates matrices of the index and the rank, computed once per build; each
  brand's change in points and places against the previous computation and against the same
  date a period (the panel's window) earlier.
- The leaderboard's rank-history chart (its first brands: every brand's own is on its page).
- `indicateurs/`: the first brands by each of the eight indicators; `indicateurs/<id>/`: all the
  brands ranked by one indicator, with its value and unit, beside the index rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from html import escape as esc
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import Markup

from barometer.definitions import INDICATORS
from barometer.publish import charts
from barometer.publish.base import BuilderBase
from barometer.publish.i18n import STRINGS, Fmt, relative_root

RANK_CHART_BRANDS = 10  # lines of the leaderboard's rank chart
RANK_TABLE_DATES = 12  # rows of its data table
INDICATOR_TOP = 5  # brands per indicator on the rankings' index page


@dataclass
class History:
    brands: list[str]
    dates: list[date]
    lead: np.ndarray  # brands × dates
    rank: np.ndarray  # brands × dates
    prev: int | None  # column of the previous computation
    period: int | None  # column of the latest computation a period (the window) before the last one
    period_days: int


def history(b: BuilderBase) -> History:
    """The build's history matrices (computed once, shared by every language)."""
    cached: History | None = getattr(b, "_history", None)
    if cached is not None:
        return cached
    brands = [r["brand_id"] for r in b.brand_rows]
    dates = b.d.dates
    lead = charts.matrix(b.d.scores, brands, dates, "leadership")
    rank = charts.matrix(b.d.scores, brands, dates, "rank")
    n = len(dates)
    days = int(b.d.panel.scoring.window_days)
    target = b.d.dt - timedelta(days=days)
    earlier = [j for j, d in enumerate(dates) if d <= target]
    h = History(brands, dates, lead, rank, n - 2 if n > 1 else None, earlier[-1] if earlier else None, days)
    b._history = h  # type: ignore[attr-defined]
    return h


def _points(f: Fmt, t: dict[str, str], d: float) -> str:
    v = round(d, 1)
    cls = "up" if v > 0 else "dn" if v < 0 else "eq"
    sign = "+" if v > 0 else "−" if v < 0 else "±"
    return f'<td class="{cls}">{sign}{f.num(abs(v))}\u00a0{f.plural(abs(v), t["n_points"])}</td>'


def _places(f: Fmt, t: dict[str, str], d: int) -> str:
    if d == 0:
        return f'<td class="eq">= <span class="vh">{t["same"]}</span></td>'
    cls, sym, key = ("up", "▲", "places_up") if d > 0 else ("dn", "▼", "places_down")
    words = t[key].format(n=f.count(abs(d), t["n_places"]))
    return f'<td class="{cls}"><span aria-hidden="true">{sym} {abs(d)}</span><span class="vh">{words}</span></td>'


def change_rows(b: BuilderBase, lang: str, bi: int) -> str:
    """The brand's change table body: against the previous computation and a period earlier."""
    h = history(b)
    f, t = Fmt(lang), STRINGS[lang]
    out = []
    last = len(h.dates) - 1
    for key, j in (("vs_prev", h.prev), ("vs_period", h.period)):
        if j is None:
            continue
        when = t[key].format(date=f.date(h.dates[j]), days=f.count(h.period_days, t["n_days"]))
        lead0, lead1, r0, r1 = h.lead[bi, j], h.lead[bi, last], h.rank[bi, j], h.rank[bi, last]
        if not (np.isfinite(lead0) and np.isfinite(lead1) and np.isfinite(r0) and np.isfinite(r1)):
            out.append(f'<tr><th scope="row">{esc(when)}</th><td colspan="2">{t["no_earlier"]}</td></tr>\n')
            continue
        out.append(f'<tr><th scope="row">{esc(when)}</th>{_points(f, t, float(lead1 - lead0))}'
                   f'{_places(f, t, int(r0 - r1))}</tr>\n')
    return "".join(out)


class RankPages(BuilderBase):
    def rank_chart(self, lang: str) -> dict[str, Any]:
        """The leaderboard's rank chart: its first brands' rank at each computation, and the table."""
        h = history(self)
        f, t = Fmt(lang), STRINGS[lang]
        k = min(RANK_CHART_BRANDS, len(h.brands))
        if k == 0 or not h.dates:
            return {}
        ranks = h.rank[:k]
        worst = int(np.nanmax(ranks)) if np.isfinite(ranks).any() else k
        pts = charts.rank_points(charts.x_positions(h.dates), ranks, max(worst, k))
        names = [self.brand_rows[i]["brand_name"] or h.brands[i] for i in range(k)]
        desc = t["rank_chart_desc"].format(names=", ".join(names), start=f.date(h.dates[0]),
                                           end=f.date(h.dates[-1]))
        svg = charts.lines_svg("ranks", t["rank_chart_title"], desc,
                               charts.rank_axes_svg(h.dates, lang, max(worst, k)), pts, charts.LINE_STYLES)
        cols = list(range(len(h.dates) - 1, max(-1, len(h.dates) - 1 - RANK_TABLE_DATES), -1))
        body = "".join(
            f'<tr><th scope="row">{esc(f.date(h.dates[j]))}</th>'
            + "".join(f"<td>{int(ranks[i, j]) if np.isfinite(ranks[i, j]) else '—'}</td>" for i in range(k))
            + "</tr>\n" for j in cols)
        return {"svg": svg, "legend": [(charts.legend_swatch(s), n) for s, n in zip(charts.LINE_STYLES, names,
                                                                                      strict=False)],
                "names": names, "body": Markup(body), "n_dates": len(cols), "top": k}

    # -- every indicator ranked ----------------------------------------------------------------
    def _indicator_table(self) -> pa.Table:
        if not hasattr(self, "_ind_now"):
            ind = self.d.indicators
            if ind.num_rows:
                ind = ind.filter(pc.equal(ind["dt"], pa.scalar(self.d.dt, pa.date32())))
            self._ind_now = ind
        return self._ind_now

    def indicator_rows(self, ind_id: str) -> list[dict[str, Any]]:
        """Brands by one indicator, highest value first (no value last; ties by score, then id)."""
        cache: dict[str, list[dict[str, Any]]] = self.__dict__.setdefault("_ind_rows", {})
        if ind_id in cache:
            return cache[ind_id]
        t = self._indicator_table()
        rows: list[dict[str, Any]] = []
        if t.num_rows:
            cols = [c for c in ("brand_id", "value", "score", "estimated", "std_error") if c in t.column_names]
            sel = t.filter(pc.equal(t["indicator"], ind_id)).select(cols).to_pylist()
            index_rank = {r["brand_id"]: r["rank"] for r in self.brand_rows}
            names = {r["brand_id"]: r["brand_name"] or r["brand_id"] for r in self.brand_rows}
            sel = [r for r in sel if r["brand_id"] in index_rank]
            sel.sort(key=lambda r: (r["value"] is None, -(r["value"] or 0.0), -(r["score"] or 0.0), r["brand_id"]))
            for i, r in enumerate(sel, 1):
                rows.append({**r, "pos": i, "name": names[r["brand_id"]], "index_rank": index_rank[r["brand_id"]],
                             "slug": self.slug[r["brand_id"]]})
        cache[ind_id] = rows
        return rows

    def indicator_pages(self, lang: str) -> None:
        t = STRINGS[lang]
        key = self.path(lang, "indicators")
        groups = []
        for ind in INDICATORS:
            name = ind.name_fr if lang == "fr" else ind.name_en
            rows = self.indicator_rows(ind.id)
            page_key = self.path(lang, "indicator", ind.id)
            body = self._indicator_body(lang, ind.id, rows, relative_root(page_key))
            unit = t[f"unit_{ind.id}"]
            self.page(page_key, "indicator.html.j2", lang, "indicator", ind.id, ind=ind, name=name, unit_label=unit,
                      rows=Markup(body),
                      est_legend=Markup(self.estimated_legend(lang, rows)), n=len(rows),
                      title=t["ind_rank_title"].format(name=name))
            groups.append({"id": ind.id, "name": name, "unit": unit, "path": page_key,
                           "rows": Markup(self._indicator_body(lang, ind.id, rows[:INDICATOR_TOP],
                                                              relative_root(key))),
                           "est_legend": Markup(self.estimated_legend(lang, rows[:INDICATOR_TOP]))})
        self.page(key, "indicators.html.j2", lang, "indicators", "", groups=groups, top=INDICATOR_TOP,
                  title=t["ind_title"])

    def _indicator_body(self, lang: str, ind_id: str, rows: list[dict[str, Any]], root: str) -> str:
        f = Fmt(lang)
        prefix = root + self.path(lang, "brand", "\0").split("\0")[0]
        return "".join(
            f'<tr><td>{r["pos"]}</td><th scope="row"><a href="{prefix}{r["slug"]}/">{esc(r["name"])}</a></th>'
            f'<td>{self.fmt_estimate(f, lang, ind_id, r)}</td>'
            f'<td>{f.num(r["score"])}</td><td>{r["index_rank"]}</td></tr>\n' for r in rows)
