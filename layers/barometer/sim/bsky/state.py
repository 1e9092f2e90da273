"""The Bluesky world as served: the simulated now, the fault plan's deletions and hidden
accounts, the served-traffic counters, and the caches the endpoints share."""

from __future__ import annotations

from typing import Any

from barometer.sim.api.stats import Stats
from barometer.sim.bsky.errors import XrpcError, invalid
from barometer.sim.bsky.faults import BskyFaultPlan
from barometer.sim.bsky.model import Actor, BPost, BskyWorld, Repost
from barometer.sim.model import DAY_MS


class BskyState:
    def __init__(self, world: BskyWorld, now_ms: int) -> None:
        self.world = world
        self.now_ms = now_ms
        self.stats = Stats()
        self.faults = BskyFaultPlan()
        self.deleted: dict[str, int] = {}  # fault deletions: post URI → deletion time (ms)
        # (did, now, plan) → the visible author feed, newest first; (query key, now) → hits.
        self.feeds: dict[tuple[str, int, int], list[BPost | Repost]] = {}
        self.searches: dict[tuple[Any, ...], list[BPost]] = {}

    # -- the fault plan ------------------------------------------------------------------------
    def set_faults(self, plan: BskyFaultPlan | None) -> None:
        plan = plan or BskyFaultPlan()
        self.faults = plan
        self.deleted = {}
        self.feeds = {}
        self.searches = {}
        if plan.delete:
            for uri in self._pick_deletions(plan.delete):
                self.deleted[uri] = self.now_ms

    def set_now(self, now_ms: int) -> None:
        self.now_ms = now_ms
        self.feeds = {}
        self.searches = {}

    def _pick_deletions(self, n: int) -> list[str]:
        # Old enough (a day) that a collector already stored them, as in the X simulator.
        hi = self.now_ms - DAY_MS
        brand_dids = {d for ds in self.world.brand_accounts.values() for d in ds}
        cands = [p for p in self.world.posts if p.author in brand_dids and p.ts <= hi and p.deleted_ms is None]
        cands.sort(key=lambda p: (p.ts, p.uri), reverse=True)
        return [p.uri for p in cands[:n]]

    def count_posts(self, n: int) -> None:
        self.stats.count_posts(self.now_ms, n)

    # -- what is visible -----------------------------------------------------------------------
    def hidden(self, a: Actor) -> str | None:
        """'takendown' or 'unknown' when the fault plan hides the account."""
        h = a.handle.lower()
        if h in self.faults.unknown:
            return "unknown"
        if h in self.faults.suspended:
            return "takendown"
        return None

    def visible(self, p: BPost) -> bool:
        if p.ts > self.now_ms:
            return False
        if p.deleted_ms is not None and p.deleted_ms <= self.now_ms:
            return False
        d = self.deleted.get(p.uri)
        if d is not None and d <= self.now_ms:
            return False
        if self.faults.unknown or self.faults.suspended:
            return self.hidden(self.world.actors[p.author]) is None
        return True

    def actor(self, ident: str, *, strict: bool = True) -> Actor | None:
        """The actor a handle or DID names; with `strict`, a 400 as Bluesky answers when none
        (or when it is taken down)."""
        a = self.world.actor(ident)
        if a is not None and a.created_ms > self.now_ms:
            a = None
        problem = self.hidden(a) if a is not None else "unknown"
        if problem is None:
            return a
        if not strict:
            return None
        if problem == "takendown":
            raise XrpcError(400, "AccountTakedown", "Account has been suspended")
        raise invalid("Profile not found")

    def feed(self, did: str) -> list[BPost | Repost]:
        """The author's visible posts and reposts, newest first (cached per now and plan)."""
        key = (did, self.now_ms, id(self.faults))
        items = self.feeds.get(key)
        if items is None:
            items = [
                it
                for it in reversed(self.world.feeds.get(did, []))
                if it.ts <= self.now_ms and self.visible(it.subject if isinstance(it, Repost) else it)
            ]
            self.feeds[key] = items
        return items
