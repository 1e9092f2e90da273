"""The calibration phase: brand interactions set so pharma-fr's published 2018 figures hold
exactly (the targets and the algebra are in `barometer.sim.calibration`)."""

from __future__ import annotations

import math
from datetime import timedelta

from barometer.sim import calibration as cal
from barometer.sim.model import DAY_MS, YOUNG_MS, Post, day_ms, to_ms
from barometer.sim.worldgen.draft import Draft


def calibrate_interactions(d: Draft) -> None:
    """Set brand interactions so the study's ER, leader interactions and score hold exactly."""
    plans, brand_posts, users, brand_accounts = d.plans, d.brand_posts, d.users, d.brand_accounts
    w0 = day_ms(cal.WINDOW_START)
    w1 = day_ms(cal.RUN_DATE) + DAY_MS
    at = to_ms(cal.LAST_OBSERVATION)
    mean_f: dict[str, float] = {}
    for plan in plans:
        series = users[brand_accounts[plan.brand_id][0]].followers_on
        days = [cal.WINDOW_START + timedelta(days=i) for i in range(cal.WINDOW_DAYS)]
        mean_f[plan.brand_id] = sum(series[day] for day in days) / len(days)
    leader = cal.target(cal.LEADER)
    leader_er = cal.LEADER_INTERACTIONS / (leader.posts_w * mean_f[cal.LEADER]) * 100
    rates = cal.solve_engagement_rates(leader_er)
    for plan in plans:
        in_w = [p for p in brand_posts[plan.brand_id] if w0 <= p.ts < w1 and p.kind != "repost"]
        if plan.brand_id == cal.LEADER:
            goal = cal.LEADER_INTERACTIONS
        else:
            goal = round(rates[plan.brand_id] / 100 * len(in_w) * mean_f[plan.brand_id])
        scale_to(in_w, goal, at)
        # Posts outside W keep a similar per-post level (plausible history, no target).
        per_post = goal / max(1, len(in_w))
        others = [p for p in brand_posts[plan.brand_id] if not (w0 <= p.ts < w1)]
        cur = sum(p.interactions for p in others) / max(1, len(others))
        if cur > 0:
            f = 0.8 * per_post / cur
            for p in others:
                p.likes, p.reposts = int(p.likes * f), int(p.reposts * f)
                p.replies, p.quotes = int(p.replies * f), int(p.quotes * f)


def observed(p: Post, at: int) -> int:
    age = at - p.ts
    if age >= YOUNG_MS:
        return p.interactions
    f = max(0, age) / YOUNG_MS
    return sum(math.floor(x * f) for x in (p.likes, p.reposts, p.replies, p.quotes))


def scale_to(posts: list[Post], goal: int, at: int) -> None:
    """Rescale posts' metrics so their interactions, as last observed at `at`, sum to `goal`."""
    cur = sum(p.interactions for p in posts)
    f = goal / cur if cur else 0.0
    for p in posts:
        p.likes, p.reposts = int(p.likes * f), int(p.reposts * f)
        p.replies, p.quotes = int(p.replies * f), int(p.quotes * f)
        p.bookmarks = int(p.bookmarks * f)
    gap = goal - sum(observed(p, at) for p in posts)
    # Close the gap on the most-liked post that is already final (1:1 effect on the sum).
    final = [p for p in posts if at - p.ts >= YOUNG_MS]
    top = max(final, key=lambda p: p.likes)
    if top.likes + gap < 0:
        raise ValueError("cannot calibrate interactions: gap larger than the top post")
    top.likes += gap
