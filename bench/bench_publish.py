"""Publish stage at scale: the whole site for 1,000 brands with 365 dates of history.

The lake is a synthetic one (`barometer sim generate`, light on mentions: the site reads
`posts` and `accounts` for the top posts only) plus `scores`, `indicators` and `topics`
partitions synthesised directly for each of the 365 dates (a random walk of the index per
brand, ranks consistent with it). The figure is `run_publish` on an empty local target:
read + build every page + write, i.e. a first publication, the most work a run can do.
"""

from __future__ import annotations

import gzip
import shutil
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from _common import args_parser, cached, emit, measure, synth_lake

SCALES = {"full": {"brands": 1000, "days": 365}, "tiny": {"brands": 20, "days": 30}}
END = date(2025, 6, 30)


def write_scores(lake_dir: Path, brands: int, days: int) -> dict[str, Any]:
    """`scores`, `indicators` and `topics` for each of the `days` dates ending on END."""
    from barometer.definitions import INDICATORS
    from barometer.lake.store import Lake
    from barometer.sim.generate import _topic_ids, brand_id

    lake = Lake(str(lake_dir))
    rng = np.random.default_rng(7)
    ids = [brand_id(i) for i in range(brands)]
    names = [f"Marque {i:05d}" for i in range(brands)]
    n_ind = len(INDICATORS)
    attrs = ["relational", "expression", "engagement"]
    ind_attr = np.array([attrs.index(i.attribute) for i in INDICATORS])
    topics = _topic_ids()
    level = rng.uniform(10, 90, (brands, n_ind))
    prev_rank: np.ndarray | None = None
    window = 182
    for k in range(days):
        dt = END - timedelta(days=days - 1 - k)
        level = np.clip(level + rng.normal(0, 1.5, level.shape), 0, 100)
        att = np.stack([level[:, ind_attr == a].mean(axis=1) for a in range(3)], axis=1)
        lead = att.mean(axis=1)
        order = np.lexsort((np.arange(brands), -lead))
        rank = np.empty(brands, dtype=np.int64)
        rank[order] = np.arange(1, brands + 1)
        band = rng.integers(0, 4, brands)
        ws, we = dt - timedelta(days=window - 1), dt
        lake.write_partition("scores", "synth", dt, pa.table({
            "brand_id": ids, "brand_name": names, "leadership": lead, "relational": att[:, 0],
            "expression": att[:, 1], "engagement": att[:, 2], "rank": rank,
            "rank_low": np.maximum(1, rank - band), "rank_high": np.minimum(brands, rank + band),
            "rank_prev": pa.array(prev_rank if prev_rank is not None else [None] * brands, pa.int64()),
            "coverage": np.ones(brands), "window_start": [ws] * brands, "window_end": [we] * brands,
            "computed_at": [datetime.combine(dt + timedelta(days=1), datetime.min.time())
                            + timedelta(hours=6)] * brands,
            "days_incomplete": np.zeros(brands, np.int64), "incomplete": np.zeros(brands, bool),
        }))
        prev_rank = rank
        weight = 1.0 / 3.0 / np.bincount(ind_attr)[ind_attr]
        lake.write_partition("indicators", "synth", dt, pa.table({
            "brand_id": np.repeat(ids, n_ind), "indicator": [i.id for i in INDICATORS] * brands,
            "attribute": [i.attribute for i in INDICATORS] * brands,
            "value": (np.exp(level / 12.0)).ravel(), "transformed": (level / 12.0).ravel(),
            "score": level.ravel(), "weight": np.tile(weight, brands),
            "contribution": (level * weight).ravel(), "missing": np.zeros(brands * n_ind, bool),
            "estimated": np.zeros(brands * n_ind, bool), "std_error": pa.nulls(brands * n_ind, pa.float64()),
            "window_start": [ws] * (brands * n_ind), "window_end": [we] * (brands * n_ind),
        }))
        t_per = 8
        tb = np.repeat(np.arange(brands), 2 * t_per)
        source = np.tile(np.repeat(["posts", "mentions"], t_per), brands)
        topic = np.array(topics)[rng.integers(0, len(topics), len(tb))]
        items = rng.integers(1, 200, len(tb))
        lake.write_partition("topics", "synth", dt, pa.table({
            "brand_id": np.array(ids)[tb], "source": source, "topic": topic,
            "family": ["famille"] * len(tb), "items": items, "share": items / 400.0,
            "window_start": [ws] * len(tb), "window_end": [we] * len(tb),
        }))
    return {"dates": days}


def _num(v: object) -> int | None:
    return v if isinstance(v, int) else None


def main(argv: list[str] | None = None) -> int:
    args = args_parser(__doc__).parse_args(argv)
    scale = SCALES[args.scale]
    base, _ = synth_lake(args.work, brands=scale["brands"], days=scale["days"], mentions_per_day=500,
                         posts_per_brand_day=1.0, end_date=END, reference_year=False, panel_id="synth")

    def build(path: Path) -> dict[str, Any]:
        shutil.copytree(base, path, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".done"))
        return write_scores(path, scale["brands"], scale["days"])

    lake_dir = cached(args.work, f"publish-{base.name}", build)  # rebuilt when the base lake changes
    from barometer.config import load_panel
    from barometer.lake.store import Lake
    from barometer.publish import PublishOptions, SiteTarget, run_publish

    panel = load_panel(lake_dir / "panels" / "synth.yaml")
    lake = Lake(str(lake_dir))
    site = args.work / f"publish-site-{args.scale}"
    if site.exists():
        shutil.rmtree(site)
    # `runs` rows of earlier bench runs would only add to what is read: start without them.
    shutil.rmtree(lake_dir / "runs", ignore_errors=True)
    t0 = time.perf_counter()
    s = run_publish(panel, END, lake, SiteTarget.local(site), PublishOptions(simulated=True))
    wall = time.perf_counter() - t0
    index = (site / "index.html").read_bytes()
    secs = s.details.get("seconds") or {}
    share: dict[str, Any] = s.details.get("share_images") or {}  # type: ignore[assignment]
    res = {
        "status": measure(s.status, ""),
        "build_s": measure(round(wall, 2), "s", 10, note=f"read/build/write: {secs}"),
        "pages": measure(_num(s.details.get("pages")), "pages"),
        "site_mb": measure(round(sum(f.stat().st_size for f in site.rglob('*') if f.is_file()) / 2**20, 1),
                           "MB"),
        "leaderboard_gzip_kb": measure(round(len(gzip.compress(index, 9)) / 1024, 1), "KB", 100,
                                       note=f"index.html, {len(index) / 1024:.0f} KB raw"),
        "share_images": measure(share.get("drawn"), "images",
                                note=f"OpenGraph cards drawn (a leaderboard card per language, one card a brand), "
                                     f"{share.get('seconds')} s of the build (both languages' processes)"),
        "share_image_ms": measure(share.get("ms_per_image"), "ms", 10, note="drawing + PNG encoding, per card"),
        "dates": measure(_num(s.details.get("dates")), "dates"),
        "brands": measure(s.brands_ok, "brands"),
    }
    emit(res, args.json_out)
    return 0 if s.status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
