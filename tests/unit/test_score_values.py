"""Every documented scoring choice pinned by value: hand-computed scores and leadership on
small panels, for each normalisation and aggregation, goalposts, weights, missing data, and
the methodology page's own statements checked against those same numbers.

The panels are given by their *transformed* values (ln(1 + x) for the log1p indicators, x for
centrality and the engagement rate), so every expected score below is worked by hand from them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import get_args

import numpy as np
import pytest

from barometer.config import Aggregation, Normalisation, Scoring
from barometer.definitions import INDICATOR_IDS, INDICATORS
from barometer.errors import ConfigError
from barometer.score.scoring import (
    AGGREGATIONS,
    NORMALISATIONS,
    SENSITIVITY_NORMALISATIONS,
    aggregate,
    base_weights,
    normalise,
    rank_of,
    score_values,
    transform,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "methodology.md"
NAN = float("nan")
LOG1P = [i.transform == "log1p" for i in INDICATORS]


def raw(levels: dict[str, list[float | None]]) -> dict[str, dict[str, float | None]]:
    """{brand: transformed levels in INDICATOR_IDS order} → raw values (None = missing)."""
    out: dict[str, dict[str, float | None]] = {}
    for brand, row in levels.items():
        out[brand] = {i: None if t is None else (math.expm1(t) if log else t)
                      for i, t, log in zip(INDICATOR_IDS, row, LOG1P, strict=True)}
    return out


def close(got: np.ndarray | float, want: object) -> None:
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=0, atol=1e-9)


# The panel: three brands, transformed values per indicator.
#            community growth centrality volume mentions reach interactions rate
PANEL = raw({
    "a": [0.0, 2.0, 0.1, 1.0, 3.0, 0.0, 2.0, 1.0],
    "b": [1.0, 0.0, 0.3, 1.0, 2.0, 4.0, 3.0, 2.0],
    "c": [4.0, 1.0, 0.5, 1.0, 1.0, 2.0, 2.0, 5.0],
})

# min–max: (t − min)/(max − min) × 100; content_volume is equal for all → 50.
MINMAX = [
    [0, 100, 0, 50, 100, 0, 0, 0],  # a
    [25, 0, 50, 50, 50, 100, 100, 25],  # b: community 1/4, rate 1/4
    [100, 50, 100, 50, 0, 50, 0, 100],  # c
]
# Attributes (mean of their indicators) and leadership (mean of the three attributes).
MINMAX_ATTR = [[100 / 3, 50, 0], [25, 200 / 3, 62.5], [250 / 3, 100 / 3, 50]]
MINMAX_LEAD = [(100 / 3 + 50 + 0) / 3, (25 + 200 / 3 + 62.5) / 3, (250 / 3 + 100 / 3 + 50) / 3]
#                = 27.78               = 51.39                  = 55.56

# rank: (average rank − 1)/(n − 1) × 100; ties share their mean rank (interactions 2, 3, 2 →
# ranks 1.5, 3, 1.5 → 25, 100, 25; content_volume all tied → rank 2 → 50).
RANK = [
    [0, 100, 0, 50, 100, 0, 25, 0],
    [50, 0, 50, 50, 50, 100, 100, 50],
    [100, 50, 100, 50, 0, 50, 25, 100],
]
RANK_LEAD = [(100 / 3 + 50 + 12.5) / 3, (100 / 3 + 200 / 3 + 75) / 3, (250 / 3 + 100 / 3 + 62.5) / 3]


def _z(z: float) -> float:
    """A z-score mapped to 0–100: [−3, 3] → [0, 100], z = 0 → 50."""
    return (max(-3.0, min(3.0, z)) + 3) / 6 * 100


# z-score, population sd. Three equally spaced values: z = −√1.5, 0, √1.5. Values 0, 1, 4 (and
# 1, 2, 5): mean 5/3, sd √26/3, z = −5/√26, −2/√26, 7/√26. Values 2, 3, 2: z = −1/√2, √2, −1/√2.
S, R26, R2 = math.sqrt(1.5), math.sqrt(26), math.sqrt(2)
ZSCORE = [
    [_z(-5 / R26), _z(S), _z(-S), 50, _z(S), _z(-S), _z(-1 / R2), _z(-5 / R26)],
    [_z(-2 / R26), _z(-S), 50, 50, 50, _z(S), _z(R2), _z(-2 / R26)],
    [_z(7 / R26), 50, _z(S), 50, _z(-S), 50, _z(-1 / R2), _z(7 / R26)],
]


def _lead(scores: list[list[float]]) -> list[float]:
    """Equal-weight arithmetic leadership, by hand: attributes hold 3, 3 and 2 indicators."""
    return [(sum(r[0:3]) / 3 + sum(r[3:6]) / 3 + sum(r[6:8]) / 2) / 3 for r in scores]


@pytest.mark.parametrize(("norm", "scores", "lead"), [
    ("minmax", MINMAX, MINMAX_LEAD),
    ("rank", RANK, RANK_LEAD),
    ("zscore", ZSCORE, _lead(ZSCORE)),
])
def test_each_normalisation_by_hand(norm: str, scores: list[list[float]], lead: list[float]) -> None:
    r = score_values(PANEL, Scoring(normalisation=norm))  # type: ignore[arg-type]
    assert r.brand_ids == ["a", "b", "c"] and r.normalisation == norm
    close(r.scores, scores)
    close(r.leadership, lead)
    assert r.rank.tolist() == [3, 2, 1]
    close(r.coverage, [1, 1, 1])


def test_arithmetic_attributes_leadership_weights_and_contributions() -> None:
    r = score_values(PANEL)
    close(r.attributes, MINMAX_ATTR)
    close(r.leadership, MINMAX_LEAD)
    # Effective weight: 1/3 of the attribute × 1/3 (relational, expression) or 1/2 (engagement).
    close(r.weights, [[1 / 9] * 6 + [1 / 6] * 2] * 3)
    # Contribution = effective weight × score: b's interactions bring 100/6 points.
    close(r.contributions[1], [25 / 9, 0, 50 / 9, 50 / 9, 50 / 9, 100 / 9, 100 / 6, 25 / 6])
    close(r.contributions.sum(axis=1), MINMAX_LEAD)


def test_geometric_aggregation_by_hand() -> None:
    r = score_values(PANEL, Scoring(aggregation="geometric"))
    assert r.aggregation == "geometric"
    close(r.scores, MINMAX)  # the floor applies in the means, not to the published scores
    # Scores floored at 1: a = [1, 100, 1 | 50, 100, 1 | 1, 1].
    a_attr = [100 ** (1 / 3), 5000 ** (1 / 3), 1.0]
    b_attr = [1250 ** (1 / 3), 250_000 ** (1 / 3), 50.0]  # [25, 1, 50 | 50, 50, 100 | 100, 25]
    c_attr = [500_000 ** (1 / 3), 2500 ** (1 / 3), 10.0]  # [100, 50, 100 | 50, 1, 50 | 1, 100]
    close(r.attributes, [a_attr, b_attr, c_attr])
    lead = [math.prod(x) ** (1 / 3) for x in (a_attr, b_attr, c_attr)]
    close(r.leadership, lead)  # 4.30, 32.38, 22.08: b leads (c's 1-point scores weigh more)
    assert r.rank.tolist() == [3, 1, 2]
    # Contribution = leadership × (effective weight × ln score) / ln leadership.
    la = lead[0]
    close(r.contributions[0], [0, la * math.log(100) / 9 / math.log(la), 0, la * math.log(50) / 9 / math.log(la),
                               la * math.log(100) / 9 / math.log(la), 0, 0, 0])
    close(r.contributions.sum(axis=1), lead)


def test_geometric_floor_is_one_point_and_a_leadership_at_the_floor_splits_by_weight() -> None:
    # One brand at the panel minimum everywhere (every score 0, floored at 1): leadership is
    # exactly the floor; ln = 0, so contributions are the effective weights × 1.
    r = score_values(raw({"a": [0.0] * 8, "b": [1.0] * 8}), Scoring(aggregation="geometric"))
    close(r.leadership, [1.0, 100.0])
    close(r.contributions[0], [1 / 9] * 6 + [1 / 6] * 2)
    close(r.contributions[1], [100 / 9] * 6 + [100 / 6] * 2)


def test_weights_are_weighted_means_by_hand() -> None:
    sc = Scoring(indicator_weights={"community": 2.0, "mentions": 3.0}, attribute_weights={"engagement": 2.0})
    r = score_values(PANEL, sc)
    # b: relational (2·25 + 0 + 50)/4 = 25; expression (50 + 3·50 + 100)/5 = 60; engagement 62.5.
    close(r.attributes, [[25, 70, 0], [25, 60, 62.5], [87.5, 20, 50]])
    close(r.leadership, [(25 + 70 + 0) / 4, (25 + 60 + 2 * 62.5) / 4, (87.5 + 20 + 2 * 50) / 4])
    #                   = 23.75             = 52.5                   = 51.875
    assert r.rank.tolist() == [3, 1, 2]
    close(r.weights[0], [2 / 16, 1 / 16, 1 / 16, 1 / 20, 3 / 20, 1 / 20, 1 / 4, 1 / 4])
    wi, wa = base_weights(sc)
    close(wi, [2, 1, 1, 1, 3, 1, 1, 1])
    close(wa, [1, 1, 2])


def test_goalposts_away_from_zero_by_hand() -> None:
    gp = {"community": (0.5, 4.5), "centrality": (0.2, 0.4)}
    r = score_values(PANEL, Scoring(normalisation="goalposts", goalposts=gp))
    # community (t − 0.5)/4 × 100: 0 → −12.5 clipped to 0; 1 → 12.5; 4 → 87.5.
    close(r.scores[:, 0], [0, 12.5, 87.5])
    # centrality (t − 0.2)/0.2 × 100: 0.1 → clipped to 0; 0.3 → 50; 0.5 → clipped to 100.
    close(r.scores[:, 2], [0, 50, 100])
    # Indicators without goalposts fall back to min–max.
    close(r.scores[:, [1, 3, 4, 5, 6, 7]], np.array(MINMAX)[:, [1, 3, 4, 5, 6, 7]])
    # Comparable across dates: the same value scores the same whatever the rest of the panel.
    alone = score_values({"b": PANEL["b"]}, Scoring(normalisation="goalposts", goalposts=gp))
    close(alone.scores[0, [0, 2]], [12.5, 50])


def test_goalposts_through_normalise_and_its_fallback() -> None:
    t = transform(np.array([[math.expm1(1.0), 0.3] + [0.0] * 6, [math.expm1(4.0), 0.5] + [1.0] * 6]))
    s = normalise(t, "goalposts", {"community": (0.5, 4.5)})
    close(s[:, 0], [12.5, 87.5])
    close(s[:, 1], [0, 100])  # no goalposts for growth: min–max
    close(normalise(t, "goalposts")[:, 0], [0, 100])  # none given: min–max everywhere
    with pytest.raises(ConfigError, match="unknown method 'median'"):
        normalise(t, "median")


# Missing data: p has everything; q one indicator per attribute; r a single indicator.
#               community growth centrality volume mentions reach interactions rate
PARTIAL = raw({
    "p": [2.0, 1.0, 0.2, 3.0, 1.0, 2.0, 4.0, 1.0],
    "q": [3.0, None, None, 4.0, None, None, 2.0, None],
    "r": [None, None, None, None, 3.0, None, None, None],
})


def test_partial_data_by_hand() -> None:
    r = score_values(PARTIAL)
    # Bounds over the brands with a value; an indicator only one brand has scores 50.
    close(r.scores, [[0, 50, 50, 0, 0, 50, 100, 50],
                     [100, NAN, NAN, 100, NAN, NAN, 0, NAN],
                     [NAN, NAN, NAN, NAN, 100, NAN, NAN, NAN]])
    # q: one indicator per attribute carries the attribute; r: one attribute carries the index.
    close(r.attributes, [[100 / 3, 50 / 3, 75], [100, 100, 0], [NAN, 100, NAN]])
    close(r.leadership, [(100 / 3 + 50 / 3 + 75) / 3, 200 / 3, 100])
    assert r.rank.tolist() == [3, 2, 1]
    close(r.coverage, [1, 3 / 8, 1 / 8])
    close(r.weights[1], [1 / 3, 0, 0, 1 / 3, 0, 0, 1 / 3, 0])
    close(r.weights[2], [0, 0, 0, 0, 1, 0, 0, 0])
    close(r.contributions[2], [0, 0, 0, 0, 100, 0, 0, 0])
    g = score_values(PARTIAL, Scoring(aggregation="geometric"))
    close(g.attributes[2], [NAN, 100, NAN])
    # p floored: [1, 50, 50 | 1, 1, 50 | 100, 50]; q: [100 | 100 | 1]; r: [100].
    p_attr = [(1 * 50 * 50) ** (1 / 3), (1 * 1 * 50) ** (1 / 3), (100 * 50) ** (1 / 2)]
    close(g.attributes[0], p_attr)
    close(g.leadership, [math.prod(p_attr) ** (1 / 3), (100 * 100 * 1) ** (1 / 3), 100])


def test_a_brand_with_nothing_has_no_leadership_and_ranks_last() -> None:
    values = {**PARTIAL, "0": dict.fromkeys(INDICATOR_IDS)}
    r = score_values(values)
    assert r.brand_ids[0] == "0" and math.isnan(r.leadership[0]) and r.rank[0] == 4
    assert np.isnan(r.attributes[0]).all() and (r.weights[0] == 0).all() and (r.contributions[0] == 0).all()
    assert r.coverage[0] == 0


@pytest.mark.parametrize("norm", ["minmax", "zscore", "rank"])
def test_an_indicator_only_one_brand_has_scores_50(norm: str) -> None:
    r = score_values(PARTIAL, Scoring(normalisation=norm))  # type: ignore[arg-type]
    for col in ("community_growth", "centrality", "mention_reach", "engagement_rate"):
        k = INDICATOR_IDS.index(col)
        close(r.scores[:, k], [50, NAN, NAN])
    alone = score_values({"x": {"community": 1234.0, "centrality": 0.7}}, Scoring(normalisation=norm))  # type: ignore[arg-type]
    close(alone.scores[0, :3], [50, NAN, 50])
    close(alone.leadership, [50])


def test_goalposts_score_one_brand_by_its_bounds_not_50() -> None:
    r = score_values({"x": raw({"x": [1.0] * 8})["x"]},
                     Scoring(normalisation="goalposts", goalposts={"community": (0.0, 4.0)}))
    close(r.scores[0], [25, 50, 50, 50, 50, 50, 50, 50])


def test_zscore_clips_at_three_and_equal_values_score_50() -> None:
    # Ten brands at 0 and one at 1: z = √10 ≈ 3.16 for the outlier (clipped to 3 → 100) and
    # −1/√10 for the others.
    t = np.zeros((11, 1))
    t[10, 0] = 1.0
    s = normalise(t, "zscore")[:, 0]
    close(s[10], 100)
    close(s[:10], [_z(-1 / math.sqrt(10))] * 10)
    close(normalise(np.full((4, 1), 7.25), "zscore"), [[50]] * 4)
    # Equal up to float noise is equal (sd ≤ 1e-12 of the values); these sums are exact.
    close(normalise(np.array([[1e6], [1e6 + 2**-24]]), "zscore"), [[50], [50]])
    close(normalise(np.array([[1e6], [1e6 + 2**-10]]), "zscore"), [[_z(-1)], [_z(1)]])


def test_rank_ties_share_their_mean_rank() -> None:
    t = np.array([[5.0], [1.0], [5.0], [np.nan], [3.0], [5.0]])
    # Sorted: 1 (rank 1), 3 (rank 2), 5 5 5 (ranks 3, 4, 5 → 4): (r − 1)/4 × 100.
    close(normalise(t, "rank")[:, 0], [75, 0, 75, NAN, 25, 75])
    close(normalise(np.full((3, 1), np.nan), "rank"), [[NAN]] * 3)


def test_minmax_on_transformed_values_and_the_log_floor() -> None:
    # ln(1 + x): 0 → 0, e − 1 → 1, e³ − 1 → 3 (a growth of −1 or less is floored, not −∞).
    v = np.array([[0.0, -1.0], [math.e - 1, 0.0], [math.e ** 3 - 1, -5.0]])
    full = np.zeros((3, 8))
    full[:, 0], full[:, 1] = v[:, 0], v[:, 1]
    t = transform(full)
    close(t[:, 0], [0, 1, 3])
    assert np.isfinite(t[:, 1]).all()
    close(t[:, 1], [math.log1p(-1 + 1e-9), 0, math.log1p(-1 + 1e-9)])
    close(normalise(t, "minmax")[:, 0], [0, 100 / 3, 100])
    full[:, 2] = [0.2, 0.4, 0.8]  # centrality: identity
    close(transform(full)[:, 2], [0.2, 0.4, 0.8])


@pytest.mark.parametrize(("weights", "message"), [
    ({"indicator_weights": {"mentions": -1.0}}, r"indicator_weights\.mentions: weight must be a finite number"),
    ({"indicator_weights": {"mentions": float("nan")}}, r"indicator_weights\.mentions: weight must be"),
    ({"indicator_weights": {"mentions": float("inf")}}, r"indicator_weights\.mentions: weight must be"),
    ({"attribute_weights": {"engagement": -0.5}}, r"attribute_weights\.engagement: weight must be"),
    ({"attribute_weights": {"engagement": float("nan")}}, r"attribute_weights\.engagement: weight must be"),
    ({"attribute_weights": {"nope": 1.0}}, r"attribute_weights: unknown id 'nope'"),
    ({"indicator_weights": {"nope": 1.0}}, r"indicator_weights: unknown id 'nope'"),
    ({"attribute_weights": dict.fromkeys(("relational", "expression", "engagement"), 0.0)},
     r"attribute_weights: the weights sum to 0"),
    ({"indicator_weights": dict.fromkeys(INDICATOR_IDS, 0.0)}, r"indicator_weights: .* sum to 0"),
    ({"indicator_weights": {"interactions": 0.0, "engagement_rate": 0.0}},
     r"indicator_weights: the indicators of engagement sum to 0"),
])
def test_weights_validation(weights: dict[str, dict[str, float]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        score_values(PANEL, Scoring(**weights))  # type: ignore[arg-type]


def test_zero_weights_that_leave_something_to_weigh_are_valid() -> None:
    # A zero-weight attribute drops out; a zero-weight indicator too (its attribute keeps others).
    r = score_values(PANEL, Scoring(attribute_weights={"engagement": 0.0}, indicator_weights={"community": 0.0}))
    close(r.attributes[:, 0], [50, 25, 75])  # relational without community
    close(r.leadership, [(50 + 50) / 2, (25 + 200 / 3) / 2, (75 + 100 / 3) / 2])
    close(r.weights[:, [0, 6, 7]], np.zeros((3, 3)))


@pytest.mark.parametrize(("goalposts", "message"), [
    ({"community": (2.0, 2.0)}, "the high bound must exceed the low bound"),
    ({"community": (3.0, 1.0)}, "the high bound must exceed the low bound"),
    ({"nope": (0.0, 1.0)}, "unknown indicator 'nope'"),
])
def test_goalposts_validation(goalposts: dict[str, tuple[float, float]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        score_values(PANEL, Scoring(normalisation="goalposts", goalposts=goalposts))


def test_unknown_aggregation_is_refused() -> None:
    wi, wa = base_weights(Scoring())
    with pytest.raises(ConfigError, match="unknown method 'harmonic'"):
        aggregate(np.full((1, 8), 50.0), wi, wa, "harmonic")


def test_the_scorer_offers_what_the_panel_file_accepts() -> None:
    assert get_args(Normalisation) == NORMALISATIONS and get_args(Aggregation) == AGGREGATIONS
    # The sensitivity analysis draws among the normalisations that need no per-panel bounds.
    assert SENSITIVITY_NORMALISATIONS == ("minmax", "zscore", "rank")


def test_ranks_by_leadership_then_brand_id() -> None:
    assert rank_of(np.array([10.0, 30.0, 20.0])).tolist() == [3, 1, 2]
    assert rank_of(np.array([[1.0, 2.0], [2.0, 1.0], [np.nan, 0.0]])).tolist() == [[2, 1], [1, 2], [2, 1]]
    tie = score_values({"b": PANEL["a"], "a": PANEL["a"]})
    assert tie.brand_ids == ["a", "b"] and tie.rank.tolist() == [1, 2]
    assert list(tie.order()) == [0, 1] and tie.index("b") == 1


def test_the_methodology_page_states_what_the_numbers_do() -> None:
    """Each statement of docs/methodology.md (English) about scoring, checked on the panels above."""
    page = DOC.read_text(encoding="utf-8").split("# Methodology", 1)[1]

    def states(text: str) -> None:
        assert text in page, f"the methodology page no longer says: {text!r}"

    states("`minmax`: (x − min)/(max − min) × 100 on the transformed value, 50 when all brands are equal")
    mm = score_values(PANEL)
    close(mm.scores[:, 0], [0, 25, 100])  # community: transformed 0, 1, 4
    close(mm.scores[:, 3], [50, 50, 50])  # content_volume: all equal

    states("`zscore`: z clipped to [−3, 3] mapped linearly to 0–100")
    close(score_values(PANEL, Scoring(normalisation="zscore")).scores[:, 1], [_z(S), _z(-S), 50])

    states("`rank`: average rank mapped to 0–100")
    close(score_values(PANEL, Scoring(normalisation="rank")).scores[:, 6], [25, 100, 25])

    states("`goalposts`: fixed bounds per indicator (comparable across dates), clipped to 0–100")
    gp = Scoring(normalisation="goalposts", goalposts={"community": (0.5, 4.5)})
    close(score_values(PANEL, gp).scores[:, 0], [0, 12.5, 87.5])
    close(score_values({"c": PANEL["c"]}, gp).scores[0, 0], 87.5)

    states("Attribute = weighted mean of its indicators' scores; leadership = weighted mean of the three attributes")
    close(mm.attributes, MINMAX_ATTR)
    close(mm.leadership, MINMAX_LEAD)

    states("With `geometric` aggregation scores are floored at 1 point so that one zero does not cancel "
           "the whole index")
    g = score_values(PANEL, Scoring(aggregation="geometric"))
    close(g.attributes[0, 2], 1.0)  # a's engagement scores are 0 and 0: floored at 1, not 0
    assert g.leadership[0] > 1

    states("contributions add up exactly to the score")
    for res in (mm, g):
        close(res.contributions.sum(axis=1), res.leadership)

    states("Ranking by leadership, descending, ties broken by brand id")
    assert mm.rank.tolist() == [3, 2, 1]

    states("it is left out of that indicator's bounds, its weights are spread over the attribute's "
           "available indicators, and its coverage (share of the eight indicators available) drops below 1")
    part = score_values(PARTIAL)
    close(part.scores[:2, 0], [0, 100])  # r (no community) is not a bound
    close(part.weights[1, [0, 3, 6]], [1 / 3] * 3)
    close(part.coverage, [1, 3 / 8, 1 / 8])


def test_raw_values_are_kept_and_never_transformed_in_place() -> None:
    r = score_values(PANEL)
    close(r.values[:, 0], [0, math.e - 1, math.e ** 4 - 1])  # community as given, not ln(1 + x)
    close(r.transformed[:, 0], [0, 1, 4])
    v = np.array([[math.e - 1] * 8])
    transform(v)
    close(v, [[math.e - 1] * 8])


def test_defaults_are_minmax_and_arithmetic() -> None:
    t = transform(score_values(PANEL).values)
    close(normalise(t), MINMAX)
    wi, wa = base_weights(Scoring())
    _, lead, _, _ = aggregate(normalise(t), wi, wa)
    close(lead, MINMAX_LEAD)


def test_zscore_with_missing_values_and_its_equality_floor() -> None:
    # community: 2, 3 and a missing value → mean 2.5, sd 0.5 over the two → z = ∓1.
    r = score_values(PARTIAL, Scoring(normalisation="zscore"))
    close(r.scores[:, 0], [_z(-1), _z(1), NAN])
    # Near 0 the floor is 1e-12 absolute: an sd of exactly 1e-12 is "all equal" (≤), 1.5e-12 is not.
    close(normalise(np.array([[0.0], [2e-12]]), "zscore"), [[50], [50]])
    close(normalise(np.array([[0.0], [3e-12]]), "zscore"), [[_z(-1)], [_z(1)]])


def test_rank_of_two_brands_is_0_and_100() -> None:
    r = score_values(PARTIAL, Scoring(normalisation="rank"))
    close(r.scores[:, 0], [0, 100, NAN])  # community: 2 < 3
    close(r.scores[:, 4], [0, NAN, 100])  # mentions: 1 < 3


def test_weights_that_do_not_sum_to_one_are_valid() -> None:
    r = score_values(PANEL, Scoring(attribute_weights={"relational": 0.5, "expression": 0.0, "engagement": 0.0}))
    close(r.leadership, np.array(MINMAX_ATTR)[:, 0])
    wi = {"community": 0.2, "community_growth": 0.1, "centrality": 0.1}
    r = score_values(PANEL, Scoring(indicator_weights=wi))
    # a: (0.2·0 + 0.1·100 + 0.1·0)/0.4 = 25; b: (0.2·25 + 0 + 0.1·50)/0.4 = 25; c: (20 + 5 + 10)/0.4.
    close(r.attributes[:, 0], [25, 25, 87.5])


def test_an_attribute_weighing_0_may_have_its_indicators_at_0() -> None:
    sc = Scoring(attribute_weights={"engagement": 0.0},
                 indicator_weights={"interactions": 0.0, "engagement_rate": 0.0})
    for agg in ("arithmetic", "geometric"):
        r = score_values(PANEL, sc.model_copy(update={"aggregation": agg}))
        assert np.isfinite(r.weights).all() and (r.weights[:, 6:] == 0).all()
        assert np.isfinite(r.contributions).all() and (r.contributions[:, 6:] == 0).all()
        close(r.contributions.sum(axis=1), r.leadership)


def test_a_brand_with_data_only_in_an_attribute_weighing_0_has_no_leadership() -> None:
    values = {**PANEL, "e": {"interactions": 10.0, "engagement_rate": 2.0}}
    for agg in ("arithmetic", "geometric"):
        r = score_values(values, Scoring(attribute_weights={"engagement": 0.0}, aggregation=agg))  # type: ignore[arg-type]
        e = r.index("e")
        assert math.isnan(r.leadership[e]) and r.rank[e] == 4
        assert (r.weights[e] == 0).all() and (r.contributions[e] == 0).all(), agg
        assert not np.isnan(r.attributes[e, 2])  # its engagement is scored, it just weighs nothing


def test_geometric_contributions_of_a_leadership_just_above_the_floor() -> None:
    # c is the minimum and b the maximum everywhere; a only has community above the minimum:
    # score 4 there, 0 (floored at 1) elsewhere. Leadership = (4^(1/3) · 1 · 1)^(1/3) = 4^(1/9),
    # and community brings all of it (ln 1 = 0 for the others).
    values = raw({"a": [0.04] + [0.0] * 7, "b": [1.0] * 8, "c": [0.0] * 8})
    r = score_values(values, Scoring(aggregation="geometric"))
    close(r.scores[0], [4, 0, 0, 0, 0, 0, 0, 0])
    close(r.leadership[0], 4 ** (1 / 9))
    close(r.contributions[0], [4 ** (1 / 9), 0, 0, 0, 0, 0, 0, 0])
