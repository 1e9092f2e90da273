"""Issue 13: the budget plan's pure parts: allocation, time slices, the page guard."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from barometer.collect.budget import Budget
from barometer.collect.plan import allocate, mention_alloc, slices, thin_refresh


class Count:
    def __init__(self, posts: int = 0, users: int = 0) -> None:
        self.posts, self.users = posts, users


def test_allocate_all_when_it_fits() -> None:
    assert allocate({"a": 10, "b": 5}, 15) == {"a": 10, "b": 5}


def test_allocate_floor_then_proportional_never_above_volume() -> None:
    alloc = allocate({"a": 1000, "b": 100, "c": 5}, 300, floor=20)
    assert alloc["c"] == 5 and alloc["b"] >= 20
    assert sum(alloc.values()) <= 300 and sum(alloc.values()) >= 290
    assert alloc["a"] > alloc["b"] and all(alloc[b] <= v for b, v in {"a": 1000, "b": 100, "c": 5}.items())


def test_allocate_below_the_floors_shares_equally() -> None:
    assert allocate({"a": 100, "b": 100, "c": 100}, 30, floor=20) == {"a": 10, "b": 10, "c": 10}


def test_slices_probability_is_the_share_of_slices() -> None:
    start = datetime(2018, 3, 20)
    chosen, p = slices(start, start + timedelta(days=1), 100, 400, random.Random(1))
    assert len(chosen) == 12 and p == 12 / 48
    assert all(e - s == timedelta(minutes=30) for s, e in chosen)
    assert len(set(chosen)) == 12


def test_thin_refresh_only_when_the_budget_needs_it() -> None:
    now = datetime(2018, 3, 21, 5)
    created = {str(i): now - timedelta(days=i, hours=1) for i in range(8)}
    ids = sorted(created)
    assert thin_refresh(ids, created, now, None) == ids
    assert thin_refresh(ids, created, now, 100.0) == ids
    assert thin_refresh(ids, created, now, 0.1) == ["1", "3", "7"]


def test_budget_guard_shrinks_pages_and_stops_before_passing() -> None:
    b = Budget(0.5)
    params: dict[str, Any] = {"max_results": 100}
    assert b.before("search_recent", params, Count(posts=60)) is None  # $0.20 left: 40 posts
    assert params["max_results"] == 40
    assert b.before("search_recent", {"max_results": 100}, Count(posts=99)) is not None  # 1 post left
    assert b.before("users_by_username", {"usernames": ["a"] * 7}, Count(posts=90)) is not None
    assert b.before("counts_recent", {}, Count(posts=100)) is None  # counts: free by default
    priced = Budget(0.5, counts_usd=0.01)
    assert priced.before("counts_recent", {}, Count(posts=100)) is not None


def test_mention_alloc_keeps_a_page_aside_and_a_margin_for_the_sample() -> None:
    # $0.25 buys 50 posts: 40 to read + X's smallest page (10) still fit, nothing sampled.
    assert mention_alloc({"a": 30, "b": 10}, 0.25) == {}
    # $0.245 buys 49: 39 after the page, 35.1 planned (0.9), less 3 sqrt(35.1 / 2) = 12.57:
    # 22. The floors (20 + 10) do not fit: by volume, 22 × 30/40 = 16 and 22 × 10/40 = 5.
    assert mention_alloc({"a": 30, "b": 10}, 0.245) == {"a": 16, "b": 5}
    # $1.05: 210 − 10 = 200, × 0.9 = 180, − 3 sqrt(90) = 151.5 → 151: floors 20 + 20, the
    # other 111 by volume (83 and 27), the last one to the largest remainder.
    assert mention_alloc({"a": 300, "b": 100}, 1.05) == {"a": 104, "b": 47}
    assert mention_alloc({"a": 300, "b": 100}, 0.0) == {"a": 0, "b": 0}


def test_allocate_below_the_floors_reads_every_brand_at_one_rate() -> None:
    assert allocate({"a": 900, "b": 100}, 30, floor=20) == {"a": 27, "b": 3}
