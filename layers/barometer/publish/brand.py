"""Brand pages: key figures, history chart and its data table, indicators, topics, top posts."""

from __future__ import annotations

from collections import defaultdict
from html import escape as esc
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import Markup, escape

from barometer.publish import charts
from barometer.publish.base import BuilderBase, _esc_in
from barometer.publish.i18n import STRINGS, Fmt
from barometer.publish.vector import concat_groups, fixed, join
from barometer.score.definitions import ATTRIBUTES, INDICATORS


class BrandPages(BuilderBase):
    def _brand_tables(self) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]],
                                     dict[str, list[dict[str, Any]]]]:
        dt = pa.scalar(self.d.dt, pa.date32())
        inds: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if self.d.indicators.num_rows:
            for r in self.d.indicators.filter(pc.equal(self.d.indicators["dt"], dt)).to_pylist():
                inds[r["brand_id"]].append(r)
        tops: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if self.d.topics.num_rows:
            for r in self.d.topics.filter(pc.equal(self.d.topics["dt"], dt)).to_pylist():
                tops[r["brand_id"]].append(r)
        posts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in self.d.posts.to_pylist():
            posts[r["brand_id"]].append(r)
        return inds, tops, posts

    def brand_pages(self, lang: str) -> None:
        if not self.brand_rows:
            return
        if not hasattr(self, "_brand_cache"):
            brands = [r["brand_id"] for r in self.brand_rows]
            dates = self.d.dates
            mats = charts.matrices(self.d.scores, brands, dates)
            x = charts.x_positions(dates)
            points = {k: charts.series_points(x, m) for k, m in mats.items()}
            lasts = {k: charts.last_points(x, m) for k, m in mats.items()}
            n = len(dates)
            k = min(self.o.history_rows, n)
            picks = np.linspace(n - 1, 0, k).round().astype(int).tolist() if n else []
            sample = sorted(set(picks), reverse=True)
            self._brand_cache = (brands, mats, points, lasts, sample, self._brand_tables())
        brands, mats, points, lasts, sample, (inds, tops, posts) = self._brand_cache
        f, t = Fmt(lang), STRINGS[lang]
        dates = self.d.dates
        axes = charts.axes_svg(dates, lang)
        series_names = self.series_names(lang)
        # Escaped once per language; numbers from `Fmt` hold no character HTML escapes.
        ind_names = {i.id: esc(i.name_fr if lang == "fr" else i.name_en) for i in INDICATORS}
        attr_names = {a.id: esc(a.name_fr if lang == "fr" else a.name_en) for a in ATTRIBUTES}
        num = f.num
        n_brands = len(brands)
        hist_bodies = self.history_tables(lang, mats, sample)
        for bi, row in enumerate(self.brand_rows):
            bid = row["brand_id"]
            name = row["brand_name"] or bid
            key = self.path(lang, "brand", self.slug[bid])
            last_vals = ", ".join(f"{series_names[s.key]} {f.num(row[s.key])}" for s in charts.SERIES)
            title = t["history_title"].format(name=name)
            desc = t["history_desc"].format(start=f.date(dates[0]) if dates else "",
                                            end=f.date(dates[-1]) if dates else "", n=len(dates),
                                            last=last_vals)
            svg = charts.chart_svg("hist", title, desc, axes, [points[s.key][bi] for s in charts.SERIES],
                                   [lasts[s.key][bi] for s in charts.SERIES])
            ind_html = "".join(
                f'<tr><th scope="row">{_esc_in(ind_names, r["indicator"])}</th>'
                f'<td class="t">{_esc_in(attr_names, r["attribute"] or "")}</td>'
                f'<td>{self.fmt_value(f, r["indicator"], r["value"])}</td><td>{num(r["score"])}'
                f'</td><td>{num(r["contribution"], 2)}</td></tr>\n' for r in inds.get(bid, []))
            topic_html = "".join(
                f'<tr><th scope="row">{r["name"]}</th><td>{r["posts"]}</td>'
                f'<td>{r["mentions"]}</td></tr>\n' for r in self.topic_rows(lang, tops.get(bid, []), escaped=True))
            posts_html = "".join(self.post_html(f, t, p) for p in posts.get(bid, []))
            self.page(key, "brand.html.j2", lang, "brand", self.slug[bid], brand=row, name=name,
                      n=n_brands, chart=svg, legend=[(charts.legend_swatch(s), series_names[s.key])
                                                     for s in charts.SERIES],
                      series=[series_names[s.key] for s in charts.SERIES],
                      hist_body=Markup(hist_bodies[bi]), hist_shown=len(sample), hist_total=len(dates),
                      indicators=Markup(ind_html), topics=Markup(topic_html), posts=Markup(posts_html),
                      change=self.change(lang, row), window=self.window(),
                      handle=self.d.brand_handles.get(bid, ""))

    def history_tables(self, lang: str, mats: dict[str, np.ndarray], sample: list[int]) -> list[str]:
        """The chart's data table body (sampled dates, newest first) for every brand at once."""
        f = Fmt(lang)
        n_brands, k = len(self.brand_rows), len(sample)
        if k == 0:
            return [""] * n_brands
        dates = self.d.dates
        heads = pa.array([f'<tr><th scope="row">{escape(f.date(dates[j]))}</th>' for j in sample] * n_brands)
        parts: list[Any] = [heads]
        for s in charts.SERIES:
            parts += ["<td>", fixed(pa.array(mats[s.key][:, sample].ravel()), 1, f.dec), "</td>"]
        rows = join(*parts, "</tr>\n")
        return concat_groups(rows, [(i, i * k, (i + 1) * k) for i in range(n_brands)])

    def post_html(self, f: Fmt, t: dict[str, str], p: dict[str, Any]) -> str:
        """One post of the brand page (every text escaped)."""
        created = p["created_at"]
        day = f.date(created.date()) if created else ""
        handle = p["handle"] or ""
        by = f" · {esc(t['by'].format(handle=handle))}" if handle else ""
        counts = ", ".join(f"{f.int(p[k] or 0)} {t[k]}" for k in ("likes", "reposts", "replies", "quotes"))
        return (f'<li>\n<blockquote><p>{esc(p["text"] or "")}</p></blockquote>\n'
                f'<p class="post-meta"><time datetime="{created.isoformat() if created else ""}">{esc(day)}'
                f'</time>{by} · <strong>{esc(t["interactions"].format(n=f.int(p["interactions"])))}</strong>'
                f' ({esc(counts)})</p>\n<p><a href="{esc(self.post_url(handle, p["post_id"]))}" '
                f'rel="external noopener">{esc(t["post_link"].format(date=day))}</a></p>\n</li>\n')

    @staticmethod
    def post_url(handle: str | None, post_id: str | None) -> str:
        from urllib.parse import quote

        return f"https://x.com/{quote(handle or 'i', safe='')}/status/{quote(post_id or '', safe='')}"
