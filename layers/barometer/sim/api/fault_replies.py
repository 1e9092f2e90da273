"""How the API answers an injected fault (see `barometer.sim.faults` for the plan's syntax)."""

from __future__ import annotations

from typing import Any

from barometer.sim.api.limits import RATE_LIMITS, exhausted
from barometer.sim.api.problems import TITLES, generic
from barometer.sim.api.reply import Reply, json_reply
from barometer.sim.api.stats import Stats
from barometer.sim.api.usage import cap_reset_days
from barometer.sim.faults import Fault

# The usage cap counts posts read, so only the endpoints returning posts refuse under it.
POST_READING = ("users_tweets", "tweets", "search_recent", "search_all")
_USAGE_CAPPED: dict[str, Any] = {
    "account_id": 1_500_000_000,
    "product_name": "standard-basic",
    "title": "UsageCapExceeded",
    "period": "Monthly",
    "scope": "Product",
    "detail": "Usage cap exceeded: Monthly product cap",
    "type": "https://api.twitter.com/2/problems/usage-capped",
    "status": 429,
}


def fault_reply(fault: Fault, endpoint: str, stats: Stats, *, wall: float, now_ms: int) -> Reply | None:
    """The reply replacing the normal one, or None when the request proceeds (timeouts answer
    normally, late; a cap spares endpoints that read no posts)."""
    if fault.kind == "cap":
        if endpoint not in POST_READING:
            return None
        stats.count_status(429)
        reset = int(wall) + cap_reset_days(now_ms) * 86400
        return json_reply(429, _USAGE_CAPPED, exhausted(RATE_LIMITS[endpoint], reset))
    if fault.kind == "status":
        hdrs = {}
        if fault.status == 429:
            hdrs = exhausted(RATE_LIMITS[endpoint], int(wall) + 2)
        stats.count_status(fault.status)
        return json_reply(fault.status, generic(fault.status, TITLES.get(fault.status, "Error")), hdrs)
    if fault.kind == "reset":
        stats.count_status("reset")
        return Reply(0, None)
    if fault.kind == "malformed":
        stats.count_status("malformed")
        return Reply(200, b'{"data":[{"id":"1","text":"tronqu', {"content-type": "application/json"})
    return None
