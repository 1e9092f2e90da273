"""Seeded draws the generation phases share: creation times with a daily rhythm, and fast
integer draws from `random.Random`."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np

from barometer.sim.model import DAY_MS, day_ms

HOUR_WEIGHTS = np.array(
    [1, 0.5, 0.3, 0.3, 0.5, 1.5, 4, 7, 9, 10, 10, 9, 8, 9, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2], dtype=float
)
HOUR_WEIGHTS /= HOUR_WEIGHTS.sum()

def times(nrng: np.random.Generator, d0: date, d1: date, n: int, weekend: float, spikes: int) -> np.ndarray:
    """`n` creation times (epoch ms) spread over days d0..d1 with a daily rhythm and spikes."""
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    nd = (d1 - d0).days + 1
    dow = np.array([(d0 + timedelta(days=i)).weekday() for i in range(nd)])
    w = np.where(dow >= 5, weekend, 1.0) * nrng.gamma(4.0, 0.25, nd)
    if spikes and nd > 3:
        for j in nrng.choice(nd, size=min(spikes, nd), replace=False):
            w[j] *= nrng.uniform(3, 9)
    counts = nrng.multinomial(n, w / w.sum())
    day_idx = np.repeat(np.arange(nd), counts)
    hours = nrng.choice(24, size=n, p=HOUR_WEIGHTS)
    ms_in_hour = nrng.integers(0, 3_600_000, size=n)
    ts = day_ms(d0) + day_idx.astype(np.int64) * DAY_MS + hours * 3_600_000 + ms_in_hour
    ts.sort()
    return ts


def rr(rng: random.Random, n: int) -> int:
    # random() is several times faster than randrange() and as deterministic.
    return int(rng.random() * n)


def ri(rng: random.Random, a: int, b: int) -> int:
    return a + int(rng.random() * (b - a + 1))


def same_night(ts: int, rng: random.Random) -> int:
    """When a post made at `ts` is deleted: a minute later at the earliest, and (room allowing)
    an hour before the next 05:00Z collector run at the latest."""
    next_run = (ts // DAY_MS + 1) * DAY_MS + 5 * 3_600_000
    return ts + ri(rng, 60_000, max(120_000, next_run - ts - 3_600_000))
