"""The world under construction, handed from one generation phase to the next."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from barometer.config import Panel
from barometer.sim.model import Post, User, day_ms
from barometer.sim.texts import TextMaker
from barometer.sim.worldgen.plans import Plan


@dataclass
class Draft:
    panel: Panel
    start: date
    end: date
    segs: dict[str, tuple[date, date]]  # the history's periods (see `plans.segments`)
    plans: list[Plan]  # one per brand, in the panel's order
    # Two seeded streams, each drawn in a fixed order: the world depends on both sequences.
    rng: random.Random
    nrng: np.random.Generator
    texts: TextMaker  # draws from `rng`
    users: dict[str, User] = field(default_factory=dict)
    brand_accounts: dict[str, list[str]] = field(default_factory=dict)  # brand id → user ids
    handle_of: dict[str, str] = field(default_factory=dict)  # brand and institution accounts
    pool_ids: list[str] = field(default_factory=list)  # other authors
    # Each pool author's propensity to post (heavy-tailed), aligned with `pool_ids`.
    activity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    inst_ids: list[str] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    brand_posts: dict[str, list[Post]] = field(default_factory=dict)  # originals, replies, quotes
    mentions: dict[str, list[Post]] = field(default_factory=dict)  # by others, per brand

    @property
    def start_ms(self) -> int:
        return day_ms(self.start)
