"""Sensitivity: seeded, reproducible, and bands that make sense."""

from __future__ import annotations

import numpy as np

from barometer.config import Scoring
from barometer.definitions import INDICATOR_IDS
from barometer.score.scoring import score_values
from barometer.score.sensitivity import sensitivity


def _values(n: int, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    return {f"b{i:02d}": {k: float(rng.lognormal(3, 1)) for k in INDICATOR_IDS} for i in range(n)}


def test_same_seed_same_bands_and_draw_count() -> None:
    sc = Scoring(sensitivity_draws=1000, seed=7)
    r = score_values(_values(12), sc)
    a, b = sensitivity(r, sc), sensitivity(r, sc)
    assert a.ranks.shape == (1000, 12)
    np.testing.assert_array_equal(a.ranks, b.ranks)
    np.testing.assert_array_equal(a.rank_low, b.rank_low)
    c = sensitivity(r, sc, seed=8)
    assert not np.array_equal(a.ranks, c.ranks)


def test_band_sanity() -> None:
    sc = Scoring(sensitivity_draws=1000)
    r = score_values(_values(10), sc)
    s = sensitivity(r, sc)
    assert ((s.rank_low >= 1) & (s.rank_low <= r.rank) & (r.rank <= s.rank_high) & (s.rank_high <= 10)).all()
    # Each draw is a permutation of the ranks.
    assert (np.sort(s.ranks, axis=1) == np.arange(1, 11)).all()
    # Percentiles are taken on integer ranks.
    assert s.rank_low.tolist() == [min(int(np.percentile(s.ranks[:, i], 5, method="lower")), r.rank[i])
                                   for i in range(10)]


def test_dominant_brand_has_a_tight_band() -> None:
    values = _values(6)
    values["top"] = {k: 1e9 for k in INDICATOR_IDS}
    sc = Scoring()
    r = score_values(values, sc)
    s = sensitivity(r, sc)
    i = r.index("top")
    assert r.rank[i] == s.rank_low[i] == s.rank_high[i] == 1


def test_order_invariance() -> None:
    v = _values(8)
    sc = Scoring(sensitivity_draws=300)
    a = sensitivity(score_values(v, sc), sc)
    b = sensitivity(score_values(dict(reversed(list(v.items()))), sc), sc)
    np.testing.assert_array_equal(a.ranks, b.ranks)
