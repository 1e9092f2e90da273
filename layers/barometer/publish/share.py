"""Share and embed: the OpenGraph/Twitter card images (1200 × 630 PNG) and the brands' SVG badges.

Cards are drawn at publish time by `raster` (no browser): one per language for the leaderboard
(its first five brands), and one per brand (`share/<slug>.png`: name, handles, rank, index,
date, change) that its page shows in every language (figures read alike: `#3`, an ISO date,
bilingual labels; one card a brand halves the drawing). Every other page shares its
language's leaderboard card. Cards are made for the latest edition only,
and only when what they show changed: each card's fingerprint (what it shows + the drawing
code's version) is kept in the site manifest, and a card whose fingerprint is unchanged and
whose object is still in the target is not drawn again. Their cost is reported apart
(`Site.stats["share_images"]`).
"""

from __future__ import annotations

import hashlib
import time
from html import escape as esc
from pathlib import Path
from typing import Any

import numpy as np

from barometer.publish import raster
from barometer.publish.base import SHARE_DIR, BuilderBase
from barometer.publish.i18n import STRINGS, Fmt, networks_text

W, H = 1200, 630
WHITE, SOFT, INK, MUTED, ACCENT, TRACK = "#ffffff", "#f4f4f5", "#18181b", "#52525b", "#1d4ed8", "#e4e4e7"
UP, DOWN, NOTICE_BG, NOTICE_INK = "#166534", "#b91c1c", "#fef3c7", "#78350f"
BADGE_H = 20


def _version() -> str:
    """Version of the drawing: this module, the rasteriser and the glyph atlas."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in (here / "share.py", here / "raster.py", raster.ATLAS):
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


BRAND_BANDS = [(128, 268), (296, 440), (498, 516), (528, 570)]  # rows a brand card draws on its template


def _template(site: str, tagline: str, simulated: str) -> raster.Canvas:
    """What every card of a language shows: the site band and the rule under it, the tagline."""
    c = raster.Canvas(W, H, raster.Palette(), WHITE)
    c.rect(0, 0, W, 96, SOFT)
    c.rect(0, 96, W, 104, ACCENT)
    face, text = raster.fit(site, ("head", "body"), 700 if simulated else 1080)
    c.text(text, 60, 60, face, INK, SOFT)
    if simulated:
        width = raster.faces()["small"].width(simulated) + 32
        c.rect(W - 60 - width, 28, W - 60, 70, NOTICE_BG)
        c.text(simulated, W - 60 - width / 2, 57, "small", NOTICE_INK, NOTICE_BG, anchor="middle")
    c.text(tagline, 60, H - 34, "small", MUTED, WHITE)
    return c


def brand_frame(base: raster.Canvas, of: str, index_label: str, when: str) -> tuple[raster.Frame, float]:
    """The language's brand-card template (with what every brand's card shows: the brand count,
    the index's label, the date) and the x where a card's change follows the date."""
    c = base.copy()
    c.text(of, 60, 470, "body", MUTED, WHITE)
    c.text(index_label, W - 60, 470, "body", MUTED, WHITE, anchor="end")
    c.rect(60, 500, W - 60, 514, TRACK)
    width = c.text(when, 60, 556, "body", INK, WHITE)
    for ink in (INK, MUTED, ACCENT, UP, DOWN):  # every colour a card uses, before the template is frozen
        c.palette.ramp(ink, WHITE)
    return raster.Frame(c, BRAND_BANDS), 60 + width + 24


def brand_card(frame: raster.Frame, change_x: float, name: str, handles: str, rank: str, score: str,
               value: float, change: str, change_color: str) -> bytes:
    c = frame.canvas()
    face, text = raster.fit(name, ("title", "title_s", "head"), W - 120)
    c.text(text, 60, 200, face, INK, WHITE)
    if handles:
        hf, ht = raster.fit(handles, ("body", "small"), W - 120)
        c.text(ht, 60, 250, hf, MUTED, WHITE)
    c.text(rank, 52, 420, "huge", ACCENT, WHITE)
    c.text(score, W - 60, 420, "big", INK, WHITE, anchor="end")
    if np.isfinite(value):
        c.rect(60, 500, 60 + (W - 120) * min(max(value, 0.0), 100.0) / 100.0, 514, ACCENT)
    if change:
        c.text(change, change_x, 556, "body", change_color, WHITE)
    return frame.png(c)


def board_card(base: raster.Canvas, title: str, rows: list[tuple[str, str, str, float]]) -> bytes:
    """The leaderboard's card: its title and first brands (rank, name, index, bar)."""
    c = base.copy()
    face, text = raster.fit(title, ("title_s", "head"), W - 120)
    c.text(text, 60, 170, face, INK, WHITE)
    for i, (rank, name, score, value) in enumerate(rows[:5]):
        y = 240 + i * 68
        c.text(rank, 100, y, "head", ACCENT, WHITE, anchor="end")
        nf, nt = raster.fit(name, ("head", "body", "small"), 620)
        c.text(nt, 130, y, nf, INK, WHITE)
        c.text(score, 880, y, "head", INK, WHITE, anchor="end")
        c.rect(910, y - 22, W - 60, y - 8, TRACK)
        if np.isfinite(value):
            c.rect(910, y - 22, 910 + (W - 970) * min(max(value, 0.0), 100.0) / 100.0, y - 8, ACCENT)
    return c.png(1)


def badge_svg(label: str, value: str, title: str) -> tuple[str, int]:
    """A flat badge (`label | value`) as SVG text, and its width; the text is escaped."""
    small = raster.faces()["small"]
    lw = round(small.width(label) * 11 / 24) + 12
    vw = round(small.width(value) * 11 / 24) + 12
    w = lw + vw
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{BADGE_H}" viewBox="0 0 {w} {BADGE_H}" '
           f'role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>'
           f'<rect width="{lw}" height="{BADGE_H}" rx="3" fill="#3f3f46"/>'
           f'<rect x="{lw}" width="{vw}" height="{BADGE_H}" rx="3" fill="{ACCENT}"/>'
           f'<rect x="{lw}" width="4" height="{BADGE_H}" fill="{ACCENT}"/>'
           f'<g fill="#ffffff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">'
           f'<text x="{lw / 2:.1f}" y="14">{esc(label)}</text><text x="{lw + vw / 2:.1f}" y="14">{esc(value)}'
           f"</text></g></svg>\n")
    return svg, w


class SharePages(BuilderBase):
    def badge(self, lang: str, bi: int, rank_text: str, score: str) -> tuple[int, str]:
        """The brand's badge (`share/<slug>.svg`, one for every language: `site | #3 · 72,4`, the
        index in the site's first language), written with the first language's page; its width
        and the page's text alternative for it."""
        t = STRINGS[lang]
        row = self.brand_rows[bi]
        name = row["brand_name"] or row["brand_id"]
        first = self.o.languages[0]
        value = f"#{row['rank']} · {Fmt(first).num(row['leadership'])}"
        site = self.d.panel.display_name(first)
        alt = t["badge_alt"].format(name=name, rank=rank_text, site=self.d.panel.display_name(lang), score=score)
        if lang == first:
            title = STRINGS[first]["badge_alt"].format(name=name, rank=rank_text, site=site, score=score)
            svg, w = badge_svg(site, value, title)
            self.site.files[f"{SHARE_DIR}/{self.slug[row['brand_id']]}.svg"] = svg.encode()
        else:
            w = badge_svg(site, value, "")[1]
        return w, alt

    def share_images(self, lang: str) -> None:
        """The language's leaderboard card (the og:image of its pages but the brands')."""
        t, f = STRINGS[lang], Fmt(lang)
        when = f.date(self.d.dt)
        site = self.d.panel.display_name(lang)
        sim = t["simulated"] if self.o.simulated else ""
        top = [(str(r["rank"]), r["brand_name"] or r["brand_id"], f.num(r["leadership"]),
                float(r["leadership"]) if r["leadership"] is not None else float("nan")) for r in self.brand_rows[:5]]
        title = t["card_board"].format(date=when)
        tagline = t["card_tagline"].format(networks=networks_text(lang, self.panel_networks))
        self._draw([(self.share_key(lang), (site, tagline, sim, title, top))],
                   lambda args: board_card(_template(*args[:3]), *args[3:]))

    def share_brand_cards(self) -> None:
        """One card per brand (`share/<slug>.png`), the og:image of its page in every language: the
        figures read the same in both (rank as #n, the index in the site's first language)."""
        langs = self.o.languages
        f = Fmt(langs[0])
        n = len(self.brand_rows)
        site = self.d.panel.display_name(langs[0])
        sim = " · ".join(STRINGS[lang]["simulated"] for lang in langs) if self.o.simulated else ""
        tagline = " · ".join(STRINGS[lang]["card_tagline"].format(networks=networks_text(lang, self.panel_networks))
                             for lang in langs[:2])
        head = (site, tagline, sim, f"/ {f.int(n)}", "Leadership (0–100)", self.d.dt.isoformat())
        made: dict[str, Any] = {}

        def draw(args: tuple[Any, ...]) -> bytes:
            if "frame" not in made:
                made["frame"] = brand_frame(_template(*head[:3]), *head[3:])
            fr, x = made["frame"]
            return brand_card(fr, x, *args)

        jobs = []
        for r in self.brand_rows:
            bid = r["brand_id"]
            prev = r.get("rank_prev")
            d = 0 if prev is None else prev - r["rank"]
            change = "" if prev is None else ("=" if d == 0 else f"{'▲' if d > 0 else '▼'} {abs(d)}")
            value = float(r["leadership"]) if r["leadership"] is not None else float("nan")
            handles = " · ".join(f"@{h}" for h in (self.d.handles.get(bid) or [])[:3])
            jobs.append((f"{SHARE_DIR}/{self.slug[bid]}.png",
                         (r["brand_name"] or bid, handles, f"#{r['rank']}", f.num(r["leadership"]), value, change,
                          UP if d > 0 else DOWN if d < 0 else MUTED)))
        self._draw(jobs, draw, head)

    def _draw(self, jobs: list[tuple[str, tuple[Any, ...]]], draw: Any, common: tuple[Any, ...] = ()) -> None:
        """Draw the cards whose fingerprint (what they show + the drawing code) changed or whose
        object the target lacks; count them apart."""
        t0 = time.perf_counter()
        version = _version()
        previous = self.plan.previous.get("share") or {}
        drawn = kept = 0
        for key, args in jobs:
            fp = hashlib.sha256(repr((version, common, args)).encode()).hexdigest()[:16]
            self.share_fps[key] = fp
            if previous.get(key) == fp and key in self.plan.existing:
                kept += 1
                continue
            self.site.files[key] = draw(args)
            drawn += 1
        stats = self.site.stats.setdefault("share_images", {"drawn": 0, "kept": 0, "seconds": 0.0})
        stats["drawn"] += drawn
        stats["kept"] += kept
        stats["seconds"] = round(stats["seconds"] + time.perf_counter() - t0, 4)
