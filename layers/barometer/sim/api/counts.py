"""`GET /2/tweets/counts/recent` and `/counts/all`: matching posts per minute, hour or day."""

from __future__ import annotations

import bisect
from itertools import pairwise
from typing import Any

from barometer.sim.api.params import iso, list_param, make_token, query_param, read_token
from barometer.sim.api.problems import invalid
from barometer.sim.api.state import ApiState
from barometer.sim.api.time_bounds import id_bounds, time_range
from barometer.sim.model import DAY_MS, min_id_at


def counts(state: ApiState, params: dict[str, str], full: bool) -> dict[str, Any]:
    q = query_param(params, full)
    gran = params.get("granularity", "hour")
    step = {"minute": 60_000, "hour": 3_600_000, "day": DAY_MS}.get(gran)
    if step is None:
        raise invalid(
            f"The `granularity` query parameter value [{gran}] is not one of [minute,hour,day]",
            {"granularity": [gran]},
        )
    fields = params.get("search_count.fields")
    if fields is not None:
        list_param(params, "search_count.fields", frozenset({"end", "start", "tweet_count"}))
    start, end = time_range(state.now_ms, params, full)
    lo_extra, hi_extra = id_bounds(state.now_ms, params, full)
    token = params.get("next_token") or params.get("pagination_token")
    next_token = None
    if full:
        # counts/all pages backwards in time, 31 days a page, as X does.
        if token is not None:
            end = min(end, read_token("next_token", token, "n"))
        if end - start > 31 * DAY_MS:
            page_start = ((end - 31 * DAY_MS) // step + (1 if (end - 31 * DAY_MS) % step else 0)) * step
            next_token = make_token("n", page_start)
            start = page_start
    ids = state.query_ids(q)
    by_id = state.world.by_id
    bounds = [start]
    t = (start // step + 1) * step
    while t < end:
        bounds.append(t)
        t += step
    bounds.append(end)
    data = []
    total = 0
    for s, e in pairwise(bounds):
        a = bisect.bisect_left(ids, max(min_id_at(s), lo_extra))
        b = bisect.bisect_left(ids, min(min_id_at(e), hi_extra))
        n = 0
        for k in range(a, b):
            if state.visible(by_id[ids[k]]):
                n += 1
        data.append({"end": iso(e), "start": iso(s), "tweet_count": n})
        total += n
    meta: dict[str, Any] = {"total_tweet_count": total}
    if next_token:
        meta["next_token"] = next_token
    return {"data": data, "meta": meta}
