"""Rate limits: X's app-only quotas per 15-minute window, and full-archive search's 1 request/s."""

from __future__ import annotations

import threading
from collections.abc import Callable

from barometer.sim.api.problems import ApiError, generic

# App-only (bearer) limits per 15-minute window, from X's documented rate limits.
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
