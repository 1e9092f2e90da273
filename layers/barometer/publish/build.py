"""Build the static site in memory: {relative key: bytes}, deterministic for the same lake data.

Nothing here depends on the clock: "last updated" is the scores' `computed_at`, assets are
named by their content hash, so building the same (panel, date) twice gives the same bytes
(and the upload then skips every object).
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape as esc
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import Markup, escape

from barometer.publish import charts
from barometer.publish.assets import build_assets, environment
from barometer.publish.data import SiteData
from barometer.publish.i18n import LANG_NAMES, LANGS, METHOD, STRINGS, Fmt, page_path, relative_root
from barometer.publish.incremental import (
    DEFAULT_BUDGET_BYTES,
    MANIFEST_VERSION,
    Plan,
    build_version,
    full_plan,
    manifest_bytes,
)
from barometer.publish.upload import MANIFEST
from barometer.publish.vector import (
    concat_groups,
    concat_groups_bytes,
    csv_bytes,
    fixed,
    group_bounds,
    join,
    json_documents,
    leaderboard_columns,
    leaderboard_rows,
    safe_slug,
)
from barometer.score.definitions import ATTRIBUTES, INDICATORS, indicators_of

DOWNLOADS = "downloads"
DOWNLOAD_TABLES = ("scores", "indicators", "topics")
SPLICE = "\x00rows\x00"  # placeholder of a page's big table (see `SiteBuilder.page`)
PARALLEL_MIN_BRANDS = 200  # from this many brands, the other languages build in a forked process

# How an indicator's raw value reads.
VALUE_FORMAT = {
    "community": "int", "community_growth": "growth", "centrality": "float4", "content_volume": "int",
    "mentions": "int", "mention_reach": "int", "interactions": "int", "engagement_rate": "rate",
}


@dataclass(frozen=True)
class PublishOptions:
    """How the site is built and published."""

    simulated: bool = False  # show the "simulated data" notice on every page
    base_url: str = ""  # absolute site URL ("https://…/"): canonical + hreflang links; links stay relative
    languages: tuple[str, ...] = ("fr", "en")  # the first one lives at the root
    site_url: str | None = None  # reported in the summary (defaults to the target's location)
    top_posts: int = 5
    history_rows: int = 30  # rows of a chart's data table (sampled evenly when the history is longer)
    workers: int = 8  # parallel uploads within one upload phase (S3)
    # Lake part files converted into downloads per run (see `incremental`); the rest follows.
    downloads_budget_bytes: int = DEFAULT_BUDGET_BYTES

    def fingerprint(self) -> str:
        """What of the options shows in the permanent pages (see `incremental`)."""
        return f"{self.simulated}|{self.base_url}|{','.join(self.languages)}"

    def __post_init__(self) -> None:
        if self.base_url and not self.base_url.endswith("/"):
            object.__setattr__(self, "base_url", self.base_url + "/")
        if not self.languages or any(lang not in LANGS for lang in self.languages):
            raise ValueError(f"languages must be among {LANGS}, got {self.languages!r}")


@dataclass
class Site:
    files: dict[str, bytes] = field(default_factory=dict)
    pages: int = 0

    @property
    def bytes(self) -> int:
        return sum(len(b) for b in self.files.values())

    def gzipped_size(self, key: str) -> int:
        return len(gzip.compress(self.files[key], 9))


def _tz_label(panel_tz: str, ts: datetime | None) -> tuple[datetime | None, str]:
    if ts is None:
        return None, "UTC"
    try:
        from datetime import UTC
        from zoneinfo import ZoneInfo

        local = ts.replace(tzinfo=UTC).astimezone(ZoneInfo(panel_tz))
        return local.replace(tzinfo=None), panel_tz
    except Exception:  # no tz database on this host: stay in UTC
        return ts, "UTC"


def _esc_in(escaped: dict[str, str], key: str) -> str:
    """The escaped name of `key` when known, else `key` escaped."""
    v = escaped.get(key)
    return esc(key) if v is None else v


def _topic_namer() -> Callable[[str, str], str]:
    try:
        from barometer.topics import default_taxonomy

        tax = default_taxonomy()

        def name(tid: str, lang: str) -> str:
            try:
                return tax.name(tid, lang)
            except Exception:
                return tid.replace("_", " ").capitalize()

        return name
    except Exception:  # taxonomy unavailable: readable ids
        return lambda tid, lang: tid.replace("_", " ").capitalize()


class SiteBuilder:
    def __init__(self, data: SiteData, options: PublishOptions, plan: Plan | None = None) -> None:
        self.d = data
        self.o = options
        self.plan = plan or full_plan(data.dates)
        self.env = environment()
        self.default = options.languages[0]
        self.assets, asset_files = build_assets()
        self.site = Site(files=dict(asset_files))
        self.brands = data.scores.filter(pc.equal(data.scores["dt"], pa.scalar(data.dt, pa.date32())))
        self.brand_rows: list[dict[str, Any]] = self.brands.to_pylist()
        self.slug = {r["brand_id"]: safe_slug(r["brand_id"]) for r in self.brand_rows}
        local, self.tz = _tz_label(data.panel.timezone, data.updated_at)
        self.updated_local = local
        self.data_tables = {t: self._only(getattr(data, t), self.plan.data_dates) for t in DOWNLOAD_TABLES}
        self.page_scores = self._only(data.scores, self.plan.page_dates)
        self.page_keys: dict[date, list[str]] = defaultdict(list)
        self.data_keys: dict[date, list[str]] = defaultdict(list)
        self.topic_name = _topic_namer()
        self._topic_html: dict[str, dict[str, str]] = {}

    @staticmethod
    def _only(t: pa.Table, days: set[date]) -> pa.Table:
        if t.num_rows == 0:
            return t
        return t.filter(pc.is_in(t["dt"], pa.array(sorted(days), pa.date32())))

    # -- helpers -----------------------------------------------------------------------
    def path(self, lang: str, kind: str, arg: str = "") -> str:
        return page_path(lang, self.default, kind, arg)

    def page(self, key_path: str, template: str, lang: str, kind: str, arg: str,
             updated_at: datetime | None = None, unit: date | None = None, raw: bytes | None = None,
             **ctx: Any) -> None:
        """Render one page. With `raw`, the context's `rows` is a placeholder replaced by these
        UTF-8 bytes (big tables go from Arrow to the page's bytes without a str round trip)."""
        root = relative_root(key_path)

        def href(p: str) -> str:
            return (root + p) or "./"

        f = Fmt(lang)
        others = [{"lang": o, "name": LANG_NAMES[o], "href": href(self.path(o, kind, arg)),
                   "label": STRINGS[lang]["switch_to"]} for o in self.o.languages if o != lang]
        base = self.o.base_url
        alternates = ([{"lang": o, "href": base + self.path(o, kind, arg)} for o in self.o.languages]
                      if base else [])
        nav = [(k, href(self.path(lang, k)), STRINGS[lang][f"nav_{k}"])
               for k in ("home", "methodology", "data", "archives")]
        section = {"brand": "home", "archive_day": "archives"}.get(kind, kind)
        local, tz = (self.updated_local, self.tz) if updated_at is None else _tz_label(
            self.d.panel.timezone, updated_at)
        when = f.datetime(local, tz) if local else f.date(self.d.dt)
        body = self.env.get_template(template).render(
            lang=lang, t=STRINGS[lang], f=f, root=root, href=href, assets=self.assets, nav=nav,
            section=section, others=others, alternates=alternates,
            canonical=(base + key_path) if base else "", simulated=self.o.simulated,
            site_name=self.d.panel.name, updated=STRINGS[lang]["updated"].format(when=when),
            dt=self.d.dt, attributes=ATTRIBUTES, n_brands=len(self.brand_rows), **ctx)
        if raw is None:
            self.site.files[key_path + "index.html"] = body.encode("utf-8")
        else:
            head, tail = body.split(SPLICE, 1)
            self.site.files[key_path + "index.html"] = b"".join((head.encode("utf-8"), raw,
                                                                 tail.encode("utf-8")))
        self.site.pages += 1
        if unit is not None:
            self.page_keys[unit].append(key_path + "index.html")

    # -- build -------------------------------------------------------------------------
    def build(self) -> Site:
        langs = list(self.o.languages)
        forked = self._fork(langs[1:]) if self._parallel() else None
        self.downloads()
        for lang in langs[:1] if forked is not None else langs:
            self.language(lang)
        if forked is not None:
            files, pages, page_keys = forked.result()
            self.site.files.update(files)
            self.site.pages += pages
            for d, keys in page_keys.items():
                self.page_keys[d].extend(keys)
        return self.site

    def language(self, lang: str) -> None:
        self.home(lang)
        self.brand_pages(lang)
        self.methodology(lang)
        self.data_page(lang)
        self.archives(lang)

    def _parallel(self) -> bool:
        """Build the other languages in a forked process (CPU-bound rendering: threads would not
        help) when the site is big enough to pay for it and a second core is there."""
        import multiprocessing as mp
        import os

        return (len(self.o.languages) > 1 and len(self.brand_rows) >= PARALLEL_MIN_BRANDS
                and (os.cpu_count() or 1) > 1 and "fork" in mp.get_all_start_methods())

    def _fork(self, langs: list[str]) -> Any:
        """Start building `langs` in a forked child; `.result()` gives (files, pages, page_keys).
        The child inherits this builder (data, caches) as it is at the fork."""
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        global _FORKED
        _FORKED = self
        try:
            pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork"))
            future = pool.submit(_build_languages, langs)
        finally:
            _FORKED = None
        pool.shutdown(wait=False)
        return future

    def downloads(self) -> None:
        for table in DOWNLOAD_TABLES:
            t = self.data_tables[table]
            if t.num_rows == 0:
                continue
            bounds = group_bounds(t["dt"])
            docs = json_documents(t, bounds)
            for (day, a, b), doc in zip(bounds, docs, strict=True):
                base = f"{DOWNLOADS}/{day.isoformat()}/{table}"
                self.site.files[base + ".csv"] = csv_bytes(t.slice(a, b - a))
                self.site.files[base + ".json"] = doc
                self.data_keys[day].extend([base + ".csv", base + ".json"])

    def download_links(self, lang: str, day: date) -> list[dict[str, Any]]:
        t = STRINGS[lang]
        out = []
        for table in DOWNLOAD_TABLES:
            name = t[f"table_{table}"]
            links = []
            if day in self.plan.downloads and day in self.d.table_dates.get(table, ()):
                when = Fmt(lang).date(day)
                links = [{"fmt": fmt.upper(), "path": f"{DOWNLOADS}/{day.isoformat()}/{table}.{fmt}",
                          "label": t["download"].format(table=name, date=when, fmt=fmt.upper())}
                         for fmt in ("csv", "json")]
            out.append({"table": name, "links": links, "pending": day in self.plan.pending
                        and day not in self.plan.downloads})
        return out

    def home(self, lang: str) -> None:
        key = self.path(lang, "home")
        prefix = relative_root(key) + self.path(lang, "brand", "\0").split("\0")[0]
        rows = leaderboard_rows(self.brands, lang, prefix, bars=True)
        w = self.window()
        body = concat_groups_bytes(rows, [(None, 0, len(rows))]) if len(rows) else [b""]
        self.page(key, "leaderboard.html.j2", lang, "home", "", raw=body[0],
                  rows=Markup(SPLICE), n=self.brands.num_rows, window=w)

    def window(self) -> tuple[date | None, date | None]:
        if not hasattr(self, "_window"):
            self._window: tuple[date | None, date | None] = (None, None)
            if self.brands.num_rows:
                self._window = (pc.min(self.brands["window_start"]).as_py(),
                                pc.max(self.brands["window_end"]).as_py())
        return self._window

    # -- brand pages -------------------------------------------------------------------
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

    def series_names(self, lang: str) -> dict[str, str]:
        names = {a.id: (a.name_fr if lang == "fr" else a.name_en) for a in ATTRIBUTES}
        names["leadership"] = STRINGS[lang]["col_leadership"]
        return names

    @staticmethod
    def post_url(handle: str | None, post_id: str | None) -> str:
        from urllib.parse import quote

        return f"https://x.com/{quote(handle or 'i', safe='')}/status/{quote(post_id or '', safe='')}"

    @staticmethod
    def fmt_value(f: Fmt, ind: str, v: float | None) -> str:
        kind = VALUE_FORMAT.get(ind, "float")
        if v is None:
            return f.num(None)
        if kind == "int":
            return f.int(v)
        if kind == "growth":
            return f.pct(v, 0, signed=True)
        if kind == "rate":
            return f.pct(v, 3, ratio=False)
        if kind == "float4":
            return f.num(v, 4)
        return f.num(v, 2)

    def change(self, lang: str, row: dict[str, Any]) -> dict[str, str]:
        t = STRINGS[lang]
        prev, rank = row.get("rank_prev"), row.get("rank")
        if prev is None or rank is None:
            return {"cls": "new", "sym": "", "text": t["new"]}
        d = prev - rank
        if d > 0:
            return {"cls": "up", "sym": f"▲ {d}", "text": t["up"].format(n=d)}
        if d < 0:
            return {"cls": "dn", "sym": f"▼ {-d}", "text": t["down"].format(n=-d)}
        return {"cls": "eq", "sym": "=", "text": t["same"]}

    def topic_rows(self, lang: str, rows: list[dict[str, Any]], limit: int = 12, escaped: bool = False
                   ) -> list[dict[str, Any]]:
        """The brand's topics, most present first; `escaped`: names HTML-escaped (cached)."""
        f = Fmt(lang)
        if escaped:
            cache = self._topic_html.setdefault(lang, {})

            def name(tid: str) -> str:
                if tid not in cache:
                    cache[tid] = esc(self.topic_name(tid, lang))
                return cache[tid]
        else:
            def name(tid: str) -> str:
                return self.topic_name(tid, lang)
        by: dict[str, dict[str, Any]] = {}
        for r in rows:
            e = by.setdefault(r["topic"], {"topic": r["topic"], "posts": None, "mentions": None})
            if r["source"] in ("posts", "mentions"):
                e[r["source"]] = r["share"]
        ordered = sorted(by.values(), key=lambda e: (-max(e["posts"] or 0, e["mentions"] or 0), e["topic"]))
        return [{"name": name(e["topic"]), "posts": f.pct(e["posts"]),
                 "mentions": f.pct(e["mentions"])} for e in ordered[:limit]]

    # -- other pages -------------------------------------------------------------------
    def methodology(self, lang: str) -> None:
        s = self.d.panel.scoring
        m = METHOD[lang]
        groups = []
        for a in ATTRIBUTES:
            groups.append({
                "id": a.id, "name": a.name_fr if lang == "fr" else a.name_en,
                "weight": s.attribute_weights.get(a.id, 1.0),
                "indicators": [{"id": i.id, "name": i.name_fr if lang == "fr" else i.name_en,
                                "definition": i.definition_fr if lang == "fr" else i.definition_en,
                                "transform": m[f"transform_{i.transform}"],
                                "weight": s.indicator_weights.get(i.id, 1.0)} for i in indicators_of(a.id)]})
        f = Fmt(lang)
        settings = [(m["s_window"], str(s.window_days)),
                    (m["s_growth"], m[f"growth_{s.growth_reference}"].split(":")[-1].strip()),
                    (m["s_norm"], s.normalisation), (m["s_agg"], s.aggregation),
                    (m["s_draws"], f.int(s.sensitivity_draws)), (m["s_coverage"], f.pct(s.min_coverage, 0))]
        goalposts = [{"name": next((i.name_fr if lang == "fr" else i.name_en for i in INDICATORS
                                    if i.id == k), k), "low": f.num(v[0], 2), "high": f.num(v[1], 2)}
                     for k, v in sorted(s.goalposts.items())]
        self.page(self.path(lang, "methodology"), "methodology.html.j2", lang, "methodology", "",
                  m=m, scoring=s, groups=groups, settings=settings, goalposts=goalposts,
                  min_coverage=f.pct(s.min_coverage, 0))

    def data_page(self, lang: str) -> None:
        f = Fmt(lang)
        days = [{"date": f.date(d), "iso": d.isoformat(), "tables": self.download_links(lang, d)}
                for d in reversed(self.d.dates)]
        runs = sorted(self.d.runs.to_pylist(), key=lambda r: ("collect", "score", "publish").index(r["stage"])
                      if r["stage"] in ("collect", "score", "publish") else 9)
        run_rows = [{"stage": r["stage"], "status": r["status"],
                     "started": r["started_at"].strftime("%Y-%m-%d %H:%M") if r["started_at"] else "",
                     "finished": r["finished_at"].strftime("%Y-%m-%d %H:%M") if r["finished_at"] else "",
                     "brands": f.int(r["brands_ok"] or 0)} for r in runs if r["stage"] != "publish"]
        self.page(self.path(lang, "data"), "data.html.j2", lang, "data", "", days=days, runs=run_rows)

    def archives(self, lang: str) -> None:
        f = Fmt(lang)
        dates = self.d.dates
        self.page(self.path(lang, "archives"), "archives.html.j2", lang, "archives", "",
                  days=[{"date": f.date(d), "path": self.path(lang, "archive_day", d.isoformat())}
                        for d in reversed(dates)])
        scores = self.page_scores
        if scores.num_rows == 0:
            return
        bounds = group_bounds(scores["dt"])
        index = {d: i for i, d in enumerate(dates)}
        updated = {r["dt"]: r["computed_at_max"] for r in scores.group_by("dt").aggregate(
            [("computed_at", "max")]).to_pylist()}
        sample_key = self.path(lang, "archive_day", "x")
        prefix = relative_root(sample_key) + self.path(lang, "brand", "\0").split("\0")[0]
        if not hasattr(self, "_archive_columns"):
            self._archive_columns = leaderboard_columns(scores)
        rows = leaderboard_rows(scores, lang, prefix, bars=False, columns=self._archive_columns)
        tables = concat_groups_bytes(rows, bounds)
        for (day, a, b), html in zip(bounds, tables, strict=True):
            i = index[day]
            prev = dates[i - 1] if i > 0 else None
            nxt = dates[i + 1] if i + 1 < len(dates) else None
            self.page(self.path(lang, "archive_day", day.isoformat()), "archive_day.html.j2", lang,
                      "archive_day", day.isoformat(), updated_at=updated.get(day), unit=day,
                      day=day, rows=Markup(SPLICE), raw=html, n=b - a, downloads=self.download_links(lang, day),
                      prev=self.path(lang, "archive_day", prev.isoformat()) if prev else "",
                      next=self.path(lang, "archive_day", nxt.isoformat()) if nxt else "",
                      prev_date=f.date(prev) if prev else "", next_date=f.date(nxt) if nxt else "",
                      latest=day == self.d.dt)

    def manifest(self) -> None:
        p = self.plan
        entries: dict[str, Any] = {}
        old = p.previous.get("dates", {})
        for d in self.d.dates:
            iso = d.isoformat()
            prev = old.get(iso) or {}
            e = {"page": p.page_fps.get(d, ""), "page_keys": sorted(self.page_keys.get(d, []))}
            if d not in p.page_dates:
                e = {"page": prev.get("page", ""), "page_keys": prev.get("page_keys", [])}
            if d in p.data_dates:
                e.update(data=p.data_fps.get(d, ""), data_keys=sorted(self.data_keys.get(d, [])))
            elif "data" in prev:
                e.update(data=prev["data"], data_keys=prev.get("data_keys", []))
            entries[iso] = e
        self.site.files[MANIFEST] = manifest_bytes({"version": MANIFEST_VERSION, "build": build_version(),
                                                    "panel": self.d.panel.id, "dt": self.d.dt.isoformat(),
                                                    "pending": [d.isoformat() for d in p.pending],
                                                    "dates": entries})


_FORKED: SiteBuilder | None = None  # the builder a forked child works on (set around the fork)


def _build_languages(langs: list[str]) -> tuple[dict[str, bytes], int, dict[date, list[str]]]:
    """In the forked child: the pages of `langs` only (the parent keeps the rest)."""
    b = _FORKED
    assert b is not None
    b.site = Site()
    b.page_keys = defaultdict(list)
    for lang in langs:
        b.language(lang)
    return b.site.files, b.site.pages, dict(b.page_keys)


def build_site(data: SiteData, options: PublishOptions, plan: Plan | None = None) -> Site:
    """The site for (panel, dt) as {key: bytes}: every page that changes daily, plus the archive
    pages and downloads the plan asks for (default: all, and no manifest); with a plan, also
    `site-manifest.json`."""
    builder = SiteBuilder(data, options, plan)
    site = builder.build()
    if plan is not None:
        builder.manifest()
    return site

