"""Scoring properties: bounds, order invariance, monotonicity, contributions summing to the score."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barometer.config import Scoring
from barometer.definitions import INDICATOR_IDS
from barometer.errors import ConfigError
from barometer.score.scoring import normalise, rank_of, score_values

METHODS = ("minmax", "zscore", "rank", "goalposts")
AGGS = ("arithmetic", "geometric")
GOALPOSTS = {i: (0.0, 10.0) for i in INDICATOR_IDS[:4]}

value = st.one_of(st.none(), st.floats(min_value=0, max_value=1e7, allow_nan=False))
brand_values = st.fixed_dictionaries({i: value for i in INDICATOR_IDS})
panels = st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), brand_values, min_size=1, max_size=8)
weights = st.dictionaries(st.sampled_from(INDICATOR_IDS), st.floats(min_value=0.1, max_value=5), max_size=8)


def scoring(norm: str, agg: str, wi: dict[str, float] | None = None) -> Scoring:
    return Scoring(normalisation=norm, aggregation=agg, indicator_weights=wi or {}, goalposts=GOALPOSTS)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(panels, st.sampled_from(METHODS), st.sampled_from(AGGS), weights)
def test_scores_bounded_and_contributions_sum(values: dict, norm: str, agg: str, wi: dict) -> None:
    r = score_values(values, scoring(norm, agg, wi))
    s = r.scores[~np.isnan(r.scores)]
    assert ((s >= 0) & (s <= 100)).all()
    for arr in (r.attributes, r.leadership):
        a = arr[~np.isnan(arr)]
        assert ((a >= -1e-9) & (a <= 100 + 1e-9)).all()
    ok = ~np.isnan(r.leadership)
    np.testing.assert_allclose(r.contributions.sum(axis=1)[ok], r.leadership[ok], atol=1e-9)
    assert (r.contributions[~ok] == 0).all()
    assert sorted(r.rank.tolist()) == list(range(1, len(values) + 1))
    # Missing values have no score and no weight; coverage counts the others.
    missing = np.isnan(r.values)
    assert np.isnan(r.scores[missing]).all() and (r.weights[missing] == 0).all()
    np.testing.assert_allclose(r.coverage, 1 - missing.mean(axis=1))


@settings(max_examples=100, deadline=None)
@given(panels, st.sampled_from(METHODS), st.sampled_from(AGGS), st.randoms(use_true_random=False))
def test_invariant_to_brand_order(values: dict, norm: str, agg: str, rnd) -> None:
    items = list(values.items())
    rnd.shuffle(items)
    a = score_values(values, scoring(norm, agg))
    b = score_values(dict(items), scoring(norm, agg))
    assert a.brand_ids == b.brand_ids
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.rank, b.rank)


@settings(max_examples=200, deadline=None)
@given(panels, st.sampled_from(METHODS), st.data())
def test_raising_a_value_never_lowers_its_score(values: dict, norm: str, data: st.DataObject) -> None:
    brand = data.draw(st.sampled_from(sorted(values)))
    ind = data.draw(st.sampled_from(INDICATOR_IDS))
    old = values[brand][ind]
    if old is None:
        return
    bump = data.draw(st.floats(min_value=0, max_value=1e6, allow_nan=False))
    raised = {b: dict(v) for b, v in values.items()}
    raised[brand][ind] = old + bump
    sc = scoring(norm, "arithmetic")
    a, b = score_values(values, sc), score_values(raised, sc)
    i, k = a.index(brand), INDICATOR_IDS.index(ind)
    assert b.scores[i, k] >= a.scores[i, k] - 1e-9


def test_minmax_edges() -> None:
    t = np.array([[1.0, 5.0, np.nan], [3.0, 5.0, np.nan], [np.nan, 5.0, 2.0]])
    s = normalise(t, "minmax")
    np.testing.assert_array_equal(s[:, 0], [0.0, 100.0, np.nan])
    np.testing.assert_array_equal(s[:, 1], [50.0, 50.0, 50.0])  # all equal
    np.testing.assert_array_equal(s[:, 2], [np.nan, np.nan, 50.0])  # one brand


def test_zscore_and_rank() -> None:
    t = np.array([[0.0], [1.0], [2.0], [2.0]])
    z = normalise(t, "zscore")[:, 0]
    mean, sd = 1.25, np.sqrt(((t[:, 0] - 1.25) ** 2).mean())
    np.testing.assert_allclose(z, (np.clip((t[:, 0] - mean) / sd, -3, 3) + 3) / 6 * 100)
    np.testing.assert_allclose(normalise(t, "rank")[:, 0], [0.0, 100 / 3, 250 / 3, 250 / 3])


def test_goalposts_clip_and_fallback() -> None:
    values = {"a": dict.fromkeys(INDICATOR_IDS, 1e9), "b": dict.fromkeys(INDICATOR_IDS, 0.0)}
    r = score_values(values, Scoring(normalisation="goalposts", goalposts={"community": (0.0, 5.0)}))
    assert r.scores[0, 0] == 100.0 and r.scores[1, 0] == 0.0
    assert r.scores[0, 3] == 100.0  # content_volume: no goalposts → minmax


def test_weights_and_geometric_floor() -> None:
    values = {"a": {i: 10.0 for i in INDICATOR_IDS}, "b": {i: 1.0 for i in INDICATOR_IDS}}
    values["a"]["mentions"] = 0.0
    r = score_values(values, Scoring(aggregation="geometric"))
    assert r.leadership[0] > 0  # a 0 score does not zero the index
    r = score_values(values, Scoring(attribute_weights={"relational": 2.0}))
    np.testing.assert_allclose(r.weights.sum(axis=1), 1.0)
    np.testing.assert_allclose(r.weights[0, :3].sum(), 0.5)
    with pytest.raises(ConfigError, match="unknown id"):
        score_values(values, Scoring(indicator_weights={"nope": 1.0}))


def test_rank_ties_by_brand_id_and_missing_last() -> None:
    assert rank_of(np.array([50.0, 50.0, np.nan, 70.0])).tolist() == [2, 3, 4, 1]
    values = {"b": dict.fromkeys(INDICATOR_IDS, 1.0), "a": dict.fromkeys(INDICATOR_IDS, 1.0),
              "c": dict.fromkeys(INDICATOR_IDS)}
    r = score_values(values)
    assert r.brand_ids == ["a", "b", "c"] and r.rank.tolist() == [1, 2, 3]
    assert np.isnan(r.leadership[2]) and r.coverage[2] == 0
