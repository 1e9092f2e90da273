"""`GET /2/users/by?usernames=` and `GET /2/users?ids=`: user look-up by handle or by id."""

from __future__ import annotations

import re
from typing import Any

from barometer.sim.api.fields import TWEET_FIELDS, USER_EXPANSIONS, USER_FIELDS
from barometer.sim.api.params import check_ids, csv_param, list_param
from barometer.sim.api.problems import invalid, user_error
from barometer.sim.api.render import user_json
from barometer.sim.api.state import ApiState


def users_by(state: ApiState, params: dict[str, str]) -> dict[str, Any]:
    raw, names = csv_param(params, "usernames")
    uf = list_param(params, "user.fields", USER_FIELDS)
    list_param(params, "expansions", USER_EXPANSIONS)
    list_param(params, "tweet.fields", TWEET_FIELDS)
    data, errors = [], []
    for name in names:
        if not re.match(r"^[A-Za-z0-9_]{1,15}$", name):
            raise invalid(
                f"The `usernames` query parameter value [{name}] does not match ^[A-Za-z0-9_]{{1,15}}$",
                {"usernames": [raw]},
            )
        u, problem = state.resolve_handle(name)
        if u is not None:
            data.append(user_json(state, u, uf))
        else:
            errors.append(user_error(name, "usernames", suspended=problem == "suspended"))
    return _users_reply(state, data, errors)


def users_by_ids(state: ApiState, params: dict[str, str]) -> dict[str, Any]:
    """`GET /2/users?ids=`: a renamed account answers by its stable id with its new username."""
    raw, ids = csv_param(params, "ids")
    check_ids(raw, ids)
    uf = list_param(params, "user.fields", USER_FIELDS)
    list_param(params, "expansions", USER_EXPANSIONS)
    list_param(params, "tweet.fields", TWEET_FIELDS)
    data, errors = [], []
    for uid in ids:
        u = state.world.users.get(uid)
        if u is not None and state.username(u).lower() not in state.faults.suspended:
            data.append(user_json(state, u, uf))
        else:
            errors.append(user_error(uid, "ids", suspended=u is not None))
    return _users_reply(state, data, errors)


def _users_reply(state: ApiState, data: list[dict[str, Any]], errors: list[dict[str, Any]]) -> dict[str, Any]:
    state.stats.count_users(len(data))
    out: dict[str, Any] = {}
    if data:
        out["data"] = data
    if errors:
        out["errors"] = errors
    return out
