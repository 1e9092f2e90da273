"""Per-brand plans: how many posts and mentions each period of the history holds, and the
brand's follower curve. Calibrated from the 2018 targets for pharma-fr, seeded otherwise."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from barometer.config import Panel
from barometer.sim import calibration as cal


@dataclass(frozen=True)
class Plan:
    brand_id: str
    followers_end: int
    followers_ref: int
    followers_start_ratio: float
    follower_shape: float
    posts: dict[str, int]  # segment name → brand posts (non-repost)
    mentions: dict[str, int]  # segment name → mention posts by others (non-retweet)
    er_target: float | None = None  # percent; set when calibrated


def segments(start: date, end: date, window_days: int) -> dict[str, tuple[date, date]]:
    """The history's periods: the window W, the same window a year before, and the rest."""
    w0 = end - timedelta(days=window_days - 1)
    ref_end = year_before(end)
    ref0 = year_before(w0)
    segs = {
        "pre": (start, ref0 - timedelta(days=1)),
        "ref": (max(start, ref0), ref_end),
        "mid": (max(start, ref_end + timedelta(days=1)), w0 - timedelta(days=1)),
        "w": (max(start, w0), end),
    }
    return {k: v for k, v in segs.items() if v[0] <= v[1]}


def year_before(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def ndays(seg: tuple[date, date]) -> int:
    return (seg[1] - seg[0]).days + 1


def make_plans(
    panel: Panel, segs: dict[str, tuple[date, date]], calibrated: bool, rng: random.Random
) -> list[Plan]:
    plans = []
    if calibrated:
        for t in cal.PHARMA:
            posts = {
                "ref": t.posts_ref,
                "w": t.posts_w,
                "mid": round((t.posts_ref + t.posts_w) / 2 * ndays(segs["mid"]) / 181),
            }
            mentions = {
                "ref": round(t.mentions_w * 0.72),
                "w": t.mentions_w,
                "mid": round(t.mentions_w * 0.85 * ndays(segs["mid"]) / 181),
            }
            plans.append(
                Plan(
                    t.brand_id,
                    t.followers_end,
                    t.followers_ref,
                    t.followers_start_ratio,
                    t.follower_shape,
                    posts,
                    mentions,
                )
            )
        return plans
    n = len(panel.brands)
    for i, b in enumerate(panel.brands):
        # Earlier brands in the file are the bigger ones, loosely: plausible spreads.
        size = (1.0 - 0.6 * i / max(1, n - 1)) * rng.uniform(0.8, 1.25)
        f_end = int(8000 * size * rng.uniform(0.7, 1.4)) + 200
        growth = rng.uniform(0.03, 0.6)
        per_day_posts = 1.2 * size * rng.uniform(0.7, 1.3)
        per_day_mentions = 60 * size**2 * rng.uniform(0.6, 1.5)
        posts = {
            k: max(1, round(per_day_posts * ndays(s) * (0.85 if k != "w" else 1.0))) for k, s in segs.items()
        }
        mentions = {
            k: max(1, round(per_day_mentions * ndays(s) * (0.8 if k != "w" else 1.0)))
            for k, s in segs.items()
        }
        plans.append(
            Plan(
                b.id,
                f_end,
                max(50, int(f_end / (1 + growth))),
                rng.uniform(0.85, 0.97),
                rng.uniform(0.8, 2.5),
                posts,
                mentions,
            )
        )
    return plans


def follower_series(plan: Plan, start: date, end: date, rng: np.random.Generator) -> dict[date, int]:
    """Daily end-of-day followers, exact at the reference day and at the end."""
    ref = year_before(end)
    days = (end - start).days + 1
    out: dict[date, int] = {}
    f_start = plan.followers_ref * plan.followers_start_ratio
    noise = rng.normal(0, 1, days).cumsum()
    for i in range(days):
        d = start + timedelta(days=i)
        if d <= ref:
            span = max(1, (ref - start).days)
            u = 1 - (ref - d).days / span
            base = f_start + (plan.followers_ref - f_start) * u
            wob = math.sin(math.pi * u)
        else:
            u = (d - ref).days / (end - ref).days
            base = plan.followers_ref + (plan.followers_end - plan.followers_ref) * u**plan.follower_shape
            wob = math.sin(math.pi * u)
        # A small random walk, pinned to zero at the anchors so the targets stay exact.
        out[d] = max(1, round(base + wob * noise[i] * 0.6))
    if ref >= start:
        out[ref] = plan.followers_ref
    out[end] = plan.followers_end
    return out
