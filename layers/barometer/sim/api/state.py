"""The world as the API shows it: the simulated now, the fault plan's deletions, renames and
suspensions, the served-traffic counters, and the look-up caches the endpoints share."""

from __future__ import annotations

from typing import Any

from barometer.sim.api.problems import invalid
from barometer.sim.api.stats import Stats
from barometer.sim.faults import FaultPlan
from barometer.sim.model import DAY_MS, Post, User, World
from barometer.sim.query import QueryError, SearchIndex


class ApiState:
    def __init__(self, world: World, now_ms: int, *, project_cap: int) -> None:
        self.world = world
        self.now_ms = now_ms
        self.project_cap = project_cap
        self.stats = Stats()
        self.index = SearchIndex(world.posts, {u.id: u.username for u in world.users.values()})
        self._ids = [p.id for p in world.posts]
        self.author_ids: dict[str, list[int]] = {a: [p.id for p in ps] for a, ps in world.by_author.items()}
        self._query_ids: dict[str, list[int]] = {}
        self.entity_cache: dict[int, dict[str, Any]] = {}
        self.faults = FaultPlan()
        self.deleted: dict[int, int] = {}  # fault deletions: post id → deletion time (ms)
        # (author, now, faults) → visible timeline: the collector pages one timeline per run.
        self.timelines: dict[tuple[str, int, int], list[Post]] = {}
        self._renamed: dict[str, str] = {}
        self._renamed_to: dict[str, str] = {}

    # -- the fault plan --------------------------------------------------------------------------
    def set_faults(self, plan: FaultPlan | None) -> None:
        plan = plan or FaultPlan()
        self.faults = plan
        self.deleted = {}
        self.timelines = {}
        self._renamed = {old: new for old, new in plan.renames.items()}
        self._renamed_to = {new.lower(): old for old, new in plan.renames.items()}
        ids = list(plan.delete_ids)
        if plan.delete:
            ids.extend(self._pick_deletions(plan.delete))
        for pid in ids:
            self.deleted[pid] = self.now_ms

    def _pick_deletions(self, n: int) -> list[int]:
        # Recent enough that a collector refreshing young posts has seen them, old enough
        # (a day) that it already stored them: the case deletions exercise.
        hi = self.now_ms - DAY_MS
        cands = [
            p
            for uids in self.world.brand_accounts.values()
            for u in uids
            for p in self.world.by_author.get(u, [])
            if p.kind != "repost" and p.ts <= hi and p.deleted_ms is None
        ]
        cands.sort(key=lambda p: p.id, reverse=True)
        return [p.id for p in cands[:n]]

    # -- what is visible -------------------------------------------------------------------------
    def visible(self, p: Post) -> bool:
        if p.ts > self.now_ms:
            return False
        if p.deleted_ms is not None and p.deleted_ms <= self.now_ms:
            return False
        d = self.deleted.get(p.id)
        if d is not None and d <= self.now_ms:
            return False
        return not self.author_hidden(p.author_id)

    def author_hidden(self, uid: str) -> bool:
        if not self.faults.suspended and not self.faults.unknown:
            return False
        name = self.world.users[uid].username.lower()
        return name in self.faults.suspended or name in self.faults.unknown

    def username(self, u: User) -> str:
        return self._renamed.get(u.username.lower(), u.username)

    def resolve_handle(self, handle: str) -> tuple[User | None, str | None]:
        """(user, problem) for a handle: problem is 'suspended' or 'not_found'."""
        low = handle.lower()
        if low in self.faults.suspended:
            return None, "suspended"
        if low in self.faults.unknown or low in self._renamed:
            return None, "not_found"
        u = self.world.user_by_handle(self._renamed_to.get(low, low))
        return (u, None) if u else (None, "not_found")

    def query_ids(self, query: str) -> list[int]:
        """Ids of the posts matching a search query, ascending (visibility is checked later)."""
        ids = self._query_ids.get(query)
        if ids is None:
            try:
                pos = self.index.positions(query)
            except QueryError as e:
                raise invalid(str(e), {"query": [query]}) from None
            ids = [self._ids[i] for i in pos]
            self._query_ids[query] = ids
        return ids

    def count_posts(self, n: int) -> None:
        self.stats.count_posts(self.now_ms, n)
