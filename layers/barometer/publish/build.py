"""Build the static site in memory: {relative key: bytes}, deterministic for the same lake data.

Nothing here depends on the clock: "last updated" is the scores' `computed_at`, assets are
named by their content hash, so building the same (panel, date) twice gives the same bytes
(and the upload then skips every object). The pages are made by the mixins of `SiteBuilder`
(`pages`, `brand`); what they share is in `base`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from barometer.publish.base import PARALLEL_MIN_BRANDS, PublishOptions, Site
from barometer.publish.brand import BrandPages
from barometer.publish.compare import ComparePages
from barometer.publish.data import SiteData
from barometer.publish.downloads import XLSX, DataFiles
from barometer.publish.feed import FeedPages
from barometer.publish.incremental import MANIFEST_VERSION, Plan, build_version, manifest_bytes
from barometer.publish.pages import SitePages
from barometer.publish.ranks import RankPages
from barometer.publish.share import SharePages
from barometer.publish.upload import MANIFEST

__all__ = ["PublishOptions", "Site", "SiteBuilder", "build_site"]


class SiteBuilder(BrandPages, RankPages, SharePages, DataFiles, ComparePages, FeedPages, SitePages):
    # -- build -------------------------------------------------------------------------
    def build(self) -> Site:
        langs = list(self.o.languages)
        self.xlsx_dates.add(self.d.dt)  # made below by `edition_files`
        # Forked: the child makes the other languages' pages and the brands' share cards, the
        # parent the downloads and the first language's pages (about even halves).
        forked = self._fork(langs[1:]) if self._parallel() else None
        self.downloads()
        self.edition_files()
        for lang in langs[:1] if forked is not None else langs:
            self.language(lang)
        if forked is None:
            self.share_brand_cards()
        if forked is not None:
            files, pages, page_keys, stats, share_fps = forked.result()
            self.site.files.update(files)
            self.site.pages += pages
            for d, keys in page_keys.items():
                self.page_keys[d].extend(keys)
            mine = self.site.stats.setdefault("share_images", {"drawn": 0, "kept": 0, "seconds": 0.0})
            for k, v in (stats.get("share_images") or {}).items():
                mine[k] = round(mine.get(k, 0) + v, 4)
            self.share_fps.update(share_fps)
        return self.site

    def language(self, lang: str) -> None:
        self.home(lang)
        self.network_pages(lang)
        self.brand_pages(lang)
        self.indicator_pages(lang)
        self.compare_page(lang)
        self.methodology(lang)
        self.data_page(lang)
        self.archives(lang)
        self.feed(lang)
        self.share_images(lang)

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
                keys = set(self.data_keys.get(d, []))
                # an earlier edition's workbook stays listed while it is online
                keys |= {k for k in prev.get("data_keys", []) if k.endswith(XLSX) and k in p.existing}
                e.update(data=p.data_fps.get(d, ""), data_keys=sorted(keys))
            elif "data" in prev:
                e.update(data=prev["data"], data_keys=prev.get("data_keys", []))
            entries[iso] = e
        self.site.files[MANIFEST] = manifest_bytes({"version": MANIFEST_VERSION, "build": build_version(),
                                                    "panel": self.d.panel.id, "dt": self.d.dt.isoformat(),
                                                    "pending": [d.isoformat() for d in p.pending],
                                                    "dates": entries, "share": dict(sorted(self.share_fps.items()))})


_FORKED: SiteBuilder | None = None  # the builder a forked child works on (set around the fork)


def _build_languages(langs: list[str]
                     ) -> tuple[dict[str, bytes], int, dict[date, list[str]], dict[str, Any], dict[str, str]]:
    """In the forked child: the pages and leaderboard cards of `langs`, the brands' cards (the
    parent makes the rest)."""
    b = _FORKED
    assert b is not None
    b.site = Site()
    b.page_keys = defaultdict(list)
    b.share_fps = {}
    for lang in langs:
        b.language(lang)
    b.share_brand_cards()
    return b.site.files, b.site.pages, dict(b.page_keys), b.site.stats, b.share_fps


def build_site(data: SiteData, options: PublishOptions, plan: Plan | None = None) -> Site:
    """The site for (panel, dt) as {key: bytes}: every page that changes daily, plus the archive
    pages and downloads the plan asks for (default: all, and no manifest); with a plan, also
    `site-manifest.json`."""
    builder = SiteBuilder(data, options, plan)
    site = builder.build()
    if plan is not None:
        builder.manifest()
    return site
