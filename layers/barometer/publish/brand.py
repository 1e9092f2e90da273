"""Brand pages: key figures, history chart and its data table, indicators, topics, top posts."""

from __future__ import annotations

from collections import defaultdict
from html import escape as esc
from typing import Any
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import escape

from barometer.definitions import ATTRIBUTES, INDICATORS
from barometer.publish import charts
from barometer.publish.base import SHARE_DIR, BuilderBase, _esc_in
from barometer.publish.history import history_marks
from barometer.publish.i18n import STRINGS, Fmt, relative_root
from barometer.publish.ranks import change_rows, history
from barometer.publish.vector import concat_groups, fixed, join

# The brand template's per-brand fields, in `fill` order (see `BuilderBase.skeleton`).
BRAND_FIELDS = ("name", "og_title", "og_description", "handles", "key_figures", "changes", "chart", "hist_body",
                "hist_note", "rank_chart", "indicators", "est_legend", "topics", "posts", "badge_alt", "badge_w",
                "embed", "compare", "compare_label", "networks")
NETWORK_NAMES = {"x": "X", "bluesky": "Bluesky"}
# The columns of the run date's indicators and topics a brand page shows.
BRAND_INDICATOR_COLUMNS = ("brand_id", "indicator", "attribute", "value", "score", "contribution", "estimated",
                           "std_error")
BRAND_TOPIC_COLUMNS = ("brand_id", "source", "topic", "share")
NETWORK_TEXT = {"fr": {"title": "Par réseau", "network": "Réseau", "rank": "Rang", "score": "Leadership",
                       "none": "pas de compte"},
                "en": {"title": "By network", "network": "Network", "rank": "Rank", "score": "Leadership",
                       "none": "no account"}}


class BrandPages(BuilderBase):
    def _brand_tables(self) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]],
                                     dict[str, list[dict[str, Any]]]]:
        """The run date's indicators, topics and top posts of each brand, as rows of the columns
        the brand pages show."""
        dt = pa.scalar(self.d.dt, pa.date32())
        out: list[dict[str, list[dict[str, Any]]]] = []
        for t, cols in ((self.d.indicators, BRAND_INDICATOR_COLUMNS), (self.d.topics, BRAND_TOPIC_COLUMNS)):
            rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
            if t.num_rows:
                shown = t.filter(pc.equal(t["dt"], dt))
                for r in shown.select([c for c in cols if c in shown.column_names]).to_pylist():
                    rows[r["brand_id"]].append(r)
            out.append(rows)
        posts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in self.d.posts.to_pylist():
            posts[r["brand_id"]].append(r)
        return out[0], out[1], posts

    def _brand_prep(self) -> tuple[Any, ...]:
        """What every language's brand pages share (computed once)."""
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
            h = history(self)
            worst = max(len(brands), 1)
            rank_pts = charts.rank_points(x, h.rank, worst)
            self._brand_cache = (brands, mats, points, lasts, sample, self._brand_tables(), rank_pts, worst)
        return self._brand_cache  # type: ignore[no-any-return]

    def brand_pages(self, lang: str) -> None:
        """Every brand's page, from one skeleton of the template per language (see `skeleton`)."""
        if not self.brand_rows:
            return
        brands, mats, points, lasts, sample, (inds, tops, posts), rank_pts, worst = self._brand_prep()
        f, t = Fmt(lang), STRINGS[lang]
        dates = self.d.dates
        axes = charts.axes_svg(dates, lang)
        rank_axes = charts.rank_axes_svg(dates, lang, worst)
        series_names = self.series_names(lang)
        # Escaped once per language; numbers from `Fmt` hold no character HTML escapes.
        ind_names = {i.id: esc(i.name_fr if lang == "fr" else i.name_en) for i in INDICATORS}
        attr_names = {a.id: esc(a.name_fr if lang == "fr" else a.name_en) for a in ATTRIBUTES}
        num = f.num
        n_brands = len(brands)
        hist_bodies = self.history_tables(lang, mats, sample)
        w = self.window()
        sk = self.skeleton("brand.html.j2", lang, "brand", BRAND_FIELDS, n=n_brands, series=[
            series_names[s.key] for s in charts.SERIES], legend=[(charts.legend_swatch(s), series_names[s.key])
                                                                for s in charts.SERIES],
            window=(" · " + t["window"].format(start=f.date(w[0]), end=f.date(w[1]))) if w[0] else "")
        span = (f.date(dates[0]) if dates else "", f.date(dates[-1]) if dates else "")
        runs = f.count(len(dates), t["n_runs"])
        leader = self.brand_rows[0]
        root = relative_root(self.path(lang, "brand", "x"))
        for bi, row in enumerate(self.brand_rows):
            bid = row["brand_id"]
            slug = self.slug[bid]
            name = row["brand_name"] or bid
            last_vals = ", ".join(f"{series_names[s.key]} {num(row[s.key])}" for s in charts.SERIES)
            desc = t["history_desc"].format(start=span[0], end=span[1], n=runs, last=last_vals)
            svg = charts.chart_svg("hist", t["history_title"].format(name=name), desc, axes,
                                   [points[s.key][bi] for s in charts.SERIES],
                                   [lasts[s.key][bi] for s in charts.SERIES])
            svg = history_marks(svg, self, lang, bid)  # indicators entering or leaving, marked and explained
            rank_svg = charts.lines_svg("rank", t["rank_history_title"].format(name=name),
                                        self.rank_desc(lang, bi, span), rank_axes, [rank_pts[bi]],
                                        charts.SERIES[:1])
            ind_html = "".join(
                f'<tr><th scope="row">{_esc_in(ind_names, r["indicator"])}</th>'
                f'<td class="t">{_esc_in(attr_names, r["attribute"] or "")}</td>'
                f'<td>{self.fmt_estimate(f, lang, r["indicator"], r)}</td><td>{num(r["score"])}'
                f'</td><td>{num(r["contribution"], 2)}</td></tr>\n' for r in inds.get(bid, []))
            rank_text = (t["brand_rank_1"] if row["rank"] == 1 else t["brand_rank"]).format(
                rank=row["rank"], n=n_brands)
            score = num(row["leadership"])
            other = self.brand_rows[1] if bi == 0 and n_brands > 1 else leader
            compare = self.path(lang, "compare") + f"?b={slug},{self.slug[other['brand_id']]}"
            badge_w, alt = self.badge(lang, bi, rank_text, score)
            embed = (f'<a href="{self.absolute(lang, "brand", slug)}"><img src="{self.o.base_url or "/"}{SHARE_DIR}/'
                     f'{slug}.svg" width="{badge_w}" height="20" alt="{esc(alt)}"></a>')
            self.fill(self.path(lang, "brand", slug), sk, slug, (
                esc(name), esc(t["og_brand"].format(name=name, rank=rank_text, score=score, date=f.date(self.d.dt))),
                esc(t["og_brand"].format(name=name, rank=rank_text, score=score, date=f.date(self.d.dt))),
                self.handles_html(bid), self.key_figures(f, t, row, rank_text), self.changes_html(lang, bi, name),
                svg, hist_bodies[bi], "" if len(sample) >= len(dates) else
                " (" + esc(t["history_sampled"].format(shown=len(sample), n=len(dates))) + ")", rank_svg, ind_html,
                self.estimated_legend(lang, inds.get(bid, [])),
                self.topics_html(lang, t, name, tops.get(bid, [])), self.posts_html(f, t, posts.get(bid, [])),
                esc(alt), str(badge_w), esc(embed), esc(root + compare),
                esc(t["compare_with"].format(other=other["brand_name"] or other["brand_id"])),
                self.networks_html(lang, bid)))

    def rank_desc(self, lang: str, bi: int, span: tuple[str, str]) -> str:
        h = history(self)
        r = h.rank[bi]
        ok = r[np.isfinite(r)]
        if not len(ok):
            return ""
        return STRINGS[lang]["rank_history_desc"].format(start=span[0], end=span[1], best=int(ok.min()),
                                                         worst=int(ok.max()), last=int(ok[-1]))

    def absolute(self, lang: str, kind: str, arg: str = "") -> str:
        """A page's URL to give away (embed snippets): absolute when the site's URL is known."""
        return (self.o.base_url or "/") + self.path(lang, kind, arg)

    def handles_html(self, bid: str) -> str:
        """Every handle of the brand, each linked to its network (X: x.com/<handle>; Bluesky, whose
        handles are domain names: bsky.app/profile/<handle>) unless the data is simulated; on a
        panel of several networks each says its network."""
        out = []
        several = len(self.panel_networks) > 1
        for h in self.d.handles.get(bid) or [self.d.brand_handles.get(bid, "")]:
            if not h:
                continue
            net = "bluesky" if "." in h else "x"  # X handles never hold a dot
            label = f"@{esc(h)}" + (f" ({NETWORK_NAMES[net]})" if several else "")
            if self.o.simulated:
                out.append(label)
            else:
                url = f"https://bsky.app/profile/{quote(h, safe='.')}" if net == "bluesky" else \
                    f"https://x.com/{quote(h, safe='')}"
                out.append(f'<a href="{url}" rel="external noopener">{label}</a>')
        return " · ".join(out) + " · " if out else ""

    def networks_html(self, lang: str, bid: str) -> str:
        """The brand's rank and leadership on each network alone (a panel on several networks)."""
        scores = self.d.network_scores
        if scores is None or len(self.panel_networks) < 2:
            return ""
        nt, f = NETWORK_TEXT[lang], Fmt(lang)
        if not hasattr(self, "_network_rows"):  # once per build: brand → network → row, brands per network
            by: dict[str, dict[str, dict[str, Any]]] = {}
            for r in scores.to_pylist():
                by.setdefault(r["brand_id"], {})[r["network"]] = r
            nets = scores["network"].to_pylist()
            self._network_rows = (by, {net: nets.count(net) for net in self.panel_networks})
        by_brand, n = self._network_rows
        rows = by_brand.get(bid, {})
        body = "".join(
            f'<tr><th scope="row">{NETWORK_NAMES.get(net, net)}</th>'
            + (f'<td>{rows[net]["rank"]} / {n[net]}</td><td>{f.num(rows[net]["leadership"])}</td>' if net in rows
               else f'<td colspan="2">{nt["none"]}</td>') + "</tr>\n"
            for net in self.panel_networks)
        return (f'<section aria-labelledby="nets-h" class="networks"><h2 id="nets-h">{nt["title"]}</h2>\n'
                f'<table><thead><tr><th scope="col">{nt["network"]}</th><th scope="col">{nt["rank"]}</th>'
                f'<th scope="col">{nt["score"]}</th></tr></thead>\n<tbody>\n{body}</tbody></table></section>\n')

    @staticmethod
    def key_figures(f: Fmt, t: dict[str, str], row: dict[str, Any], rank_text: str) -> str:
        prev, rank = row.get("rank_prev"), row.get("rank")
        if prev is None or rank is None:
            change = f'<dd class="new">{t["new"]}</dd>'
        elif prev == rank:
            change = f'<dd class="eq"><span aria-hidden="true">=</span><span class="vh">{t["same"]}</span></dd>'
        else:
            d = prev - rank
            cls, sym, key = ("up", "▲", "up") if d > 0 else ("dn", "▼", "down")
            change = (f'<dd class="{cls}"><span aria-hidden="true">{sym} {abs(d)}</span>'
                      f'<span class="vh">{t[key].format(n=abs(d))}</span></dd>')
        lo, hi = row.get("rank_low"), row.get("rank_high")
        band = "—" if lo is None or hi is None else (f"{lo}" if lo == hi else f"{lo}–{hi}")
        attrs = "".join(f'<div><dt>{esc(a.name_fr if f.lang == "fr" else a.name_en)}</dt>'
                        f"<dd>{f.num(row[a.id])}</dd></div>" for a in ATTRIBUTES)
        return (f'<div><dt>{t["rank"]}</dt><dd>{esc(rank_text)}</dd></div><div><dt>{t["change"]}</dt>{change}</div>'
                f'<div><dt>{t["col_leadership"]}</dt><dd>{f.num(row["leadership"])}</dd></div>{attrs}'
                f'<div><dt>{t["rank_band"]}</dt><dd>{band}</dd></div>')

    def changes_html(self, lang: str, bi: int, name: str) -> str:
        t = STRINGS[lang]
        rows = change_rows(self, lang, bi)
        if not rows:
            return ""
        return (f'<section aria-labelledby="chg"><h2 id="chg">{t["changes"]}</h2>\n'
                f'<div class="scroll" role="region" aria-labelledby="chg-caption" tabindex="0"><table class="chg">'
                f'<caption id="chg-caption">{esc(t["changes_caption"].format(name=name))}</caption>'
                f'<thead><tr><th scope="col">{t["col_compared"]}</th><th scope="col">{t["col_points"]}</th>'
                f'<th scope="col">{t["col_places"]}</th></tr></thead><tbody>\n{rows}</tbody></table></div>'
                f"</section>")

    def topics_html(self, lang: str, t: dict[str, str], name: str, rows: list[dict[str, Any]]) -> str:
        body = "".join(f'<tr><th scope="row">{r["name"]}</th><td>{r["posts"]}</td><td>{r["mentions"]}</td></tr>\n'
                       for r in self.topic_rows(lang, rows, escaped=True))
        if not body:
            return f"<p>{t['no_topics']}</p>"
        return (f'<div class="scroll" role="region" aria-labelledby="top-caption" tabindex="0">\n<table>\n'
                f'<caption id="top-caption">{esc(t["topics_caption"].format(name=name))}</caption>\n'
                f'<thead><tr><th scope="col">{t["col_topic"]}</th><th scope="col">{t["col_posts"]}</th>'
                f'<th scope="col">{t["col_mentions"]}</th></tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n</div>')

    def posts_html(self, f: Fmt, t: dict[str, str], rows: list[dict[str, Any]]) -> str:
        if not rows:
            return f"<p>{t['no_posts']}</p>"
        return '<ol class="posts">\n' + "".join(self.post_html(f, t, p) for p in rows) + "</ol>"

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
        parts += ["<td>", fixed(pa.array(history(self).rank[:, sample].ravel()), 0, "."), "</td>"]
        rows = join(*parts, "</tr>\n")
        return concat_groups(rows, [(i, i * k, (i + 1) * k) for i in range(n_brands)])

    def post_html(self, f: Fmt, t: dict[str, str], p: dict[str, Any]) -> str:
        """One post of the brand page (every text escaped); simulated posts link nowhere."""
        created = p["created_at"]
        day = f.date(created.date()) if created else ""
        handle = p["handle"] or ""
        by = f" · {esc(t['by'].format(handle=handle))}" if handle else ""
        counts = ", ".join(f.count(p[k] or 0, t[k]) for k in ("likes", "reposts", "replies", "quotes"))
        net = p.get("network") or "x"
        name = NETWORK_NAMES.get(net, net)
        if self.o.simulated:
            link = f'<p class="post-meta">{esc(t["simulated_post"].format(date=day, network=name))}</p>'
        else:
            link = (f'<p><a href="{esc(self.post_url(handle, p["post_id"], net))}" rel="external noopener">'
                    f'{esc(t["post_link"].format(date=day, network=name))}</a></p>')
        return (f'<li>\n<blockquote><p>{esc(p["text"] or "")}</p></blockquote>\n'
                f'<p class="post-meta"><time datetime="{created.isoformat() if created else ""}">{esc(day)}'
                f'</time>{by} · <strong>{esc(f.count(p["interactions"], t["interactions"]))}</strong>'
                f' ({esc(counts)})</p>\n{link}\n</li>\n')

    @staticmethod
    def post_url(handle: str | None, post_id: str | None, network: str = "x") -> str:
        """The post's page on its network (Bluesky: the record key of its `at://` URI, under the
        author's handle, else its DID)."""
        from urllib.parse import quote

        if network == "bluesky":
            parts = (post_id or "").removeprefix("at://").split("/")
            author = handle or parts[0]
            return f"https://bsky.app/profile/{quote(author, safe='.:')}/post/{quote(parts[-1], safe='')}"
        return f"https://x.com/{quote(handle or 'i', safe='')}/status/{quote(post_id or '', safe='')}"
