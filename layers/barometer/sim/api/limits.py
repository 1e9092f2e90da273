"""Rate limits: X's per-app (bearer token) quotas per endpoint and 15-minute window, full-archive
search's 1 request/s, and the clock they run on (the wall clock, or a simulated one).

Source: X's own table, "Rate limits" — https://docs.x.com/x-api/fundamentals/rate-limits
(read 2026-11-30; the "Per App" column, limits per 15 minutes unless noted). X no longer sets
these per tier: since pay-per-use, every app (pay-per-use, or the legacy Basic/Pro plans) has the
same per-endpoint, per-app limits; what a tier changes is the monthly read cap and full-archive
access. The model is therefore an app-only bearer token on pay-per-use.

| endpoint                       | key           | per app / 15 min |
|--------------------------------|---------------|------------------|
| GET /2/users/by                | users_by      | 300              |
| GET /2/users                   | users         | 300              |
| GET /2/users/:id/tweets        | users_tweets  | 1,500            |
| GET /2/tweets                  | tweets        | 3,500            |
| GET /2/tweets/search/recent    | search_recent | 450              |
| GET /2/tweets/counts/recent    | counts_recent | 300              |
| GET /2/tweets/search/all       | search_all    | 300 (and 1/s)    |
| GET /2/tweets/counts/all       | counts_all    | 300              |
| GET /2/usage/tweets            | usage         | 50               |
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from barometer.sim.api.problems import ApiError, generic

RATE_LIMITS_SOURCE = "https://docs.x.com/x-api/fundamentals/rate-limits (per app, read 2026-11-30)"
# Per-app (bearer) requests per 15-minute window (see the module doc's table).
RATE_LIMITS: dict[str, int] = {
    "users_by": 300,
    "users": 300,
    "users_tweets": 1500,
    "tweets": 3500,
    "search_recent": 450,
    "counts_recent": 300,
    "search_all": 300,
    "counts_all": 300,
    "usage": 50,
}
WINDOW_S = 900


class RateLimiter:
    """Fixed windows on the wall clock, as X's `x-rate-limit-reset` headers show them."""

    def __init__(self, clock: Callable[[], float], *, enabled: bool, search_all_per_second: bool) -> None:
        self.clock = clock
        self.enabled = enabled
        self.search_all_per_second = search_all_per_second
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # endpoint → (window, requests used)
        self._last_search_all = 0.0

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()

    def take(self, endpoint: str) -> dict[str, str]:
        """Count one request; its rate-limit headers, or ApiError(429) when over a limit."""
        limit = RATE_LIMITS[endpoint]
        wall = self.clock()
        win = int(wall // WINDOW_S)
        reset = (win + 1) * WINDOW_S
        with self._lock:
            w, used = self._windows.get(endpoint, (win, 0))
            if w != win:
                used = 0
            if self.enabled and used >= limit:
                self._windows[endpoint] = (win, used)
                raise ApiError(429, generic(429, "Too Many Requests"), exhausted(limit, reset))
            if self.enabled and endpoint == "search_all" and self.search_all_per_second:
                if wall - self._last_search_all < 1.0:
                    raise ApiError(
                        429, generic(429, "Too Many Requests"), exhausted(1, int(self._last_search_all) + 2)
                    )
                self._last_search_all = wall
            used += 1
            self._windows[endpoint] = (win, used)
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, limit - used)),
            "x-rate-limit-reset": str(reset),
        }


def exhausted(limit: int, reset: int) -> dict[str, str]:
    """The headers of a 429: nothing left until `reset` (epoch seconds)."""
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(reset),
    }


class SimClock:
    """A compressed clock for the simulator and the collector: `time()` is epoch seconds that
    advance only by `sleep(s)` (and a tiny step per reading, so time moves), so a simulated day
    of rate-limit waits runs in seconds. Pass `clock.time` to SimServer/XApi and `clock.sleep` (and
    `clock.monotonic`) to the collector's Fetcher."""

    def __init__(self, start: float | None = None) -> None:
        self._now = float(start if start is not None else time.time())
        self._lock = threading.Lock()
        self.slept = 0.0

    def time(self) -> float:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        return self.time()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)
            self.slept += max(0.0, seconds)

    def advance_to(self, t: float) -> None:
        with self._lock:
            self._now = max(self._now, t)

