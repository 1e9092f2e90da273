"""`barometer cost`: a panel's daily and monthly cost, at full collection and at its budget,
estimated from the accounts' profiles (`users/by`) and X's mention counts (`counts/recent`)
only: a few cents, no post is read.

Per brand a day: profiles (one user read per account), new posts (the accounts' recent rate,
`tweet_count` over the account's age), refreshes of young posts (each new post is refreshed
on each of `collection.refresh_days` days, or only at `THIN_AGES` when the budget thins the
schedule, as `plan.thin_refresh` does), one counts request, and the mentions (the mean of the
last `days` full days X counted). At the budget the mentions are planned as `plan.plan_mentions`
plans them (`plan.mention_alloc`): all if they fit, else a sample, p = read / volume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from barometer.collect.options import midnight
from barometer.collect.plan import THIN_AGES, THIN_SHARE, mention_alloc
from barometer.config import POST_USD, USER_USD, Panel

MONTH_DAYS = 30


@dataclass
class BrandCost:
    brand_id: str
    profiles: int
    new_posts: float
    mentions: float  # X's daily mean over the days counted
    read: float = 0.0  # mentions read a day at the budget

    @property
    def p(self) -> float:
        return 1.0 if self.mentions <= 0 else min(1.0, self.read / self.mentions)


@dataclass
class CostReport:
    panel: str
    days: int
    refresh_days: int
    counts_usd: float
    budget_usd: float | None
    brands: list[BrandCost] = field(default_factory=list)
    probe_usd: float = 0.0  # what this estimate cost (profiles read)

    def fixed_usd(self, thinned: bool) -> float:
        ages = len(THIN_AGES) if thinned else self.refresh_days
        posts = sum(b.new_posts for b in self.brands)
        return (USER_USD * sum(b.profiles for b in self.brands) + POST_USD * posts * (1 + ages)
                + self.counts_usd * len(self.brands))

    def thinned(self) -> bool:
        refresh = POST_USD * self.refresh_days * sum(b.new_posts for b in self.brands)
        return self.budget_usd is not None and refresh > THIN_SHARE * self.budget_usd

    def full_usd(self) -> float:
        return self.fixed_usd(False) + POST_USD * sum(b.mentions for b in self.brands)

    def budget_day_usd(self) -> float:
        if self.budget_usd is None:
            for b in self.brands:
                b.read = b.mentions
            return self.full_usd()
        left = max(self.budget_usd - self.fixed_usd(self.thinned()), 0.0)
        volumes = {b.brand_id: round(b.mentions) for b in self.brands}
        alloc = volumes | mention_alloc(volumes, left)  # as a run plans them (collect/plan.py)
        for b in self.brands:
            b.read = float(alloc.get(b.brand_id, 0))
        return self.fixed_usd(self.thinned()) + POST_USD * sum(b.read for b in self.brands)

    def lines(self) -> list[str]:
        at_budget = self.budget_day_usd()
        full = self.full_usd()
        out = [f"Panel {self.panel}: mentions counted over {self.days} day(s); this estimate read "
               f"{sum(b.profiles for b in self.brands)} profiles (${self.probe_usd:.2f}).",
               f"Full collection: ${full:.2f} a day, ${full * MONTH_DAYS:.2f} a month ({MONTH_DAYS} days)."]
        if self.budget_usd is None:
            out.append("No collection.daily_budget_usd: every run reads everything.")
        else:
            out.append(f"At the budget (${self.budget_usd:.2f}): ${at_budget:.2f} a day, "
                       f"${at_budget * MONTH_DAYS:.2f} a month"
                       + (f"; refresh thinned to ages {', '.join(map(str, THIN_AGES))}" if self.thinned() else ""))
        ages = len(THIN_AGES) if self.thinned() else self.refresh_days
        sampled = sum(b.read for b in self.brands if b.p < 1.0)
        if sampled and self.counts_usd == 0:
            # collect/lookback.py: one counts/all request per sampled author and day, at least
            # (31 days a page), free; X allows 300 a 15-minute window.
            out.append(f"Look-backs for the reach: about {sampled:.0f} to {sampled * 6:.0f} counts/all requests "
                       "a day (free; 300 per 15-minute window).")
        out.append("Plan per brand, a day (profiles, new posts, refreshes, counts, mentions):")
        for b in self.brands:
            how = "all" if b.p >= 1.0 else f"sample p={b.p:.2f}"
            out.append(f"  {b.brand_id}: {b.profiles} profile(s), {b.new_posts:.1f} new posts, "
                       f"{b.new_posts * ages:.1f} refreshes, 1 counts request, {b.mentions:.0f} mentions "
                       f"({how}: {b.read:.0f} read)")
        return out


def _json(resp: Any) -> dict[str, Any]:
    body = resp.json() if hasattr(resp, "json") else resp
    return body if isinstance(body, dict) else {}


def _post_rates(client: Any, handles: list[str], now: datetime) -> dict[str, float]:
    """Handle (lower-case) → posts a day, from the profile's tweet_count over its age."""
    out: dict[str, float] = {}
    for i in range(0, len(handles), 100):
        body = _json(client.get_users(usernames=handles[i:i + 100], user_fields=["created_at", "public_metrics"]))
        for u in body.get("data") or []:
            created = datetime.fromisoformat(str(u.get("created_at", "")).replace("Z", "+00:00")) \
                if u.get("created_at") else now - timedelta(days=365)
            age = max((now - created).days, 1)
            out[str(u["username"]).lower()] = (u.get("public_metrics") or {}).get("tweet_count", 0) / age
    return out


def _daily_mentions(client: Any, query: str, now: datetime, days: int) -> float:
    end = midnight(now.date())
    body = _json(client.get_recent_tweets_count(query=query, granularity="day",
                                                start_time=end - timedelta(days=days), end_time=end))
    counts = [int(r.get("tweet_count", 0)) for r in body.get("data") or []]
    return sum(counts) / max(days, 1)


def estimate_cost(panel: Panel, client: Any, now: datetime, days: int = 7) -> CostReport:
    """The cost report of `panel` (see the module doc); `client` a tweepy client (raw responses)."""
    col = panel.collection
    x_handles = {b.id: [a.handle for a in b.accounts_on("x")] for b in panel.brands}
    rates = _post_rates(client, sorted({h for hs in x_handles.values() for h in hs}), now)
    report = CostReport(panel=panel.id, days=days, refresh_days=col.refresh_days, counts_usd=col.counts_request_usd,
                        budget_usd=col.daily_budget_usd, probe_usd=USER_USD * len(rates))
    for b in panel.brands:
        hs = x_handles[b.id]
        report.brands.append(BrandCost(b.id, len(hs), sum(rates.get(h.lower(), 0.0) for h in hs),
                                       _daily_mentions(client, b.mention_query, now, days) if b.mention_query else 0.0))
    report.budget_day_usd()  # sets each brand's `read`
    return report
