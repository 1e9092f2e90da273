"""The leaderboard, methodology, data and archive pages, and the per-date downloads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pyarrow.compute as pc
from markupsafe import Markup, escape

from barometer.definitions import ATTRIBUTES, INDICATORS, indicators_of
from barometer.publish.base import SPLICE, BuilderBase, _tz_label
from barometer.publish.i18n import METHOD, STRINGS, Fmt, networks_text, relative_root
from barometer.publish.vector import (
    Keyed,
    concat_groups_bytes,
    concat_groups_views,
    group_bounds,
    leaderboard_columns,
    leaderboard_rows,
)

PRINT_TOP = 25  # rows of the leaderboard a printed edition shows
# An archive page's own fields, in `fill` order (see `BuilderBase.skeleton`).
ARCHIVE_FIELDS = ("day_title", "updated", "pager", "caption", "downloads")
NETWORK_NAMES = {"x": "X", "bluesky": "Bluesky"}
NETWORK_TEXT = {"fr": {"label": "Réseau", "all": "Tous les réseaux", "title": "Classement sur {net}"},
                "en": {"label": "Network", "all": "All networks", "title": "Leaderboard on {net}"}}


class SitePages(BuilderBase):
    def home(self, lang: str) -> None:
        key = self.path(lang, "home")
        prefix = relative_root(key) + self.path(lang, "brand", "\0").split("\0")[0]
        rows = leaderboard_rows(self.brands, lang, prefix, bars=True)
        w = self.window()
        body = concat_groups_bytes(rows, [(None, 0, len(rows))]) if len(rows) else [b""]
        self.page(key, "leaderboard.html.j2", lang, "home", "", raw=body[0], networks=self.network_switch(lang, key),
                  networks_label=NETWORK_TEXT[lang]["label"], heading="",
                  rows=Markup(SPLICE), n=self.brands.num_rows, window=w, ranks=self.rank_chart(lang),
                  edition=[link for tb in self.download_links(lang, self.d.dt) for link in tb["links"]
                           if tb["table"] in (STRINGS[lang]["table_scores"], "XLSX")],
                  print_top=PRINT_TOP, title=STRINGS[lang]["card_board"].format(date=Fmt(lang).date(self.d.dt)),
                  intro=self.intro(lang, n=self.brands.num_rows))

    def network_switch(self, lang: str, key: str, current: str | None = None) -> list[dict[str, Any]]:
        """The leaderboard's network switch (all / X / Bluesky): plain links, no JS; [] on one network."""
        nets = self.d.panel.networks
        if len(nets) < 2:
            return []
        root = relative_root(key)
        items = [{"href": (root + self.path(lang, "home")) or "./", "label": NETWORK_TEXT[lang]["all"],
                  "current": current is None}]
        items += [{"href": root + self.path(lang, "network", n), "label": NETWORK_NAMES.get(n, n),
                   "current": current == n} for n in nets]
        return items

    def network_pages(self, lang: str) -> None:
        """One leaderboard per network (a panel on several): each brand there ranked on its
        accounts and mentions on that network alone."""
        scores = self.d.network_scores
        if scores is None or len(self.d.panel.networks) < 2:
            return
        for net in self.d.panel.networks:
            rows_t = scores.filter(pc.equal(scores["network"], net))
            key = self.path(lang, "network", net)
            prefix = relative_root(key) + self.path(lang, "brand", "\0").split("\0")[0]
            rows = leaderboard_rows(rows_t, lang, prefix, bars=True) if rows_t.num_rows else []
            body = concat_groups_bytes(rows, [(None, 0, len(rows))]) if len(rows) else [b""]
            title = NETWORK_TEXT[lang]["title"].format(net=NETWORK_NAMES.get(net, net))
            self.page(key, "leaderboard.html.j2", lang, "network", net, raw=body[0],
                      networks=self.network_switch(lang, key, net), networks_label=NETWORK_TEXT[lang]["label"],
                      heading=title, rows=Markup(SPLICE),
                      n=rows_t.num_rows, window=self.window(), ranks=None, edition=[], print_top=PRINT_TOP,
                      title=title, intro=self.intro(lang, net, n=rows_t.num_rows))

    def methodology(self, lang: str) -> None:
        s = self.d.panel.scoring
        m = dict(METHOD[lang], intro=METHOD[lang]["intro"].format(networks=networks_text(lang, self.panel_networks)))
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
        f, t = Fmt(lang), STRINGS[lang]
        days = [{"date": f.date(d), "iso": d.isoformat(), "tables": self.download_links(lang, d)}
                for d in reversed(self.d.dates)]
        runs = sorted(self.d.runs.to_pylist(), key=lambda r: ("collect", "score", "publish").index(r["stage"])
                      if r["stage"] in ("collect", "score", "publish") else 9)
        runs = [r for r in runs if r["stage"] != "publish"]
        clock, tz = self.run_clock(runs)
        run_rows = [{"stage": r["stage"], "status": r["status"], "started": clock(r["started_at"]),
                     "finished": clock(r["finished_at"]), "duration": _duration(f, r["started_at"], r["finished_at"]),
                     "brands": f.int(r["brands_ok"] or 0)} for r in runs]
        note = (t["runs_clock_sim"] if self.o.simulated else t["runs_clock"]).format(tz=tz)
        nets = self.panel_networks
        networks_note = t["data_networks"].format(networks=networks_text(lang, nets)) if len(nets) > 1 else ""
        self.page(self.path(lang, "data"), "data.html.j2", lang, "data", "", days=days, runs=run_rows, tz=tz,
                  clock_note=note, history=self.history_links(lang), networks_note=networks_note)

    def run_clock(self, runs: list[dict[str, Any]]) -> tuple[Callable[[datetime | None], str], str]:
        """How the data page shows a run's times: in the panel's time zone, on the run's own clock.
        A run on the simulator replays date D at D+1 05:00 UTC (the scheduled run's moment, see
        `barometer.clock`) whenever it really runs: its times are shifted so the first stage
        starts at that moment, durations kept."""
        shift = timedelta(0)
        starts = [r["started_at"] for r in runs if r["started_at"]]
        if self.o.simulated and starts:
            shift = datetime.combine(self.d.dt + timedelta(days=1), time(5)) - min(starts)

        def clock(ts: datetime | None) -> str:
            if ts is None:
                return ""
            local, _ = _tz_label(self.d.panel.timezone, ts + shift)
            return local.strftime("%Y-%m-%d %H:%M") if local else ""

        return clock, _tz_label(self.d.panel.timezone, datetime(2000, 1, 1))[1]

    def archive_columns(self) -> dict[str, Keyed]:
        """The archive leaderboards' language-independent columns (computed once)."""
        if not hasattr(self, "_archive_columns"):
            self._archive_columns = leaderboard_columns(self.page_scores) if self.page_scores.num_rows else {}
        return self._archive_columns

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
        updated = {r["dt"]: r["computed_at_max"] for r in scores.group_by("dt").aggregate(
            [("computed_at", "max")]).to_pylist()}
        root = relative_root(self.path(lang, "archive_day", "x"))
        prefix = root + self.path(lang, "brand", "\0").split("\0")[0]
        rows = leaderboard_rows(scores, lang, prefix, bars=False, columns=self.archive_columns())
        tables = concat_groups_views(rows, bounds)
        # One render of the template, then a string join per date (see `skeleton`).
        sk = self.skeleton("archive_day.html.j2", lang, "archive_day", ARCHIVE_FIELDS, brand_card=False,
                           rows=Markup(SPLICE))
        for (day, _, _), html in zip(bounds, tables, strict=True):
            iso = day.isoformat()
            fields = self.archive_fields(lang, day, root, updated.get(day))
            self.fill(self.path(lang, "archive_day", iso), sk, iso, fields, raw=html, unit=day)

    def archive_fields(self, lang: str, day: date, root: str, updated_at: datetime | None) -> tuple[str, ...]:
        """An archive page's `ARCHIVE_FIELDS`, HTML-escaped: its title, last update, pager (previous
        and next dates, the latest ranking), caption and download links (or "being prepared")."""
        t, f = STRINGS[lang], Fmt(lang)
        if not hasattr(self, "_date_index"):
            self._date_index = {d: i for i, d in enumerate(self.d.dates)}
        dates, i = self.d.dates, self._date_index[day]
        pager = []
        for j, rel, label in ((i - 1, "prev", "previous"), (i + 1, "next", "next")):
            if 0 <= j < len(dates):
                href, when = escape(root + self.path(lang, "archive_day", dates[j].isoformat())), f.date(dates[j])
                pager.append(f'<li><a href="{href}" rel="{rel}">{escape(t[label])} ({escape(when)})</a></li>')
        if day != self.d.dt:
            home = escape(root + self.path(lang, "home") or "./")
            pager.append(f'<li><a href="{home}">{escape(t["see_latest"])}</a></li>')
        links = []
        for tb in self.download_links(lang, day):
            links += [f'<li><a href="{escape(root + link["path"])}" download>{escape(link["label"])}</a></li>\n'
                      for link in tb["links"]]
            if not tb["links"] and tb["pending"]:
                links.append(f'<li>{escape(tb["table"])} : {escape(t["pending"])}</li>')
        return (str(escape(t["archive_day_title"].format(date=f.date(day)))),
                str(escape(self.updated_text(lang, updated_at))), "".join(pager),
                str(escape(t["archive_caption"].format(date=f.date(day)))), "".join(links))


def _duration(f: Fmt, start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    s = max(0, round((end - start).total_seconds()))
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"
