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
from barometer.publish.data import SiteData
from barometer.publish.incremental import MANIFEST_VERSION, Plan, build_version, manifest_bytes
from barometer.publish.pages import SitePages
from barometer.publish.upload import MANIFEST

__all__ = ["PublishOptions", "Site", "SiteBuilder", "build_site"]


class SiteBuilder(BrandPages, SitePages):
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
