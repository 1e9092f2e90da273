"""Bluesky's rate limits, with the headers it sends (`ratelimit-limit`, `-remaining`, `-reset`,
`-policy`, IETF draft style): 3,000 requests per 5 minutes per account (per IP without a
session), and logins (createSession) 30 per 5 minutes and 300 a day per account."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from barometer.sim.bsky.errors import XrpcError


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window_s: int

    @property
    def policy(self) -> str:
        return f"{self.limit};w={self.window_s}"


GLOBAL = Limit("global", 3000, 300)
LOGIN_5MIN = Limit("login-5min", 30, 300)
LOGIN_DAY = Limit("login-day", 300, 86400)


def headers(limit: Limit, remaining: int, reset: int) -> dict[str, str]:
    return {
        "ratelimit-limit": str(limit.limit),
        "ratelimit-remaining": str(max(0, remaining)),
        "ratelimit-reset": str(reset),
        "ratelimit-policy": limit.policy,
    }


def exceeded(limit: Limit, reset: int) -> XrpcError:
    return XrpcError(429, "RateLimitExceeded", "Rate Limit Exceeded", headers(limit, 0, reset))


class RateLimiter:
    """Fixed windows on the wall clock; `take` counts a request against every limit given and
    returns the headers of the tightest (the one with the fewest requests left)."""

    def __init__(self, clock: Callable[[], float], *, enabled: bool = True) -> None:
        self.clock = clock
        self.enabled = enabled
        self._lock = threading.Lock()
        self._used: dict[tuple[str, str], tuple[int, int]] = {}  # (limit, key) → (window, used)

    def reset(self) -> None:
        with self._lock:
            self._used.clear()

    def take(self, key: str, *limits: Limit) -> dict[str, str]:
        wall = self.clock()
        with self._lock:
            states = []
            for lim in limits:
                win = int(wall // lim.window_s)
                w, used = self._used.get((lim.name, key), (win, 0))
                if w != win:
                    used = 0
                states.append((lim, win, used, (win + 1) * lim.window_s))
            if self.enabled:
                for lim, _win, used, reset in states:
                    if used >= lim.limit:
                        raise exceeded(lim, reset)
            best: tuple[int, dict[str, str]] | None = None
            for lim, win, used, reset in states:
                self._used[(lim.name, key)] = (win, used + 1)
                left = lim.limit - used - 1
                if best is None or left < best[0]:
                    best = (left, headers(lim, left, reset))
        assert best is not None
        return best[1]
