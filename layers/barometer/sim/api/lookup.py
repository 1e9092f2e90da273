"""`GET /2/tweets?ids=`: post look-up, with an `errors` entry for each post it cannot show."""

from __future__ import annotations

from typing import Any

from barometer.sim.api.fields import TWEET_EXPANSIONS
from barometer.sim.api.params import check_ids, csv_param
from barometer.sim.api.problems import NOT_FOUND
from barometer.sim.api.render import page
from barometer.sim.api.state import ApiState
from barometer.sim.model import Post


def tweets(state: ApiState, params: dict[str, str]) -> dict[str, Any]:
    raw, ids = csv_param(params, "ids")
    check_ids(raw, ids)
    found: list[Post] = []
    errors = []
    for i in ids:
        p = state.world.by_id.get(int(i))
        if p is not None and state.visible(p):
            found.append(p)
        elif (
            p is not None
            and p.ts <= state.now_ms
            and state.author_hidden(p.author_id)
            and (state.world.users[p.author_id].username.lower() in state.faults.suspended)
        ):
            errors.append(_not_authorized(i))
        else:
            errors.append(_not_found(i))
    out = page(state, found, params, TWEET_EXPANSIONS, None)
    if errors:
        out["errors"] = errors
    return out


def _not_authorized(i: str) -> dict[str, Any]:
    """A post of a suspended account: it exists, but X will not show it."""
    return {
        "value": i,
        "detail": f"Sorry, you are not authorized to see the Tweet with ids: [{i}].",
        "title": "Authorization Error",
        "resource_type": "tweet",
        "parameter": "ids",
        "resource_id": i,
        "section": "data",
        "type": "https://api.twitter.com/2/problems/not-authorized-for-resource",
    }


def _not_found(i: str) -> dict[str, Any]:
    return {
        "value": i,
        "detail": f"Could not find tweet with ids: [{i}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": "ids",
        "resource_id": i,
        "type": NOT_FOUND,
    }
