"""Fault injection for the Bluesky simulator: the X simulator's plan, with Bluesky's endpoints.

    429@search_posts:2       the next 2 searchPosts requests get 429 RateLimitExceeded
                             (rate-limit headers, reset 2 s away)
    503@get_author_feed:1    one 503 (any 4xx/5xx code: 500, 502, 400…)
    reset[@ep][:n]           close the connection without a response
    timeout[@ep][:n]         answer only after `timeout_seconds` (default 2 s, at most 5 s)
    malformed[@ep][:n]       a 200 whose body is not valid JSON
    suspended=h.bsky.social  the account is taken down (AccountTakedown; left out of getProfiles)
    unknown=h.bsky.social    the handle does not resolve (its posts disappear too)
    delete=3                 the 3 most recent brand posts older than a day are deleted at `now`
    expire                   every access token issued so far (earlier runs' too) has expired:
                             ExpiredToken until the client refreshes its session
    revoke                   the app password is revoked: logins refused, sessions invalid

Endpoint keys (`@ep`): see `ENDPOINTS` (`create_session`, `search_posts`…). Faults fire in
request order, so a scripted client sees the same faults on every run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from barometer.errors import ConfigError
from barometer.sim.faults import Fault, FaultPlan

# Endpoint key → XRPC method (NSID).
ENDPOINTS = {
    "create_session": "com.atproto.server.createSession",
    "refresh_session": "com.atproto.server.refreshSession",
    "resolve_handle": "com.atproto.identity.resolveHandle",
    "get_profile": "app.bsky.actor.getProfile",
    "get_profiles": "app.bsky.actor.getProfiles",
    "get_author_feed": "app.bsky.feed.getAuthorFeed",
    "get_posts": "app.bsky.feed.getPosts",
    "search_posts": "app.bsky.feed.searchPosts",
}
_ITEM = re.compile(r"^(?P<kind>\d{3}|reset|timeout|malformed)(?:@(?P<ep>[a-z_]+|\*))?(?::(?P<n>\d+))?$")
_HANDLE = re.compile(r"^@?[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")


@dataclass
class BskyFaultPlan(FaultPlan):
    expire: bool = False
    revoke: bool = False

    @classmethod
    def parse(cls, spec: str | None, *, timeout_seconds: float = 2.0) -> BskyFaultPlan:
        plan = cls(timeout_seconds=timeout_seconds)
        for raw in (spec or "").split(","):
            item = raw.strip()
            if not item:
                continue
            if item in ("expire", "revoke"):
                setattr(plan, item, True)
            elif "=" in item:
                plan._keyed(item)
            else:
                plan.faults.append(_fault(item))
        return plan

    def _keyed(self, item: str) -> None:
        key, _, val = (s.strip() for s in item.partition("="))
        if key in ("suspended", "unknown"):
            val = val.lower()
            if not _HANDLE.match(val) or "." not in val:
                raise ConfigError(f"--faults: {item!r}: not a Bluesky handle (e.g. sanofi.bsky.social)")
            getattr(self, key).add(val.removeprefix("@"))
        elif key == "delete":
            if not val.isdigit():
                raise ConfigError(f"--faults: {item!r}: expected delete=N")
            self.delete += int(val)
        else:
            raise ConfigError(f"--faults: unknown fault {key!r}")


def _fault(item: str) -> Fault:
    m = _ITEM.match(item)
    if not m:
        raise ConfigError(f"--faults: cannot parse {item!r} (expected e.g. 429@search_posts:2, reset, expire, revoke)")
    kind, ep, n = m.group("kind"), m.group("ep"), m.group("n")
    if ep == "*":
        ep = None
    if ep is not None and ep not in ENDPOINTS:
        raise ConfigError(f"--faults: unknown endpoint {ep!r} (one of {', '.join(ENDPOINTS)})")
    count = int(n) if n else 1
    if kind.isdigit():
        code = int(kind)
        if not 400 <= code <= 599:
            raise ConfigError(f"--faults: {item!r}: status must be 4xx or 5xx")
        return Fault("status", ep, count, code)
    return Fault(kind, ep, count)
