"""`XApi`: the entry point. Routes a request, checks auth, applies faults and rate limits,
then hands it to its endpoint family's module."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from barometer.sim.api.counts import counts
from barometer.sim.api.fault_replies import fault_reply
from barometer.sim.api.limits import WINDOW_S, RateLimiter
from barometer.sim.api.lookup import tweets
from barometer.sim.api.params import parse_params
from barometer.sim.api.problems import ApiError, generic
from barometer.sim.api.reply import Reply, json_reply
from barometer.sim.api.search import search
from barometer.sim.api.state import ApiState
from barometer.sim.api.timelines import users_tweets
from barometer.sim.api.usage import usage_tweets
from barometer.sim.api.users import users_by, users_by_ids
from barometer.sim.faults import FaultPlan
from barometer.sim.model import World, to_ms

_ROUTES = (
    (re.compile(r"^/2/users/by$"), "users_by"),
    (re.compile(r"^/2/users$"), "users"),
    (re.compile(r"^/2/users/([^/]+)/tweets$"), "users_tweets"),
    (re.compile(r"^/2/tweets$"), "tweets"),
    (re.compile(r"^/2/tweets/search/recent$"), "search_recent"),
    (re.compile(r"^/2/tweets/search/all$"), "search_all"),
    (re.compile(r"^/2/tweets/counts/recent$"), "counts_recent"),
    (re.compile(r"^/2/tweets/counts/all$"), "counts_all"),
    (re.compile(r"^/2/usage/tweets$"), "usage"),
)
_NO_ROUTE = {
    "errors": [{"message": "The requested resource could not be found."}],
    "title": "Not Found Error",
    "detail": "Not Found",
    "type": "about:blank",
    "status": 404,
}


class XApi:
    """The API over one world: `handle(path, query, headers)` → `Reply`."""

    def __init__(
        self,
        world: World,
        bearer_token: str,
        now: datetime,
        faults: FaultPlan | None = None,
        *,
        clock: Callable[[], float] = time.time,
        rate_limits: bool = True,
        search_all_per_second: bool = True,
        project_cap: int = 10_000_000,
    ) -> None:
        self.token = bearer_token
        self.clock = clock
        self.limiter = RateLimiter(clock, enabled=rate_limits, search_all_per_second=search_all_per_second)
        self.state = ApiState(world, to_ms(now), project_cap=project_cap)
        self.stats = self.state.stats
        self.set_faults(faults)

    # The world, the simulated now and the fault plan's deletions, read by the server and tests.
    @property
    def world(self) -> World:
        return self.state.world

    @property
    def now_ms(self) -> int:
        return self.state.now_ms

    @property
    def deleted(self) -> dict[int, int]:
        return self.state.deleted

    # -- configuration -----------------------------------------------------------------------
    def set_now(self, now: datetime) -> None:
        new = to_ms(now)
        if abs(new - self.state.now_ms) >= WINDOW_S * 1000:
            # A replay jumps the simulated clock by days between runs: in the world it replays,
            # every 15-minute rate-limit window has long reset, so start fresh ones.
            self.limiter.reset()
        self.state.now_ms = new

    def set_faults(self, plan: FaultPlan | None) -> None:
        self.state.set_faults(plan)

    # -- entry point ---------------------------------------------------------------------------
    def handle(self, path: str, query: str, headers: dict[str, str]) -> Reply:
        endpoint, arg = None, None
        for rx, name in _ROUTES:
            m = rx.match(path)
            if m:
                endpoint, arg = name, (m.group(1) if m.groups() else None)
                break
        if endpoint is None:
            return self._json(404, _NO_ROUTE, {})
        self.stats.count_request(endpoint)
        auth = headers.get("authorization", "")
        if auth != f"Bearer {self.token}":
            return self._json(401, generic(401, "Unauthorized"), {})

        rl_headers: dict[str, str] = {}
        fault = self.state.faults.take(endpoint)
        if fault is not None:
            self.stats.count_fault(fault.kind if fault.kind != "status" else str(fault.status))
            reply = fault_reply(fault, endpoint, self.stats, wall=self.clock(), now_ms=self.state.now_ms)
            if reply is not None:
                return reply
        try:
            rl_headers = self.limiter.take(endpoint)
            params = parse_params(endpoint, query)
            body = self._dispatch(endpoint, arg, params)
        except ApiError as e:
            return self._json(e.status, e.doc, {**rl_headers, **e.headers})
        reply = self._json(200, body, rl_headers)
        if fault is not None and fault.kind == "timeout":
            reply.delay = self.state.faults.timeout_seconds
        return reply

    def _json(self, status: int, doc: dict[str, Any], headers: dict[str, str]) -> Reply:
        self.stats.count_status(status)
        return json_reply(status, doc, headers)

    def _dispatch(self, endpoint: str, arg: str | None, params: dict[str, str]) -> dict[str, Any]:
        state = self.state
        if endpoint == "users_by":
            return users_by(state, params)
        if endpoint == "users":
            return users_by_ids(state, params)
        if endpoint == "users_tweets":
            assert arg is not None
            return users_tweets(state, arg, params)
        if endpoint == "tweets":
            return tweets(state, params)
        if endpoint in ("search_recent", "search_all"):
            return search(state, params, full=endpoint == "search_all")
        if endpoint in ("counts_recent", "counts_all"):
            return counts(state, params, full=endpoint == "counts_all")
        return usage_tweets(state, params)


def stats_view(api: XApi) -> dict[str, Any]:
    return api.stats.view()
