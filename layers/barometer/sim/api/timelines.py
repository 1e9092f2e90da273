"""`GET /2/users/:id/tweets`: an account's timeline, newest first, paged both ways."""

from __future__ import annotations

import bisect
from typing import Any

from barometer.sim.api.fields import TWEET_EXPANSIONS
from barometer.sim.api.params import (
    id_param,
    list_param,
    make_token,
    max_results,
    parse_time,
    read_token,
    requested_fields,
)
from barometer.sim.api.problems import invalid, user_error
from barometer.sim.api.render import page
from barometer.sim.api.state import ApiState
from barometer.sim.model import Post, min_id_at


def users_tweets(state: ApiState, uid: str, params: dict[str, str]) -> dict[str, Any]:
    if not uid.isdigit() or len(uid) > 19:
        raise invalid(
            f"The `id` query parameter value [{uid}] does not match ^[0-9]{{1,19}}$", {"id": [uid]}
        )
    limit = max_results(params, 5, 100, 10)
    exclude = list_param(params, "exclude", frozenset({"retweets", "replies"}))
    since = id_param(params, "since_id")
    until = id_param(params, "until_id")
    start = parse_time("start_time", params["start_time"]) if "start_time" in params else None
    end = parse_time("end_time", params["end_time"]) if "end_time" in params else None
    requested_fields(params, TWEET_EXPANSIONS)
    u = state.world.users.get(uid)
    if u is None or state.author_hidden(uid):
        name = u.username if u else uid
        # Not an HTTP error: the 200 body carries only an `errors` entry.
        return {"errors": [user_error(uid, "id", suspended=u is not None and name.lower() in state.faults.suspended)]}
    visible = _timeline(state, uid)
    if "retweets" in exclude:
        visible = [p for p in visible if p.kind != "repost"]
    if "replies" in exclude:
        visible = [p for p in visible if p.kind != "reply"]
    lo_id = since + 1 if since is not None else 0
    if start is not None:
        lo_id = max(lo_id, min_id_at(start))
    hi_id = until if until is not None else 1 << 63
    if end is not None:
        hi_id = min(hi_id, min_id_at(end))
    prev = params.get("pagination_token")
    newest_first = True
    if prev is not None and prev.startswith("p"):
        lo_id = max(lo_id, read_token("pagination_token", prev, "p") + 1)
        newest_first = False
    elif prev is not None:
        hi_id = min(hi_id, read_token("pagination_token", prev, "n"))
    ids = [p.id for p in visible]
    a, b = bisect.bisect_left(ids, lo_id), bisect.bisect_left(ids, hi_id)
    window = visible[a:b]
    page_posts = window[::-1][:limit] if newest_first else window[:limit][::-1]
    meta: dict[str, Any] = {"result_count": len(page_posts)}
    if page_posts:
        meta["newest_id"] = str(page_posts[0].id)
        meta["oldest_id"] = str(page_posts[-1].id)
        more = len(window) > limit
        # Newest first: older pages follow next_token, newer ones previous_token.
        if more if newest_first else True:
            meta["next_token"] = make_token("n", page_posts[-1].id)
        if (prev is not None) if newest_first else more:
            meta["previous_token"] = make_token("p", page_posts[0].id)
    return page(state, page_posts, params, TWEET_EXPANSIONS, meta)


def _timeline(state: ApiState, uid: str) -> list[Post]:
    # Only the 3,200 most recent posts are reachable through a timeline, as on X.
    key = (uid, state.now_ms, id(state.faults))
    visible = state.timelines.get(key)
    if visible is None:
        if len(state.timelines) > 256:
            state.timelines.clear()
        visible = [p for p in state.world.by_author.get(uid, []) if state.visible(p)][-3200:]
        state.timelines[key] = visible
    return visible
