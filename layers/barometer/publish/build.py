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
        # Forked: the child makes every language's brand pages and the brands' share cards, the
        # parent the rest (downloads, archives, the other pages): about even halves, and what
        # each half computes for its pages (the brand pages' matrices and tables, the archive
        # leaderboards' columns) is needed by that half only.
        forked = self._fork() if self._parallel() else None
        self.downloads()
        self.edition_files()
        for lang in langs:
            self.language(lang, brands=forked is None)
        if forked is None:
            self.share_brand_cards()
        else:
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

    def language(self, lang: str, brands: bool = True) -> None:
        """A language's pages (without its brand pages unless `brands`) and leaderboard card."""
        self.home(lang)
        self.network_pages(lang)
        if brands:
            self.brand_pages(lang)
        self.indicator_pages(lang)
        self.compare_page(lang)
        self.methodology(lang)
        self.data_page(lang)
        self.archives(lang)
        self.feed(lang)
        self.share_images(lang)

    def _parallel(self) -> bool:
        """Build the brand pages and cards in a forked process (CPU-bound rendering: threads would
        not help) when the site is big enough to pay for it and a second core is there."""
        import multiprocessing as mp
        import os

        return (len(self.o.languages) > 1 and len(self.brand_rows) >= PARALLEL_MIN_BRANDS
                and (os.cpu_count() or 1) > 1 and "fork" in mp.get_all_start_methods())

    def _fork(self) -> Any:
        """Start building the brand pages and cards in a forked child; `.result()` gives (files,
        pages, page_keys, stats, share fingerprints). The child inherits this builder (data,
        caches) as it is at the fork, and hands its files back through shared memory (see
        `Handover`)."""
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        global _FORKED, _HANDOVER
        _FORKED, _HANDOVER = self, Handover.open()
        handover = _HANDOVER
        try:
            pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork"))
            future = pool.submit(_build_brands)
        finally:
            _FORKED, _HANDOVER = None, None
        pool.shutdown(wait=False)
        return _Received(future, handover)

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
_HANDOVER: Handover | None = None  # the shared memory its files come back through


class Handover:
    """Files handed from the forked child to the parent through an anonymous shared mapping:
    the child copies each body into it and sends only (key, offset, size) through the pool's
    pipe; the parent copies the bodies out. This spares pickling the child's hundreds of MB of
    pages into one message, its transfer through a pipe and its unpickling (several copies of
    every byte, and the memory they take). The mapping is virtual until written (sized at the
    machine's memory, never reserved); what does not fit goes through the pipe."""

    def __init__(self, buf: Any) -> None:
        self.buf = buf

    @classmethod
    def open(cls) -> Handover:
        import mmap
        import os

        try:
            size = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            flags = mmap.MAP_SHARED | getattr(mmap, "MAP_NORESERVE", 0)
            return cls(mmap.mmap(-1, size, flags=flags))
        except (OSError, ValueError, AttributeError):  # no shared mapping here: the pipe carries all
            return cls(None)

    def pack(self, files: dict[str, bytes]) -> tuple[list[tuple[str, int, int]], dict[str, bytes]]:
        """In the child: (key, offset, size) of the bodies copied into the mapping, and the rest."""
        index: list[tuple[str, int, int]] = []
        rest: dict[str, bytes] = {}
        pos, cap = 0, len(self.buf) if self.buf is not None else 0
        for key, body in files.items():
            n = len(body)
            if self.buf is None or pos + n > cap:
                rest[key] = body
                continue
            self.buf[pos:pos + n] = body
            index.append((key, pos, n))
            pos += n
        return index, rest

    def unpack(self, index: list[tuple[str, int, int]], rest: dict[str, bytes]) -> dict[str, bytes]:
        """In the parent: the child's files (then the mapping is released)."""
        out = {key: self.buf[a:a + n] for key, a, n in index} if index else {}
        out.update(rest)
        self.close()
        return out

    def close(self) -> None:
        if self.buf is not None:
            self.buf.close()
            self.buf = None


class _Received:
    """The child's result with its files taken out of the shared mapping."""

    def __init__(self, future: Any, handover: Handover) -> None:
        self.future, self.handover = future, handover

    def result(self) -> tuple[dict[str, bytes], int, dict[date, list[str]], dict[str, Any], dict[str, str]]:
        try:
            (index, rest), pages, page_keys, stats, share_fps = self.future.result()
            return self.handover.unpack(index, rest), pages, page_keys, stats, share_fps
        finally:
            self.handover.close()


def _build_brands() -> tuple[tuple[list[tuple[str, int, int]], dict[str, bytes]], int, dict[date, list[str]],
                              dict[str, Any], dict[str, str]]:
    """In the forked child: every language's brand pages and the brands' cards (the parent makes
    the rest); the files go back through the shared mapping."""
    b, handover = _FORKED, _HANDOVER
    assert b is not None and handover is not None
    b.site = Site()
    b.page_keys = defaultdict(list)
    b.share_fps = {}
    for lang in b.o.languages:
        b.brand_pages(lang)
    b.share_brand_cards()
    return handover.pack(b.site.files), b.site.pages, dict(b.page_keys), b.site.stats, b.share_fps


def build_site(data: SiteData, options: PublishOptions, plan: Plan | None = None) -> Site:
    """The site for (panel, dt) as {key: bytes}: every page that changes daily, plus the archive
    pages and downloads the plan asks for (default: all, and no manifest); with a plan, also
    `site-manifest.json`."""
    builder = SiteBuilder(data, options, plan)
    site = builder.build()
    if plan is not None:
        builder.manifest()
    return site
