"""`GET /2/tweets/search/recent` and `/search/all`: matching posts, newest first."""

from __future__ import annotations

import bisect
from typing import Any

from barometer.sim.api.fields import TWEET_EXPANSIONS
from barometer.sim.api.params import make_token, max_results, query_param, read_token, requested_fields
from barometer.sim.api.problems import invalid
from barometer.sim.api.render import page
from barometer.sim.api.state import ApiState
from barometer.sim.api.time_bounds import id_bounds
from barometer.sim.model import Post


def search(state: ApiState, params: dict[str, str], full: bool) -> dict[str, Any]:
    q = query_param(params, full)
    limit = max_results(params, 10, 500 if full else 100, 10)
    if params.get("sort_order") not in (None, "recency", "relevancy"):
        raise invalid(
            f"The `sort_order` query parameter value [{params['sort_order']}] is not one of "
            "[recency,relevancy]",
            {"sort_order": [params["sort_order"]]},
        )
    requested_fields(params, TWEET_EXPANSIONS)
    lo, hi = id_bounds(state.now_ms, params, full)
    token = params.get("next_token") or params.get("pagination_token")
    if token is not None:
        hi = min(hi, read_token("next_token", token, "n"))
    ids = state.query_ids(q)
    a, b = bisect.bisect_left(ids, lo), bisect.bisect_left(ids, hi)
    found: list[Post] = []
    more = False
    by_id = state.world.by_id
    # Newest first, skipping what is not visible now, until one past the page tells us more follow.
    for k in range(b - 1, a - 1, -1):
        p = by_id[ids[k]]
        if not state.visible(p):
            continue
        if len(found) == limit:
            more = True
            break
        found.append(p)
    meta: dict[str, Any] = {"result_count": len(found)}
    if found:
        meta["newest_id"] = str(found[0].id)
        meta["oldest_id"] = str(found[-1].id)
        if more:
            meta["next_token"] = make_token("n", found[-1].id)
    return page(state, found, params, TWEET_EXPANSIONS, meta)
