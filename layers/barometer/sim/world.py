"""The simulated world behind the X API simulator: accounts, followers, posts, deletions.

`build_world(panel, seed)` is deterministic: the same panel, seed and end date give the same
world, byte for byte. For the pharma-fr panel at its demo run date the world is calibrated
to the 2018 barometer (see `calibration`); any other panel gets plausible seeded defaults
from its brands, so `barometer run --panel FILE` works on any panel. Texts, bios and the
institutions brand posts tag are in the panel's sector (`sectors.sector_for`).

The world's data types live in `model` (re-exported here); the phases in `worldgen`.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import numpy as np

from barometer.config import Panel
from barometer.sim import calibration as cal
from barometer.sim.model import (
    DAY_MS,
    TWEPOCH_MS,
    YOUNG_MS,
    Kind,
    Metrics,
    Post,
    User,
    World,
    day_ms,
    from_ms,
    min_id_at,
    snowflake,
    snowflake_ms,
    stable_user_id,
    to_ms,
)
from barometer.sim.sectors import sector_for
from barometer.sim.texts import TextMaker
from barometer.sim.worldgen.accounts import add_author_pool, add_brand_accounts, add_institutions
from barometer.sim.worldgen.calibrate import calibrate_interactions
from barometer.sim.worldgen.draft import Draft
from barometer.sim.worldgen.extras import add_brand_reposts, add_deletions, add_noise, add_retweets
from barometer.sim.worldgen.plans import make_plans, segments
from barometer.sim.worldgen.posts import add_brand_posts, add_mentions, set_mention_metrics

__all__ = [
    "DAY_MS",
    "TWEPOCH_MS",
    "YOUNG_MS",
    "Kind",
    "Metrics",
    "Post",
    "User",
    "World",
    "build_world",
    "day_ms",
    "from_ms",
    "min_id_at",
    "snowflake",
    "snowflake_ms",
    "stable_user_id",
    "to_ms",
]


def build_world(panel: Panel, seed: int | None = None, *, end: date | None = None) -> World:
    """Build the deterministic simulated world for `panel`.

    `end` (the last simulated UTC day) defaults to the panel's demo run date; a panel without
    a demo section needs it (or gets today's UTC date, which is then not reproducible).
    """
    if seed is None:
        seed = panel.demo.seed if panel.demo else 2018
    if end is None:
        end = panel.demo.run_date if panel.demo else datetime.now(UTC).date()
    d = _draft(panel, seed, end)
    add_brand_accounts(d)
    add_author_pool(d)
    add_institutions(d)
    add_brand_posts(d)
    add_mentions(d)
    set_mention_metrics(d)
    add_brand_reposts(d, add_noise(d))
    add_retweets(d)
    add_deletions(d)
    posts = _number_posts(d.posts, end)
    if _calibrated(panel, end):
        calibrate_interactions(d)
    return World(panel, seed, d.start, end, d.users, posts, d.brand_accounts)


def _calibrated(panel: Panel, end: date) -> bool:
    """Whether this is the 2018 pharma-fr barometer the world is calibrated to."""
    return cal.applies(panel.id, end, panel.scoring.window_days) and [b.id for b in panel.brands] == [
        t.brand_id for t in cal.PHARMA
    ]


def _draft(panel: Panel, seed: int, end: date) -> Draft:
    """The seeded streams, the history's periods and the brands' plans, before any account."""
    start = panel.first_date or (end - timedelta(days=548))
    start = min(start, end - timedelta(days=panel.scoring.window_days))
    calibrated = _calibrated(panel, end)
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    texts = TextMaker(rng, sector_for(panel))  # the panel's sector's wording (pharma: the 2018 world)
    segs = segments(start, end, panel.scoring.window_days)
    if calibrated:
        segs["ref"] = (cal.REF_START, cal.REF_DAY)
    plans = make_plans(panel, segs, calibrated, rng)
    return Draft(panel, start, end, segs, plans, rng, nrng, texts)


def _number_posts(posts: list[Post], end: date) -> list[Post]:
    """The world's posts in time order, with snowflake ids (ties keep generation order)."""
    # Drop anything a retweet pushed past the end of the world.
    end_ms = day_ms(end) + DAY_MS
    posts = [p for p in posts if p.ts < end_ms]
    posts.sort(key=lambda p: p.ts)
    for i, p in enumerate(posts):
        p.id = snowflake(p.ts, i)
    return posts
