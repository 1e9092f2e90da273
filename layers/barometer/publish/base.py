"""The site builder's base: options, the in-memory site, and what every page shares (paths,
one page's rendering with its language links, number formats, the edition's window)."""

from __future__ import annotations

import gzip
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape as esc
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import Markup

from barometer.definitions import ATTRIBUTES
from barometer.publish.assets import build_assets, environment
from barometer.publish.data import SiteData
from barometer.publish.history import provisional_note
from barometer.publish.i18n import (
    LANG_NAMES,
    LANGS,
    STRINGS,
    Fmt,
    networks_text,
    page_path,
    relative_root,
    simulators_text,
)
from barometer.publish.incremental import DEFAULT_BUDGET_BYTES, Plan, full_plan
from barometer.publish.vector import safe_slug

DOWNLOADS = "downloads"
DOWNLOAD_TABLES = ("scores", "indicators", "topics")
SPLICE = "\x00rows\x00"  # placeholder of a page's big table (see `SiteBuilder.page`)
SHARE_IMAGE = "share.png"  # a language's leaderboard card, in its root folder
SHARE_DIR = "share"  # the brands' cards: share/<slug>.png (one a brand, every language)
FEED = "feed.xml"  # a language's Atom feed, at its root
NAV = ("home", "indicators", "compare", "methodology", "data", "archives")
OG_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
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
    stats: dict[str, Any] = field(default_factory=dict)  # costs reported apart (share images)

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


def _topic_namer(panel: Any = None) -> Callable[[str, str], str]:
    try:
        from barometer.topics import taxonomy_for

        tax = taxonomy_for(panel)  # the panel's own (`topics:` in its file)

        def name(tid: str, lang: str) -> str:
            try:
                return tax.name(tid, lang)
            except Exception:
                return tid.replace("_", " ").capitalize()

        return name
    except Exception:  # taxonomy unavailable: readable ids
        return lambda tid, lang: tid.replace("_", " ").capitalize()


class BuilderBase:
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
        self.data_tables = {t: self._only(data.download_table(t), self.plan.data_dates) for t in DOWNLOAD_TABLES}
        self.page_scores = self._only(data.scores, self.plan.page_dates)
        self.page_keys: dict[date, list[str]] = defaultdict(list)
        self.data_keys: dict[date, list[str]] = defaultdict(list)
        self.topic_name = _topic_namer(data.panel)
        self._topic_html: dict[str, dict[str, str]] = {}
        self.panel_networks = data.panel.networks  # (a property over every brand: read once)
        self.share_fps: dict[str, str] = {}  # share image key → fingerprint (kept in the manifest)
        # dates with an edition workbook: this run's, and earlier ones still online
        self.xlsx_dates: set[date] = {date.fromisoformat(d) for d, e in (self.plan.previous.get("dates") or {}).items()
                                      if any(k.endswith(".xlsx") and k in self.plan.existing
                                             for k in e.get("data_keys") or [])} & set(data.dates)

    @staticmethod
    def _only(t: pa.Table, days: set[date]) -> pa.Table:
        if t.num_rows == 0:
            return t
        return t.filter(pc.is_in(t["dt"], pa.array(sorted(days), pa.date32())))

    # -- helpers -----------------------------------------------------------------------
    def path(self, lang: str, kind: str, arg: str = "") -> str:
        return page_path(lang, self.default, kind, arg)

    def share_key(self, lang: str) -> str:
        """The leaderboard's share image of a language: the og:image of every page but a brand's."""
        return self.path(lang, "home") + SHARE_IMAGE

    def context(self, key_path: str, lang: str, kind: str, arg: str, updated_at: datetime | None = None,
                share: str | None = None, title: str = "", description: str = "") -> dict[str, Any]:
        """What base.html.j2 needs for one page: links between languages (relative; canonical and
        hreflang absolute when the site's URL is known), navigation, feed, share tags."""
        root = relative_root(key_path)

        def href(p: str) -> str:
            return (root + p) or "./"

        t, f = STRINGS[lang], Fmt(lang)
        base = self.o.base_url

        def url(p: str) -> str:  # absolute when the site's URL is known, else relative to this page
            return base + p if base else href(p)

        others = [{"lang": o, "name": LANG_NAMES[o], "href": href(self.path(o, kind, arg)),
                   "label": t["switch_to"]} for o in self.o.languages if o != lang]
        alternates = [{"lang": o, "href": url(self.path(o, kind, arg))} for o in self.o.languages]
        if len(alternates) > 1:
            alternates.append({"lang": "x-default", "href": url(self.path(self.default, kind, arg))})
        nav = [(k, href(self.path(lang, k)), t[f"nav_{k}"]) for k in NAV]
        section = {"brand": "home", "archive_day": "archives", "indicator": "indicators",
                   "network": "home"}.get(kind, kind)
        image = share or self.share_key(lang)
        return dict(
            lang=lang, t=t, f=f, root=root, href=href, assets=self.assets, nav=nav, section=section,
            others=others, alternates=alternates, canonical=url(key_path), simulated=self.o.simulated,
            site_name=self.d.panel.display_name(lang),
            provisional=self.provisional(lang),
            updated=self.updated_text(lang, updated_at), dt=self.d.dt,
            attributes=ATTRIBUTES, n_brands=len(self.brand_rows),
            description=description or self.intro(lang),
            simulated_text=t["simulated_text"].format(simulators=simulators_text(lang, self.panel_networks)),
            og_title=title, og_image=url(image), og_locale=OG_LOCALES[lang],
            og_alternate=[OG_LOCALES[o] for o in self.o.languages if o != lang],
            feed=href(self.path(lang, "home") + FEED))

    def intro(self, lang: str, network: str | None = None, n: int | None = None) -> str:
        """The leaderboard's opening sentence: the index of the panel's brands on its networks
        (several: combined), or on `network` alone; also every page's description."""
        t, f = STRINGS[lang], Fmt(lang)
        nets = (network,) if network else self.panel_networks
        return t["home_intro"].format(n=f.count(len(self.brand_rows) if n is None else n, t["n_brands"]),
                                      networks=networks_text(lang, nets, combined=network is None))

    def updated_text(self, lang: str, updated_at: datetime | None = None) -> str:
        """A page's "last updated" line: `updated_at` (default: the edition's) in the panel's time zone."""
        local, tz = (self.updated_local, self.tz) if updated_at is None else _tz_label(
            self.d.panel.timezone, updated_at)
        f = Fmt(lang)
        return STRINGS[lang]["updated"].format(when=f.datetime(local, tz) if local else f.date(self.d.dt))

    def page(self, key_path: str, template: str, lang: str, kind: str, arg: str,
             updated_at: datetime | None = None, unit: date | None = None, raw: bytes | None = None,
             share: str | None = None, title: str = "", description: str = "", **ctx: Any) -> None:
        """Render one page. With `raw`, the context's `rows` is a placeholder replaced by these
        UTF-8 bytes (big tables go from Arrow to the page's bytes without a str round trip).
        `share`: key of the page's og:image (default: the leaderboard's); `title`: its og:title."""
        body = self.env.get_template(template).render(
            **self.context(key_path, lang, kind, arg, updated_at, share, title, description), **ctx)
        if raw is None:
            self.site.files[key_path + "index.html"] = body.encode("utf-8")
        else:
            head, tail = body.split(SPLICE, 1)
            self.site.files[key_path + "index.html"] = b"".join((head.encode("utf-8"), raw,
                                                                 tail.encode("utf-8")))
        self.site.pages += 1
        if unit is not None:
            self.page_keys[unit].append(key_path + "index.html")

    def skeleton(self, template: str, lang: str, kind: str, fields: tuple[str, ...], brand_card: bool = True,
                 **ctx: Any) -> tuple[list[str], list[int]]:
        """A page template rendered once with a marker for each of `fields` (and for the page's
        argument, `arg`): ([literal, marker, literal, …], field index of each marker). `fill`
        makes one page from it: pages of one kind then cost a string join, not a render. The
        template must use those fields as plain `{{ x }}` (no test, filter or attribute); their
        values are given HTML-escaped. A field may stand for a value of the page's context
        (`updated`). `brand_card`: the page's og:image is its brand's card (else the leaderboard's)."""
        names = ("arg", *fields)
        marks = {n: f"\x01{i}\x01" for i, n in enumerate(names)}
        key_path = self.path(lang, kind, marks["arg"])
        share = f"{SHARE_DIR}/{marks['arg']}.png" if brand_card else None
        base = self.context(key_path, lang, kind, marks["arg"], share=share, title=marks.get("og_title", ""),
                            description=marks.get("og_description", ""))
        body = self.env.get_template(template).render(**{**base, **{n: Markup(m) for n, m in marks.items()}},
                                                      **ctx)
        parts = body.split("\x01")
        return parts[0::2], [int(x) for x in parts[1::2]]

    def fill(self, key_path: str, sk: tuple[list[str], list[int]], arg: str, values: tuple[str, ...],
             raw: bytes | memoryview | None = None, unit: date | None = None) -> None:
        """One page from a `skeleton`: its markers replaced by `arg` and the `values` of its fields
        (and, with `raw`, its `SPLICE` by these bytes, as `page` does)."""
        lits, idx = sk
        vals = (arg, *values)
        out = [lits[0]]
        for k, lit in zip(idx, lits[1:], strict=True):
            out.append(vals[k])
            out.append(lit)
        body = "".join(out)
        if raw is None:
            self.site.files[key_path + "index.html"] = body.encode("utf-8")
        else:
            head, tail = body.split(SPLICE, 1)
            self.site.files[key_path + "index.html"] = b"".join((head.encode("utf-8"), raw, tail.encode("utf-8")))
        self.site.pages += 1
        if unit is not None:
            self.page_keys[unit].append(key_path + "index.html")

    def provisional(self, lang: str) -> dict[str, str] | None:
        """The provisional banner of a language (computed once: every page shows it)."""
        cache: dict[str, dict[str, str] | None] = self.__dict__.setdefault("_provisional", {})
        if lang not in cache:
            cache[lang] = provisional_note(self.brand_rows, self.d.panel, lang)
        return cache[lang]

    # -- made by the other mixins of the builder ------------------------------------------------
    def download_links(self, lang: str, day: date) -> list[dict[str, Any]]:
        raise NotImplementedError

    def history_links(self, lang: str) -> list[dict[str, str]]:
        raise NotImplementedError

    def rank_chart(self, lang: str) -> dict[str, Any]:
        raise NotImplementedError

    def badge(self, lang: str, bi: int, rank_text: str, score: str) -> tuple[int, str]:
        raise NotImplementedError

    def window(self) -> tuple[date | None, date | None]:
        if not hasattr(self, "_window"):
            self._window: tuple[date | None, date | None] = (None, None)
            if self.brands.num_rows:
                self._window = (pc.min(self.brands["window_start"]).as_py(),
                                pc.max(self.brands["window_end"]).as_py())
        return self._window

    def series_names(self, lang: str) -> dict[str, str]:
        names = {a.id: (a.name_fr if lang == "fr" else a.name_en) for a in ATTRIBUTES}
        names["leadership"] = STRINGS[lang]["col_leadership"]
        return names

    @classmethod
    def fmt_estimate(cls, f: Fmt, lang: str, ind: str, r: dict[str, Any]) -> str:
        """An indicator row's value, marked "≈" (with "± std_error") when estimated from a sample."""
        text = cls.fmt_value(f, ind, r.get("value"))
        if not r.get("estimated") or r.get("value") is None:
            return text
        se = r.get("std_error")
        tail = "" if se is None else f' <small class="se">± {cls.fmt_value(f, ind, se)}</small>'
        return f'<abbr title="{STRINGS[lang]["estimated_title"]}">≈</abbr>&#8239;{text}{tail}'

    @staticmethod
    def estimated_legend(lang: str, rows: list[dict[str, Any]]) -> str:
        """The legend line of "≈" and "±", when one of the rows shown is estimated ("" otherwise)."""
        if not any(r.get("estimated") and r.get("value") is not None for r in rows):
            return ""
        return f'<p class="help legend-est">{esc(STRINGS[lang]["estimated_legend"])}</p>'

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
