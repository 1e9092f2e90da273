"""One simulated day of a panel under X's published per-app rate limits, looped like the state machine.

The simulator enforces X's 15-minute per-app windows (`sim.api.limits.RATE_LIMITS`) on a
`SimClock` shared with the collector (`CollectOptions.clock`): rate-limit waits advance the
clock instead of taking time, so a day of waits runs in seconds. Each invocation has 15 minutes
of simulated time less the Lambda's safety margin (20 s); when it stops with work left, the
clock moves to the reported `resume_after` (the state machine's Wait state) and collect is
invoked again with `resume=True`, until the day is complete.

Reported: requests, invocations, simulated time to complete, the rate-limit floor (per endpoint:
the requests the data requires ÷ that endpoint's allowance per window, in windows; the floor
is the largest, in minutes), their ratio, 429s received beyond the first of each
(endpoint, window), and reads against the minimum the data requires.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench_collect import minimum, pages

INVOCATION_S = 900 - 20  # the collect Lambda's timeout, less SAFETY_MARGIN_SECONDS
MAX_INVOCATIONS = 96  # the state machine's bound (infra/constructs/pipeline.py)
# The collector's endpoint families (bench_collect.minimum) → the limiter's endpoint keys.
FAMILY_KEY = {"profiles": "users_by", "timeline": "users_tweets", "refresh": "tweets",
              "search": "search_recent", "counts": "counts_recent"}


def simulated_day(panel: Any, lake: Any, end: date, seed: int) -> dict[str, Any]:
    """Collect `end` for `panel` from nothing, one simulated invocation after another."""
    from barometer.collect import CollectOptions, run_collect
    from barometer.collect.client import make_client
    from barometer.sim.api.limits import RATE_LIMITS, WINDOW_S, SimClock
    from barometer.sim.server import SimServer
    from barometer.sim.world import build_world

    t0 = time.perf_counter()
    world = build_world(panel, seed=seed, end=end)
    world_s = time.perf_counter() - t0
    now = datetime(end.year, end.month, end.day, 5) + timedelta(days=1)  # the run clock: D+1 05:00
    clock = SimClock(start=now.replace(tzinfo=UTC).timestamp())
    start = clock.time()
    refused: Counter[tuple[str, int]] = Counter()  # (endpoint, window) → 429s
    summaries = []
    t1 = time.perf_counter()
    with SimServer(world, bearer_token="sim-token", now=now, clock=clock.time) as srv:
        take = srv.api.limiter.take

        def counted(endpoint: str) -> dict[str, str]:
            try:
                return take(endpoint)
            except Exception:
                refused[(endpoint, int(clock.time() // WINDOW_S))] += 1
                raise

        srv.api.limiter.take = counted  # type: ignore[method-assign]
        client = make_client("sim-token", base_url=srv.url)
        for i in range(MAX_INVOCATIONS):
            s = run_collect(panel, end, lake, client, CollectOptions(
                mode="daily", now=now, clock=clock, deadline=clock.monotonic() + INVOCATION_S,
                resume=i > 0, max_post_reads=10_000_000, max_user_reads=10_000_000))
            summaries.append(s)
            details = s.details or {}
            if not details.get("work_left"):
                break
            at = datetime.strptime(str(details["resume_after"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            clock.advance_to(at.timestamp())  # the Wait state
    wall_s = time.perf_counter() - t1
    per = minimum(pages(lake, panel.id, end), 1)
    windows = {FAMILY_KEY[f]: v["min_requests"] / RATE_LIMITS[FAMILY_KEY[f]]
               for f, v in per.items() if f in FAMILY_KEY and v["min_requests"]}
    floor_key = max(windows, key=windows.__getitem__)
    floor_min = windows[floor_key] * WINDOW_S / 60
    sim_min = (clock.time() - start) / 60
    last = summaries[-1]
    r = per["reads"]
    return {
        "brands": len(panel.brands), "status": last.status, "brands_ok": last.brands_ok,
        "requests": sum(s.api_requests for s in summaries),
        "min_requests": sum(v["min_requests"] for f, v in per.items() if f in FAMILY_KEY),
        "per_endpoint": {FAMILY_KEY[f]: (v["requests"], v["min_requests"]) for f, v in per.items()
                         if f in FAMILY_KEY},
        "invocations": len(summaries), "sim_minutes": round(sim_min, 1),
        "floor_minutes": round(floor_min, 1), "floor_endpoint": floor_key,
        "floor_windows": {k: round(w, 2) for k, w in sorted(windows.items())},
        "ratio": round(sim_min / floor_min, 3) if floor_min else None,
        "invocations_floor": math.ceil(floor_min * 60 / INVOCATION_S) if floor_min else 1,
        "extra_429": sum(n - 1 for n in refused.values()), "total_429": sum(refused.values()),
        # The runs' own billed counts (distinct per invocation, summed) and the minimum.
        "post_reads": sum(s.posts_read for s in summaries), "min_post_reads": r["min_posts"],
        # Users billed: the panel's accounts, and mentions' authors only where expanded.
        "user_reads": sum(s.users_read for s in summaries),
        "min_user_reads": r["min_users"] if panel.collection.author_profiles
        else sum(len(b.accounts) for b in panel.brands),
        "pages_posts": r["posts"], "pages_users": r["users"], "world_s": round(world_s, 1), "wall_s": round(wall_s, 1),
    }


def figures(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The day's measures as bench figures, named day{N}_…"""
    from _common import measure

    n = d["brands"]
    p = f"day{n}_"
    per = ", ".join(f"{k} {a}/{m}" for k, (a, m) in sorted(d["per_endpoint"].items()) if a or m)
    windows = ", ".join(f"{k} {w:g}" for k, w in d["floor_windows"].items())
    reads, min_reads = d["post_reads"] + d["user_reads"], d["min_post_reads"] + d["min_user_reads"]
    return {
        p + "complete": measure(int(d["status"] == "ok" and d["brands_ok"] == n), "", 1, "==",
                                note=f"last invocation {d['status']}, {d['brands_ok']}/{n} brands ok"),
        # the minimum, plus the one 429 a window that tells the collector the window is spent
        p + "requests": measure(d["requests"], "requests",
                                d["min_requests"] + d["total_429"] - d["extra_429"],
                                note=f"per endpoint, made/minimum: {per}; {d['total_429']} 429s"),
        p + "invocations": measure(d["invocations"], "invocations", d["invocations_floor"] + 1,
                                   note=f"floor ÷ {INVOCATION_S} s an invocation = {d['invocations_floor']}"),
        p + "sim_minutes": measure(d["sim_minutes"], "min",
                                   note=f"simulated; {d['wall_s']} s of wall time (world {d['world_s']} s)"),
        p + "floor_minutes": measure(d["floor_minutes"], "min",
                                     note=f"{d['floor_endpoint']}; windows needed: {windows}"),
        p + "floor_ratio": measure(d["ratio"], "×", 1.1),
        p + "extra_429": measure(d["extra_429"], "429s", 0, note=f"{d['total_429']} in all"),
        p + "reads_ratio": measure(round(reads / min_reads, 3) if min_reads else None, "×", 1.0,
                                   note=f"posts {d['post_reads']}/{d['min_post_reads']}, "
                                        f"users {d['user_reads']}/{d['min_user_reads']}"),
    }
