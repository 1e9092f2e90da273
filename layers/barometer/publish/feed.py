"""Subscribe: an Atom feed (RFC 4287) of the editions, per language (`feed.xml`, `en/feed.xml`).

One entry per published ranking (the latest `FEED_ENTRIES`): its date, its top three and its
biggest moves, linking to the date's archive page. Ids are stable URNs (a UUID of the panel,
the language and the date), so a rebuilt feed never shows an edition twice; links are absolute
when the site's URL is known, else relative to the feed.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from html import escape as esc
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from barometer.publish.base import FEED, BuilderBase
from barometer.publish.i18n import STRINGS, Fmt, relative_root
from barometer.publish.vector import group_bounds

FEED_ENTRIES = 50
MOVES = 3


def _urn(*parts: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "barometer:" + ":".join(parts)))


def _ts(ts: datetime | None, day: date) -> str:
    ts = ts or datetime.combine(day, datetime.min.time())
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")  # `computed_at` is UTC


class FeedPages(BuilderBase):
    def editions(self) -> list[dict[str, Any]]:
        """Per published date, newest first: its top three and its biggest moves (computed once)."""
        cached: list[dict[str, Any]] | None = getattr(self, "_editions", None)
        if cached is not None:
            return cached
        s = self.d.scores
        if s.num_rows and len(self.d.dates) > FEED_ENTRIES:  # the latest editions only
            first = pa.scalar(self.d.dates[-FEED_ENTRIES], pa.date32())
            s = s.filter(pc.greater_equal(s["dt"], first))
        out: list[dict[str, Any]] = []
        bounds = (group_bounds(s["dt"]) if s.num_rows else [])[::-1][:FEED_ENTRIES]
        rank = s["rank"].to_numpy(zero_copy_only=False).astype(float) if s.num_rows else np.zeros(0)
        prev = (s["rank_prev"].to_numpy(zero_copy_only=False).astype(float) if s.num_rows else np.zeros(0))
        picks = []  # per edition: the rows of its top three and of its biggest moves
        for _, a, b in bounds:
            order = a + np.argsort(rank[a:b], kind="stable")
            delta = prev[a:b] - rank[a:b]
            moved = [a + j for j in np.argsort(-np.abs(np.nan_to_num(delta)), kind="stable")[:MOVES]
                     if np.isfinite(delta[j]) and delta[j] != 0]
            picks.append(([int(i) for i in order[:3]], [int(i) for i in moved]))
        rows = sorted({i for top, moved in picks for i in top + moved})
        at = {i: k for k, i in enumerate(rows)}
        shown = s.take(pa.array(rows, pa.int64())) if rows else s.slice(0, 0)
        names = pc.coalesce(shown["brand_name"], shown["brand_id"]).to_pylist() if rows else []
        lead = shown["leadership"].to_pylist() if rows else []
        for (day, a, b), (top, moved) in zip(bounds, picks, strict=True):
            stamp = pc.max(s["computed_at"].slice(a, b - a)).as_py()
            out.append({"day": day, "top": [(int(rank[i]), names[at[i]], lead[at[i]]) for i in top],
                        "moves": [(names[at[i]], int(prev[i] - rank[i]), int(rank[i])) for i in moved],
                        "updated": stamp})
        self._editions = out
        return out

    def feed(self, lang: str) -> None:
        t, f = STRINGS[lang], Fmt(lang)
        key = self.path(lang, "home") + FEED
        base = self.o.base_url
        root = relative_root(key)

        def url(p: str) -> str:
            return base + p if base else (root + p) or "./"

        editions = self.editions()
        updated = _ts(editions[0]["updated"], editions[0]["day"]) if editions else _ts(None, self.d.dt)
        site = self.d.panel.display_name(lang)
        out = ['<?xml version="1.0" encoding="utf-8"?>\n',
               f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{lang}">\n',
               f"<id>{_urn(self.d.panel.id, lang)}</id>\n",
               f'<title>{esc(t["feed_title"].format(site=site))}</title>\n',
               f'<subtitle>{esc(t["feed_subtitle"])}</subtitle>\n', f"<updated>{updated}</updated>\n",
               f"<author><name>{esc(site)}</name></author>\n",
               f'<link rel="self" type="application/atom+xml" href="{esc(url(key))}"/>\n',
               f'<link rel="alternate" type="text/html" href="{esc(url(self.path(lang, "home")))}"/>\n',
               '<generator>Opinion Barometer</generator>\n']
        for e in editions:
            day: date = e["day"]
            when = f.date(day)
            top = "".join(f"<li>{r}. {esc(n)} ({f.num(v)})</li>" for r, n, v in e["top"])
            moves = "".join(
                f"<li>{esc(n)} : {esc((t['up'] if d > 0 else t['down']).format(n=abs(d)))} ({r})</li>"
                if lang == "fr" else
                f"<li>{esc(n)}: {esc((t['up'] if d > 0 else t['down']).format(n=abs(d)))} (#{r})</li>"
                for n, d, r in e["moves"])
            html = (f"<p>{esc(t['feed_top'])}</p><ol>{top}</ol><p>{esc(t['feed_moves'])}</p>"
                    + (f"<ul>{moves}</ul>" if moves else f"<p>{esc(t['feed_no_moves'])}</p>"))
            stamp = _ts(e["updated"], day)
            colon = " : " if lang == "fr" else ": "
            summary = t["archive_day_title"].format(date=when) + colon + ", ".join(n for _, n, _ in e["top"])
            out += ["<entry>\n", f"<id>{_urn(self.d.panel.id, lang, day.isoformat())}</id>\n",
                    f"<title>{esc(t['archive_day_title'].format(date=when))}</title>\n",
                    f"<updated>{stamp}</updated>\n<published>{stamp}</published>\n",
                    f'<link rel="alternate" type="text/html" '
                    f'href="{esc(url(self.path(lang, "archive_day", day.isoformat())))}"/>\n',
                    f"<summary>{esc(summary)}</summary>\n",
                    f'<content type="html">{esc(html)}</content>\n', "</entry>\n"]
        out.append("</feed>\n")
        self.site.files[key] = "".join(out).encode("utf-8")
