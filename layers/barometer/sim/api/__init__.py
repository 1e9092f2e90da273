"""X API v2 semantics over a simulated world, independent of the HTTP transport.

`XApi.handle(path, query, headers)` returns a `Reply` (status, headers, body). The server
module only moves bytes; keeping the API logic here lets tests and benchmarks call it
directly. Response shapes, error documents and limits follow the real API (v2, app-only
bearer auth); where X's behaviour is not documented the choice made is noted inline.

By concern: `xapi` routes and dispatches; `params` and `fields` parse and check requests;
`render` writes posts and users; `limits`, `fault_replies` and `usage` hold the rate limits,
the injected faults' replies and the usage cap; `state` is the world as served (now, faults,
caches) and `stats` what was served. One module per endpoint family: `users`, `timelines`,
`lookup`, `search`, `counts` (the last two share `time_bounds`), `usage`.
"""

from barometer.sim.api.fault_replies import POST_READING
from barometer.sim.api.fields import ALLOWED, TWEET_EXPANSIONS, TWEET_FIELDS, USER_EXPANSIONS, USER_FIELDS
from barometer.sim.api.limits import RATE_LIMITS, WINDOW_S
from barometer.sim.api.params import iso, make_token, parse_time, read_token
from barometer.sim.api.problems import ApiError, generic, invalid
from barometer.sim.api.reply import Reply
from barometer.sim.api.xapi import XApi, stats_view

__all__ = [
    "ALLOWED",
    "POST_READING",
    "RATE_LIMITS",
    "TWEET_EXPANSIONS",
    "TWEET_FIELDS",
    "USER_EXPANSIONS",
    "USER_FIELDS",
    "WINDOW_S",
    "ApiError",
    "Reply",
    "XApi",
    "generic",
    "invalid",
    "iso",
    "make_token",
    "parse_time",
    "read_token",
    "stats_view",
]
