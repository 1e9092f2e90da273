"""Plan a daily run within `collection.daily_budget_usd`: what to read, before reading it.

Order (each step only spends what is left after the ones before):
1. fixed reads: the accounts' profiles, the brands' new posts, and the refresh of their young
   posts, thinned to posts 1, 3 and 7 days old (`THIN_AGES`) when refreshing all of them would
   take more than `THIN_SHARE` of the budget;
2. every brand's exact mention volume of the days to read, from `tweets/counts/recent`
   (numbers, not posts: see `budget.py` for its price);
3. the mentions: all of them when the volumes fit what is left; otherwise a sample per brand.
   The posts the budget can buy are allocated across brands proportionally to their volume,
   with a floor per brand (`FLOOR`, or the whole volume when smaller), by water-filling. A
   brand's sample is spread over its days: the days are cut in `SLICE_MINUTES` slices and `m`
   of them are drawn at random without replacement (seeded by panel and date), each read in
   full. Every mention of those days is then in the sample with probability p = m / slices,
   the same for all; each sampled row carries `sample_weight` = 1/p.

Two things keep the plan from meeting the budget's hard stop (which ends the run: the brands
not yet read would get nothing): every search request needs room for X's smallest page (10
posts) however few it returns, so the plan keeps `PAGE_RESERVE` posts aside; and a sample's
size is random (the slices drawn may hold more or fewer than their share), so before each
brand's mentions the brands not yet read are planned again on what is actually left
(`replan`): a brand whose sample ran over leaves less to the next ones, never a hard stop.

The estimators that turn a sample into indicators are the scorer's (score/estimate.py).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from barometer.collect.lookback import look_back
from barometer.collect.options import TWEET_FIELDS, midnight
from barometer.collect.parse import COUNT_ENDPOINTS, LOOKBACK, count_rows, data_list
from barometer.config import POST_USD, SAMPLE_FLOOR, SAMPLE_SLICE_MINUTES, THIN_REFRESH_AGES, THIN_REFRESH_SHARE

if TYPE_CHECKING:
    from barometer.collect.runner import Run

THIN_AGES = THIN_REFRESH_AGES
THIN_SHARE = THIN_REFRESH_SHARE
FLOOR = SAMPLE_FLOOR
SLICE_MINUTES = SAMPLE_SLICE_MINUTES
# Plan on this share of what is left: pages of one slice come whole, a margin keeps the last
# brand's sample from meeting the budget's hard stop.
PLAN_SHARE = 0.9
# X's smallest search page (max_results 10): the budget must still hold it for the last request.
PAGE_RESERVE = 10


@dataclass
class MentionPlan:
    left_usd: float
    volumes: dict[str, int]
    alloc: dict[str, int] = field(default_factory=dict)  # brand → posts to read (sampled only)

    @property
    def sampled(self) -> list[str]:
        return sorted(self.alloc)

    def full(self, brand: str) -> bool:
        return brand not in self.alloc

    def lines(self) -> list[str]:
        out = []
        for b, n in sorted(self.volumes.items()):
            k = self.alloc.get(b, n)
            how = "all" if b not in self.alloc else f"sample p={k / n:.3f}" if n else "all"
            out.append(f"{b}: {n} mentions, read {k} ({how}), ${k * POST_USD:.3f}")
        return out


def thin_refresh(ids: list[str], created: dict[str, datetime], now: datetime, budget_usd: float | None) -> list[str]:
    """The posts to refresh: all, unless the budget needs the refresh schedule thinned."""
    if budget_usd is None or len(ids) * POST_USD <= THIN_SHARE * budget_usd:
        return ids
    return [i for i in ids if (now - created[i]).days in THIN_AGES]


def allocate(volumes: dict[str, int], n: int, floor: int = FLOOR) -> dict[str, int]:
    """Posts to read per brand: everything if it fits; else a floor each, the rest by volume."""
    if sum(volumes.values()) <= n:
        return dict(volumes)
    alloc = {b: min(v, floor) for b, v in volumes.items()}
    if sum(alloc.values()) >= n:
        # Not even the floors fit: by volume, so every brand is read at the same rate p. An
        # estimator's bias depends on p; at one p for all, the brands' estimates err alike and
        # their order (and min-max scores) hold, where an equal share read the biggest brand at
        # a tenth of the smallest's rate.
        total = sum(volumes.values())
        return {b: n * v // total for b, v in volumes.items()}
    rest = n - sum(alloc.values())
    open_ = {b for b, v in volumes.items() if v > alloc[b]}
    while rest > 0 and open_:
        tot = sum(volumes[b] for b in open_)
        give = {b: min(volumes[b] - alloc[b], int(rest * volumes[b] / tot)) for b in open_}
        if not any(give.values()):
            b = max(open_, key=lambda x: (volumes[x] - alloc[x], x))
            give = {b: 1}
        for b, g in give.items():
            alloc[b] += g
            rest -= g
        open_ = {b for b in open_ if volumes[b] > alloc[b]}
    return alloc


def day_volumes(pages: list[dict[str, Any]], first: dict[str, date], last: date) -> dict[str, int]:
    """Per brand, the mentions X counted for its days [first, last] (this run's counts pages)."""
    out: dict[str, int] = {}
    for p in pages:
        if p["endpoint"] not in COUNT_ENDPOINTS or LOOKBACK in p["context"]:
            continue
        b = p["context"]["brand_id"]
        for day, n in count_rows(p["body"]):
            if b in first and first[b] <= day <= last:
                out[b] = out.get(b, 0) + n
    return out


def plan_mentions(run: Run) -> MentionPlan | None:
    """The mentions plan of a budgeted daily run (None: no budget, or a backfill)."""
    budget = run.f.limits.budget
    if budget is None or run.o.mode != "daily":
        return None
    first = {b.id: run.first_day("mentions", b.id) for b in run.brands}
    volumes = day_volumes(run.f.pages, first, run.dt)
    volumes = {b.id: volumes.get(b.id, 0) for b in run.brands}
    plan = MentionPlan(budget.left(run.f.count), volumes)
    plan.alloc = mention_alloc(volumes, plan.left_usd)
    return plan


def replan(run: Run, plan: MentionPlan, remaining: list[str]) -> None:
    """Plan the brands not read yet (`remaining`) again, on what this run has actually left."""
    budget = run.f.limits.budget
    if budget is None or not plan.alloc:
        return  # everything fitted: reads of whole volumes cost what X counted
    volumes = {b: plan.volumes[b] for b in remaining}
    alloc = mention_alloc(volumes, budget.left(run.f.count))
    plan.alloc = {b: k for b, k in plan.alloc.items() if b not in volumes} | alloc


def mention_alloc(volumes: dict[str, int], left_usd: float) -> dict[str, int]:
    """The sampled brands and their posts (empty: all volumes fit, with the page reserve)."""
    posts = math.floor(max(left_usd, 0) / POST_USD + 1e-9) - PAGE_RESERVE  # 0.25 / 0.005 is 50, not 49.99…
    if sum(volumes.values()) <= posts:
        return {}
    # A sample's size is random. The brands read before the last one can run over (the next
    # plan takes it from the ones after), the last one cannot: keep three standard deviations
    # (Poisson: sqrt) of one brand's share aside.
    n = max(posts, 0) * PLAN_SHARE
    alloc = allocate(volumes, int(max(n - 3 * math.sqrt(n / max(len(volumes), 1)), 0)))
    return {b: k for b, k in alloc.items() if k < volumes[b]}


Slice = tuple[datetime, datetime]


def slices(start: datetime, end: datetime, posts: int, volume: int, rng: random.Random) -> tuple[list[Slice], float]:
    """Random slices of [start, end) to read for about `posts` of `volume`; and p (m / slices)."""
    step = timedelta(minutes=SLICE_MINUTES)
    total = max(1, math.ceil((end - start) / step))
    m = min(total, max(1, math.floor(total * posts / max(volume, 1))))
    chosen = sorted(rng.sample(range(total), m))
    return [(start + i * step, min(start + (i + 1) * step, end)) for i in chosen], m / total


def sample_mentions(run: Run, brand_id: str, query: str, own: list[str], posts: int, volume: int) -> None:
    """Read a brand's sample (see module doc); its rows carry sample_weight = 1/p."""
    key = ("mentions", brand_id)
    first = run.first_day(*key)
    start = max(midnight(first), run.recent_floor)
    rng = random.Random(f"{run.panel.id}/{run.dt.isoformat()}/{brand_id}")
    chosen, p = slices(start, run.end, posts, volume, rng)
    ctx = {"brand_id": brand_id, "own_ids": own, "sample_weight": 1.0 / p, "sample_p": p}
    params = {"query": query, "max_results": run.o.page_size, "tweet_fields": TWEET_FIELDS}
    if run.panel.collection.author_profiles:
        params.update(expansions=["author_id"], user_fields=["public_metrics", "username"])

    def read() -> None:
        for s, e in chosen:
            for body in run.f.paginate("search_recent", run.client.search_recent_tweets, ctx,
                                       **params, start_time=s, end_time=e):
                data_list(body)
        look_back(run, brand_id, query, own)

    run.read(brand_id, "mentions", first, key, read)
    # The days up to the run's end are done: the next run starts there, by time (no since_id:
    # the newest post read may be older than the day's last).
    run.state["mentions"][brand_id] = {"since_id": None, "gap": None, "until": run.end.isoformat(),
                                        "start": run.end.isoformat()}

