"""Publish: the static leaderboard site (FR/EN), built from the lake and sent to its target.

```python
summary = run_publish(panel, dt, lake, SiteTarget.local("out/site"), PublishOptions(simulated=True))
```
The stage reads the lake only (`scores`, `indicators`, `topics`, `posts`, `accounts`, `runs`),
applies the quality gate (see `barometer.publish.data`), builds every page in memory, uploads
what changed (see `barometer.publish.upload`) and records its `runs` row.
"""

from __future__ import annotations

import time
from datetime import date

from barometer.config import Panel
from barometer.lake.store import Lake
from barometer.publish.build import PublishOptions, Site, build_site
from barometer.publish.data import Gate, SiteData, check_gate, last_published, load_site_data
from barometer.publish.incremental import Plan, plan, read_manifest, source_fingerprints
from barometer.publish.upload import MANIFEST, SiteTarget, UploadReport, publish_files
from barometer.runs import StageSummary, recorded

__all__ = [
    "Gate",
    "PublishOptions",
    "Site",
    "SiteData",
    "SiteTarget",
    "UploadReport",
    "build_site",
    "check_gate",
    "load_site_data",
    "run_publish",
]


def _site_url(target: SiteTarget, options: PublishOptions) -> str:
    if options.site_url:
        return options.site_url
    if target.site_url:
        return target.site_url
    if target.is_local:
        return (target.local_path().resolve() / "index.html").as_uri()
    return target.uri.rstrip("/") + "/index.html"


def run_publish(panel: Panel, dt: date, lake: Lake, target: SiteTarget, options: PublishOptions,
                run_id: str | None = None) -> StageSummary:
    """Build the site for (panel, dt) and publish it to `target`, unless the quality gate fails.

    Status: `ok` (published; possibly nothing changed), `skipped` (gate failed: the published
    site is left untouched; `details.reason`, `details.last_published`), or `failed` (the error
    is recorded in the runs table, then raised).
    """
    t0 = time.perf_counter()
    with recorded(lake, StageSummary.start("publish", panel.id, dt, run_id=run_id)) as summary:
        gate = check_gate(panel, dt, lake)
        summary.details["coverage"] = gate.coverage
        summary.details["min_coverage"] = panel.scoring.min_coverage
        summary.details["site_url"] = _site_url(target, options)
        if not gate.ok:
            prev_dt, prev_at = last_published(lake, panel.id, before=dt)
            summary.errors.append(f"quality gate: {gate.reason}")
            summary.details.update(
                reason=gate.reason, last_published=prev_dt.isoformat() if prev_dt else None,
                last_published_at=prev_at.isoformat() if prev_at else None, uploaded=0)
            summary.finish("skipped")
            return summary
        store = target.store()
        listing = store.listing()
        previous = read_manifest(store.get(MANIFEST))
        sources = source_fingerprints(lake, panel.id)
        plans: list[Plan] = []

        def units(dates: list[date]) -> set[date]:
            plans.append(plan(dates, dt, sources, options.fingerprint(), previous, listing,
                              options.downloads_budget_bytes))
            return plans[0].data_dates

        data = load_site_data(panel, dt, lake, top_posts=options.top_posts, units=units)
        t1 = time.perf_counter()
        site = build_site(data, options, plans[0])
        t2 = time.perf_counter()
        report = publish_files(site.files, store, reference=summary.run_id, workers=options.workers,
                               listing=listing)
        t3 = time.perf_counter()
        summary.brands_ok = len(site_brands(data))
        summary.details.update(
            pages=site.pages, files=len(site.files), bytes=site.bytes, uploaded=len(report.uploaded),
            unchanged=report.unchanged, bytes_uploaded=report.bytes_uploaded,
            invalidation_id=report.invalidation_id, invalidated_paths=len(report.invalidated),
            dates=len(data.dates), archive_dates_built=len(plans[0].page_dates),
            download_dates_built=len(plans[0].data_dates), download_dates_pending=len(plans[0].pending),
            location=report.location, share_images=_share_report(site),
            seconds={"read": round(t1 - t0, 3), "build": round(t2 - t1, 3), "upload": round(t3 - t2, 3)})
        summary.finish("ok")
    return summary


def _share_report(site: Site) -> dict[str, float | int]:
    """The share cards' cost, apart from the build's: drawn and kept cards, seconds, ms a card."""
    s = site.stats.get("share_images") or {}
    drawn = int(s.get("drawn", 0))
    return {"drawn": drawn, "kept": int(s.get("kept", 0)), "seconds": round(float(s.get("seconds", 0.0)), 3),
            "ms_per_image": round(1000 * float(s.get("seconds", 0.0)) / drawn, 3) if drawn else 0.0}


def site_brands(data: SiteData) -> list[str]:
    import pyarrow as pa
    import pyarrow.compute as pc

    cur = data.scores.filter(pc.equal(data.scores["dt"], pa.scalar(data.dt, pa.date32())))
    return cur["brand_id"].to_pylist()
