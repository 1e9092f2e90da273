"""A run's budget in dollars of X reads: what a page could cost, before it is asked for.

X bills each distinct post and user a run is returned (once per UTC day, `fetch.Counters`),
at `config.POST_USD` and `config.USER_USD`. Counts requests return numbers, not posts: X's
pay-per-use page lists no per-post price for them; `collection.counts_request_usd` (default 0)
prices each such request should that change. `Budget.before` is called by the fetcher before
every request: it refuses one whose worst case (every resource new) could pass what is left,
and lowers `max_results` so that a page fits. A budget is therefore never exceeded: a run
stops before the page that could pass it, says so, and records what it did not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from barometer.config import POST_USD, USER_USD

USER_READS = ("users_by_username", "users_by_id")
COUNTS = ("counts_recent", "counts_all")
SEARCH = ("search_recent", "search_all")


class Billed(Protocol):
    @property
    def posts(self) -> int: ...

    @property
    def users(self) -> int: ...


@dataclass
class Budget:
    usd: float
    counts_usd: float = 0.0
    counts_requests: int = 0
    # What earlier invocations of the same date spent: the state machine resumes a day that
    # stopped for X's rate-limit window in a new invocation, and the budget is the day's.
    already: float = 0.0

    def spent(self, count: Billed) -> float:
        return (self.already + count.posts * POST_USD + count.users * USER_USD
                + self.counts_requests * self.counts_usd)

    def left(self, count: Billed) -> float:
        return self.usd - self.spent(count)

    def before(self, endpoint: str, params: dict[str, Any], count: Billed) -> str | None:
        """None if the request fits (max_results lowered to fit); else why it does not."""
        left = self.left(count) + 1e-9
        if endpoint in COUNTS:
            worst = self.counts_usd
        elif endpoint in USER_READS:
            worst = USER_USD * len(params.get("usernames") or params.get("ids") or ())
        elif endpoint == "tweets_lookup":
            worst = POST_USD * len(params.get("ids") or ())
        else:
            per = POST_USD + (USER_USD if params.get("expansions") else 0.0)
            floor = 10 if endpoint in SEARCH else 5  # X's smallest page
            fit = int(left // per)
            if fit < floor:
                return (f"daily budget ${self.usd:.2f} reached (${self.spent(count):.3f} spent): "
                        f"a page of {endpoint} could pass it")
            if "max_results" in params:
                params["max_results"] = min(int(params["max_results"]), fit)
            worst = per * int(params.get("max_results") or 0)
        if worst > left:
            return (f"daily budget ${self.usd:.2f} reached (${self.spent(count):.3f} spent): "
                    f"{endpoint} could pass it")
        return None

    def after(self, endpoint: str) -> None:
        if endpoint in COUNTS:
            self.counts_requests += 1
