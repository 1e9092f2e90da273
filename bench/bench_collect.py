"""Collect stage cost: requests and billed reads against the minimum the data requires.

A synthetic panel of 100 brands (`build_panel`) is fed to the simulator (`build_world` +
`SimServer`, a real HTTP server) and collected with `run_collect` through tweepy: a 30-day
backfill (full-archive endpoints) then one daily run. Every page the collector read is in the
raw archive; from what those pages returned, the minimum is computed per endpoint:

- profiles: ceil(handles / 100) requests, one user read per handle;
- timelines: per brand max(1, ceil(new posts / 100)) requests, one post read per new post;
- refresh lookups: ceil(refreshed posts / 100) requests, one read per refreshed post;
- mention search: per brand max(1, ceil(mentions / page size)) requests (100 recent, 500 full
  archive), one post read per mention, one user read per author;
- counts: per brand ceil(days / 31) requests (31 daily buckets a page), nothing billed.

X bills a post or a user once a UTC day however many pages return it (its deduplication), so
the minimum reads are distinct ids over the run: the posts the data requires (new timeline
posts, refreshed posts, mentions; a brand post that mentions another brand is one read) and
the users (the panel's accounts, the mentions' authors; an author of several mentions, or of
mentions of several brands, is one read). The actual reads are the run's own billed counts.

Ratio = actual / minimum (target 1.00). The pharma panel's daily cost, in full and within a
daily budget, is the budget section's (bench_budget.py).
"""

from __future__ import annotations

import math
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import args_parser, emit, measure

SCALES = {"full": {"brands": 100, "backfill_days": 30}, "tiny": {"brands": 5, "backfill_days": 3}}
DAY_BRANDS = {"full": (100, 1000), "tiny": (5, 20)}  # the simulated days under X's limits
END = date(2025, 6, 30)
TOKEN = "sim-token"


def clock(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 5) + timedelta(days=1)


def pages(lake: Any, panel: str, dt: date) -> list[dict[str, Any]]:
    out = []
    for key in lake.list_keys(f"raw/panel={panel}/dt={dt.isoformat()}"):
        if not key.endswith(".gz"):
            continue
        rec = lake.get_json_gz(key)
        if isinstance(rec, dict) and "endpoint" in rec:
            out.append(rec)
    return out


def minimum(recs: list[dict[str, Any]], days: int) -> dict[str, dict[str, int]]:
    """Actual and minimum requests per endpoint family, and (under "reads") the distinct posts and
    users the pages returned (billed) against those the data requires."""
    from barometer.collect.parse import (
        COUNT_ENDPOINTS,
        LOOKUP,
        SEARCH_ENDPOINTS,
        TIMELINE,
        USER_ENDPOINTS,
        billed_ids,
    )

    act: dict[str, int] = defaultdict(int)
    billed_posts: set[str] = set()
    billed_users: set[str] = set()
    need_posts: set[str] = set()
    need_users: set[str] = set()
    timeline: dict[str, set[str]] = defaultdict(set)
    lookup: set[str] = set()
    search: dict[str, set[str]] = defaultdict(set)
    profiles: set[str] = set()
    counts_brands: set[str] = set()
    page_size: dict[str, int] = defaultdict(lambda: 100)
    for r in recs:
        if r["endpoint"] == "run":  # the run's own record, not a request
            continue
        ep, body, ctx = r["endpoint"], r.get("body") or {}, r.get("context") or {}
        fam = ("profiles" if ep in USER_ENDPOINTS else "timeline" if ep == TIMELINE else
               "refresh" if ep == LOOKUP else "search" if ep in SEARCH_ENDPOINTS else
               "counts" if ep in COUNT_ENDPOINTS else ep)
        act[fam] += 1
        if not isinstance(body, dict):
            continue
        p, u = billed_ids(ep, body)
        billed_posts.update(p)
        billed_users.update(u)
        data = body.get("data")
        items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        ids = {str(d.get("id")) for d in items}
        brand = str(ctx.get("brand") or ctx.get("brand_id") or "")
        if fam == "profiles":
            profiles.update(ids)
            need_users.update(ids)
        elif fam == "timeline":
            timeline[brand].update(ids)
            need_posts.update(ids)
        elif fam == "refresh":
            lookup.update(ids)
            need_posts.update(ids)
        elif fam == "search":
            asked = int((r.get("params") or {}).get("max_results") or 100)
            page_size["search"] = max(page_size["search"], asked)
            search[brand].update(ids)
            need_posts.update(ids)
            need_users.update(str(d.get("author_id")) for d in items)
        elif fam == "counts":
            counts_brands.add(brand)
    brands = set(timeline) | set(search) | counts_brands
    mins = {
        "profiles": math.ceil(len(profiles) / 100),
        "timeline": sum(max(1, math.ceil(len(timeline.get(b, ())) / 100)) for b in brands),
        "refresh": math.ceil(len(lookup) / 100),
        "search": sum(max(1, math.ceil(len(search.get(b, ())) / page_size["search"])) for b in brands),
        "counts": len(counts_brands) * math.ceil(days / 31),
    }
    out = {fam: {"requests": act.get(fam, 0), "min_requests": mins.get(fam, 0)}
           for fam in sorted(set(act) | set(mins))}
    out["reads"] = {"posts": len(billed_posts), "users": len(billed_users),
                    "min_posts": len(need_posts), "min_users": len(need_users)}
    return out


def totals(per: dict[str, dict[str, int]]) -> dict[str, int]:
    return {"requests": sum(v.get("requests", 0) for v in per.values()),
            "min_requests": sum(v.get("min_requests", 0) for v in per.values()),
            **{k: per["reads"][k] for k in ("posts", "users", "min_posts", "min_users")}}


def ratio(a: int, m: int) -> float | None:
    return round(a / m, 3) if m else (1.0 if a == 0 else None)


def run(panel: Any, lake: Any, backfill_days: int, end: date, seed: int,
        budget: dict[str, Any] | None = None) -> dict[str, Any]:
    """A backfill then a daily run; `budget` overrides the panel's read caps."""
    budget = dict(budget or {})
    from barometer.collect import CollectOptions, run_collect
    from barometer.collect.client import make_client
    from barometer.sim.server import SimServer
    from barometer.sim.world import build_world

    t0 = time.perf_counter()
    world = build_world(panel, seed=seed, end=end)
    world_s = time.perf_counter() - t0
    d_back, d_daily = end - timedelta(days=1), end
    out: dict[str, Any] = {"world_s": round(world_s, 1)}
    with SimServer(world, bearer_token=TOKEN, now=clock(d_back)) as srv:
        client = make_client(TOKEN, base_url=srv.url)
        t1 = time.perf_counter()
        back = run_collect(panel, d_back, lake, client, CollectOptions(
            mode="backfill", since=d_back - timedelta(days=backfill_days - 1), full_archive=True,
            now=clock(d_back), **budget))
        out["backfill"] = {"summary": back, "s": time.perf_counter() - t1,
                           "per": minimum(pages(lake, panel.id, d_back), backfill_days)}
        srv.set_now(clock(d_daily))
        t2 = time.perf_counter()
        daily = run_collect(panel, d_daily, lake, client,
                            CollectOptions(mode="daily", now=clock(d_daily), **budget))
        out["daily"] = {"summary": daily, "s": time.perf_counter() - t2,
                        "per": minimum(pages(lake, panel.id, d_daily), 1)}
    return out


def main(argv: list[str] | None = None) -> int:
    args = args_parser(__doc__).parse_args(argv)
    scale = SCALES[args.scale]
    import shutil

    from barometer.lake.store import Lake
    from barometer.sim.generate import build_panel

    root = Path(args.work) / f"collect-{args.scale}"
    shutil.rmtree(root, ignore_errors=True)
    panel = build_panel(scale["brands"], "collect-bench", window_days=30,
                        first_date=END - timedelta(days=scale["backfill_days"] + 40))
    res: dict[str, Any] = {}
    # The 100-brand world needs more reads than a panel's default cap (20,000): lift the caps, so
    # the runs complete and the ratio measures the collector, not the budget.
    r = run(panel, Lake(str(root / "synth")), scale["backfill_days"], END, seed=11,
            budget={"max_post_reads": 10_000_000, "max_user_reads": 10_000_000})
    status_ok = True
    for mode in ("daily", "backfill"):
        s, per = r[mode]["summary"], r[mode]["per"]
        t = totals(per)
        status_ok &= s.status == "ok"
        res[f"{mode}_status"] = measure(s.status, "")
        res[f"{mode}_requests"] = measure(s.api_requests, "requests",
                                          note=f"minimum {t['min_requests']}, {t['requests']} pages archived")
        res[f"{mode}_post_reads"] = measure(s.posts_read, "posts", note=f"minimum {t['min_posts']}")
        res[f"{mode}_user_reads"] = measure(s.users_read, "users", note=f"minimum {t['min_users']}")
        # The run's own counts (throttled and retried requests included), against the minimum.
        for k, a, m in (("requests", s.api_requests, t["min_requests"]),
                        ("post_reads", s.posts_read, t["min_posts"]),
                        ("user_reads", s.users_read, t["min_users"])):
            if k == "requests":
                worst = [f"{f} {v['requests']}/{v['min_requests']}" for f, v in per.items()
                         if f != "reads" and v["requests"] != v["min_requests"]]
            else:
                col = k.split("_")[0] + "s"
                worst = [f"pages returned {t[col]} distinct"] if t[col] != t["min_" + col] else []
            res[f"{mode}_{k}_ratio"] = measure(ratio(a, m), "×", 1.0,
                                               note=f"above minimum: {', '.join(worst)}" if worst else None)
        res[f"{mode}_cost_usd"] = measure(round(s.cost_usd, 3), "USD")
        res[f"{mode}_wall_s"] = measure(round(r[mode]["s"], 1), "s")
    # One simulated day under X's published rate limits, looped like the state machine
    # (collect_limits.py): 100 and 1,000 brands.
    from collect_limits import figures, simulated_day

    for n in DAY_BRANDS[args.scale]:
        day_panel = build_panel(n, "collect-day", window_days=30, first_date=END - timedelta(days=40))
        res.update(figures(simulated_day(day_panel, Lake(str(root / f"day{n}")), END, seed=11)))
    emit(res, args.json_out)
    return 0 if status_ok else 1


if __name__ == "__main__":
    sys.exit(main())
