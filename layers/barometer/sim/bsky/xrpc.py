"""`BskyApi`: XRPC over the Bluesky world. Routes a request, applies faults, authenticates,
counts it against the rate limits, then hands it to its endpoint's module."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from barometer.sim.api.reply import Reply, json_reply
from barometer.sim.bsky import actors, feeds, search
from barometer.sim.bsky.auth import Sessions
from barometer.sim.bsky.errors import XrpcError, auth_required, invalid
from barometer.sim.bsky.faults import ENDPOINTS, BskyFaultPlan
from barometer.sim.bsky.ids import did_for
from barometer.sim.bsky.limits import GLOBAL, LOGIN_5MIN, LOGIN_DAY, RateLimiter, exceeded
from barometer.sim.bsky.model import Actor, BskyWorld
from barometer.sim.bsky.params import Params
from barometer.sim.bsky.state import BskyState
from barometer.sim.model import day_ms, to_ms

DEFAULT_HANDLE = "barometer.bsky.social"
DEFAULT_PASSWORD = "sim0-app0-pass-word"  # the shape of a Bluesky app password


@dataclass(frozen=True)
class Method:
    key: str  # fault-plan endpoint key
    http: str  # GET (query) or POST (procedure)
    auth: str  # none | optional | required | refresh


METHODS = {
    nsid: Method(
        key,
        "POST" if nsid.startswith("com.atproto.server.") else "GET",
        {"create_session": "none", "refresh_session": "refresh"}.get(key, "optional"),
    )
    for key, nsid in ENDPOINTS.items()
}


class BskyApi:
    """The XRPC service over one world: `handle(method, path, query, headers, body, client)`."""

    def __init__(
        self,
        world: BskyWorld,
        now: datetime,
        *,
        handle: str = DEFAULT_HANDLE,
        password: str = DEFAULT_PASSWORD,
        faults: BskyFaultPlan | None = None,
        clock: Callable[[], float] = time.time,
        rate_limits: bool = True,
        access_ttl: float | None = None,
        search_cap: int = search.SEARCH_CAP,
    ) -> None:
        self.clock = clock
        self.limiter = RateLimiter(clock, enabled=rate_limits)
        self.search_cap = search_cap
        did = _login_actor(world, handle)
        self.sessions = Sessions(handle, did, password, clock)
        if access_ttl is not None:
            self.sessions.access_ttl = access_ttl
        self.state = BskyState(world, to_ms(now))
        self.stats = self.state.stats
        self.set_faults(faults)

    @property
    def world(self) -> BskyWorld:
        return self.state.world

    def set_now(self, now: datetime) -> None:
        new = to_ms(now)
        if abs(new - self.state.now_ms) >= 300_000:
            self.limiter.reset()  # a replay jumps days: every 5-minute window has long reset
        self.state.set_now(new)

    def set_faults(self, plan: BskyFaultPlan | None) -> None:
        self.state.set_faults(plan)
        if plan is not None and plan.expire:
            self.sessions.expire_all()
        self.sessions.revoked = bool(plan and plan.revoke)

    # -- entry point ---------------------------------------------------------------------------
    def handle(
        self, verb: str, path: str, query: str, headers: dict[str, str], body: bytes, client: str = "127.0.0.1"
    ) -> Reply:
        nsid = path.removeprefix("/xrpc/") if path.startswith("/xrpc/") else None
        m = METHODS.get(nsid or "")
        if m is None:
            return self._error(XrpcError(501, "MethodNotImplemented", "Method Not Implemented"))
        self.stats.count_request(m.key)
        if verb != m.http:
            return self._error(invalid(f"Incorrect HTTP method ({verb}) expected {m.http}"))
        fault = self.state.faults.take(m.key)
        if fault is not None:
            self.stats.count_fault(fault.kind if fault.kind != "status" else str(fault.status))
            reply = self._fault_reply(fault.kind, fault.status)
            if reply is not None:
                return reply
        rl: dict[str, str] = {}
        try:
            who = self._authenticate(m, headers.get("authorization", ""))
            rl = self.limiter.take(who or f"ip:{client}", GLOBAL)
            doc = self._dispatch(m, Params(query), body, headers, who, rl)
        except XrpcError as e:
            return self._error(e, rl)
        reply = self._json(200, doc, rl)
        if fault is not None and fault.kind == "timeout":
            reply.delay = self.state.faults.timeout_seconds
        return reply

    def _authenticate(self, m: Method, auth: str) -> str | None:
        """The DID of the session, None when anonymous; errors as Bluesky's for bad tokens."""
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        if m.auth == "none":
            return None
        if m.auth == "refresh":
            if not token:
                raise auth_required()
            return None  # the refresh token is checked by the endpoint
        if token is None:
            if auth:
                raise XrpcError(401, "InvalidToken", "Unexpected authorization type")
            return None
        return self.sessions.access(token)

    def _dispatch(
        self, m: Method, q: Params, body: bytes, headers: dict[str, str], who: str | None, rl: dict[str, str]
    ) -> dict[str, Any]:
        s = self.state
        if m.key == "create_session":
            return self._create_session(body, rl)
        if m.key == "refresh_session":
            return self.sessions.refresh(headers.get("authorization", "")[7:].strip())
        if m.key == "resolve_handle":
            return actors.resolve_handle(s, q)
        if m.key == "get_profile":
            return actors.get_profile(s, q)
        if m.key == "get_profiles":
            return actors.get_profiles(s, q)
        if m.key == "get_author_feed":
            return feeds.get_author_feed(s, q)
        if m.key == "get_posts":
            return feeds.get_posts(s, q)
        return search.search_posts(s, q, authed=who is not None, cap=self.search_cap)

    def _create_session(self, body: bytes, rl: dict[str, str]) -> dict[str, Any]:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise invalid("Request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise invalid("Input must be an object")
        for name in ("identifier", "password"):
            if not isinstance(data.get(name), str):
                raise invalid(f'Input must have the property "{name}"')
        ident = data["identifier"].removeprefix("@").lower()
        # Logins are limited per account (identifier): 30 per 5 minutes, 300 a day.
        rl.clear()
        rl.update(self.limiter.take(f"login:{ident}", LOGIN_5MIN, LOGIN_DAY))
        return self.sessions.create(data["identifier"], data["password"])

    # -- replies -------------------------------------------------------------------------------
    def _fault_reply(self, kind: str, status: int) -> Reply | None:
        if kind == "status":
            if status == 429:
                e = exceeded(GLOBAL, int(self.clock()) + 2)
            else:
                e = XrpcError(status, _ERROR_NAMES.get(status, "InternalServerError"), _MESSAGES.get(status, "Error"))
            return self._error(e)
        if kind == "reset":
            self.stats.count_status("reset")
            return Reply(0, None)
        if kind == "malformed":
            self.stats.count_status("malformed")
            return Reply(200, b'{"posts":[{"uri":"at://did:plc:', {"content-type": "application/json"})
        return None

    def _json(self, status: int, doc: dict[str, Any], headers: dict[str, str]) -> Reply:
        self.stats.count_status(status)
        return json_reply(status, doc, headers)

    def _error(self, e: XrpcError, rl: dict[str, str] | None = None) -> Reply:
        return self._json(e.status, e.doc, {**(rl or {}), **e.headers})


_ERROR_NAMES = {
    400: "InvalidRequest",
    401: "AuthMissing",
    403: "Forbidden",
    404: "NotFound",
    500: "InternalServerError",
    501: "MethodNotImplemented",
    502: "UpstreamFailure",
    503: "NotEnoughResources",
    504: "UpstreamTimeout",
}
_MESSAGES = {
    400: "Invalid Request",
    401: "Authentication Required",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    501: "Method Not Implemented",
    502: "Upstream Failure",
    503: "Service Unavailable",
    504: "Upstream Timeout",
}


def _login_actor(world: BskyWorld, handle: str) -> str:
    """The DID of the login account, added to the world (a plain account) when not in it."""
    a = world.actor(handle)
    if a is not None:
        return a.did
    did = did_for(handle)
    acct = Actor(
        did,
        handle.lower(),
        "Barometer",
        "Compte de collecte du baromètre.",
        min(to_ms(datetime(2024, 2, 6)), day_ms(world.start)),
        3,
        0,
        0,
    )
    world.add_actor(acct)
    return did
