"""Calibration of the pharma-fr world to the published 2018 barometer figures.

The targets are data (`PHARMA`, `FIGURES`); `solve_engagement_rates` turns them into the
per-brand engagement rates the world must show so that, under the default scoring
(min–max per indicator, arithmetic means), Sanofi scores 84 and the panel's mean engagement
rate is 0.199 %. The world generator then sets brand interactions from those rates.

Why the algebra works: Sanofi is the maximum on every indicator but community growth and
engagement rate, so its leadership is
    L = ((100 + s_growth + 100) / 3 + 100 + (100 + s_er) / 2) / 3,
and s_growth is fixed by the follower targets: s_er follows from L. With GSK at the minimum
engagement rate and MSD France at the maximum, Sanofi's rate must sit at s_er % of the range;
the other four brands sit at fixed fractions of it, and the range is scaled so the panel mean
is the published 0.199 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

PANEL_ID = "pharma-fr"
RUN_DATE = date(2018, 4, 30)
WINDOW_DAYS = 181
WINDOW_START = date(2017, 11, 1)
REF_DAY = date(2017, 4, 30)
REF_START = date(2016, 11, 1)
# The last collector run for RUN_DATE happens at D+1T05:00Z (docs/contracts.md).
LAST_OBSERVATION = datetime(2018, 5, 1, 5, 0, tzinfo=UTC)
YOUNG = timedelta(days=3)  # posts gather interactions for 3 days, then their metrics are final
REFRESH_DAYS = 7


@dataclass(frozen=True)
class BrandTarget:
    brand_id: str
    posts_w: int
    posts_ref: int
    followers_end: int
    followers_ref: int
    mentions_w: int
    # Exponent of the follower curve between the reference day and the end (u**p): how
    # late in the year the growth came; it sets the mean followers over the window.
    follower_shape: float
    # Where the brand's engagement rate sits between the panel's min (0) and max (1);
    # None for the leader (solved) — GSK is 0.0 and MSD France 1.0 by construction.
    er_position: float | None
    # Followers half a year before the reference day, as a fraction of followers_ref.
    followers_start_ratio: float = 0.9


PHARMA: tuple[BrandTarget, ...] = (
    BrandTarget("sanofi", 429, 392, 12290, 9832, 16559, 4.0, None, 0.93),
    BrandTarget("msd-france", 198, 100, 8260, 2000, 7800, 1.6, 1.0, 0.8),
    BrandTarget("pfizer-france", 190, 171, 6000, 5000, 4600, 1.0, 0.95, 0.92),
    BrandTarget("novartis-france", 180, 176, 5512, 5200, 3900, 1.2, 0.80, 0.97),
    BrandTarget("roche-france", 170, 149, 4300, 3440, 3100, 1.0, 0.90, 0.9),
    BrandTarget("astrazeneca-france", 150, 139, 3900, 3000, 2700, 1.1, 0.88, 0.9),
    BrandTarget("gsk-france", 132, 121, 2760, 2400, 2300, 1.0, 0.0, 0.95),
)

LEADER = "sanofi"
LEADER_INTERACTIONS = 8341
MEAN_ENGAGEMENT_RATE = 0.199  # percent
LEADER_SCORE = 84.0

# The published figures, for tests and docs.
FIGURES = {
    "brands": 7,
    "mean_followers_end": 6146,
    "mean_growth_pct": 62,
    "msd_growth_pct": 313,
    "msd_posts_growth_pct": 98,
    "sanofi_posts": 429,
    "mean_posts": 207,
    "sanofi_mentions": 16559,
    "sanofi_interactions": LEADER_INTERACTIONS,
    "mean_engagement_rate": MEAN_ENGAGEMENT_RATE,
    "sanofi_leadership": 84,
    "second": "msd-france",
}


def applies(panel_id: str, run_date: date, window_days: int) -> bool:
    """The calibration holds for the study's own panel, run date and window only."""
    return panel_id == PANEL_ID and run_date == RUN_DATE and window_days == WINDOW_DAYS


def target(brand_id: str) -> BrandTarget:
    for t in PHARMA:
        if t.brand_id == brand_id:
            return t
    raise KeyError(brand_id)


def observed_fraction(created: datetime, at: datetime = LAST_OBSERVATION) -> float:
    """Share of a post's final metrics visible at `at` (linear over its 3 young days)."""
    age = (at - created) / YOUNG
    return max(0.0, min(1.0, age))


def observe(final: int, created: datetime, at: datetime = LAST_OBSERVATION) -> int:
    return math.floor(final * observed_fraction(created, at))


def leader_er_score() -> float:
    """The engagement-rate score (0–100) the leader needs for its leadership target."""
    growth = {t.brand_id: math.log1p(t.followers_end / t.followers_ref - 1) for t in PHARMA}
    lo, hi = min(growth.values()), max(growth.values())
    s_growth = (growth[LEADER] - lo) / (hi - lo) * 100
    relational = (100 + s_growth + 100) / 3
    return 2 * (3 * LEADER_SCORE - relational - 100) - 100


def solve_engagement_rates(leader_er: float) -> dict[str, float]:
    """Per-brand engagement rates (%) given the leader's own (fixed by its followers)."""
    sigma = leader_er_score() / 100
    mids = [t.er_position for t in PHARMA if t.er_position not in (None, 0.0, 1.0)]
    n = len(PHARMA)
    denom = 1 + sum(p for p in mids if p is not None) - (n - 1) * sigma
    span = n * (MEAN_ENGAGEMENT_RATE - leader_er) / denom
    low = leader_er - sigma * span
    if span <= 0 or low <= 0.02:
        raise ValueError(f"pharma calibration infeasible (span {span:.4f}, min ER {low:.4f})")
    rates = {}
    for t in PHARMA:
        rates[t.brand_id] = leader_er if t.er_position is None else low + t.er_position * span
    return rates
