"""From raw indicator values to 0–100 scores, attribute scores, leadership and ranks.

Pure functions on a brands × indicators value matrix (NaN = missing): no I/O, so the score
stage, the sensitivity analysis, the world calibration and the benchmarks share them.

Choices worth knowing (they are also in the generated methodology):
- Transforms: `log1p` indicators get ln(1 + x); a value ≤ −1 (a brand losing all its followers)
  is floored at −1 + 1e-9 first, so the logarithm stays finite.
- Normalisation, per indicator, over the brands that have a value (missing ones are excluded
  from the bounds and keep a missing score):
  `minmax` (x − min)/(max − min) × 100, all equal → 50;
  `zscore` z = (x − mean)/sd (population sd), clipped to [−3, 3], mapped linearly to 0–100
  (z = 0 → 50), sd = 0 → 50;
  `rank` (average rank − 1)/(n − 1) × 100 (ties share their mean rank), one brand → 50;
  `goalposts` (x − low)/(high − low) × 100 clipped to [0, 100], bounds from `Scoring.goalposts`
  on the transformed value; an indicator without goalposts falls back to `minmax`.
- Aggregation: attribute = weighted mean of its available indicators' scores (weights
  renormalised over the available ones); leadership = weighted mean of the available attributes.
  `geometric` uses weighted geometric means of max(score, GEOMETRIC_FLOOR): without the floor,
  one indicator at 0 (the panel minimum under min–max, which always exists) would zero the
  brand's whole index.
- Contribution of an indicator = its points in the leadership score. Arithmetic: effective
  weight × score. Geometric: leadership × (effective weight × ln score) / ln leadership, the
  share of the log-score (equal weights shares when leadership is exactly the floor, ln = 0).
  Either way the contributions sum to the leadership.
- Rank by leadership, descending; ties by brand id; brands without a leadership rank last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from barometer.config import Scoring
from barometer.definitions import ATTRIBUTE_IDS, INDICATOR_IDS, INDICATORS
from barometer.errors import ConfigError

GEOMETRIC_FLOOR = 1.0  # score points (of 100) a score is floored at in geometric means
LOG1P_FLOOR = -1.0 + 1e-9
ZSCORE_CLIP = 3.0
NORMALISATIONS = ("minmax", "zscore", "rank", "goalposts")
SENSITIVITY_NORMALISATIONS = ("minmax", "zscore", "rank")
AGGREGATIONS = ("arithmetic", "geometric")

# Indicator → attribute membership (k × a), in INDICATOR_IDS × ATTRIBUTE_IDS order.
MEMBERSHIP = np.array([[1.0 if i.attribute == a else 0.0 for a in ATTRIBUTE_IDS] for i in INDICATORS])
_LOG1P = np.array([i.transform == "log1p" for i in INDICATORS])


@dataclass
class ScoreResult:
    """Scores of one panel run. Arrays are brands (sorted by id) × indicators / attributes."""

    brand_ids: list[str]
    values: np.ndarray  # n × k raw values, NaN = missing
    transformed: np.ndarray  # n × k
    scores: np.ndarray  # n × k, 0–100, NaN = missing
    weights: np.ndarray  # n × k effective weights in the leadership (0 for missing)
    contributions: np.ndarray  # n × k points of leadership (0 for missing)
    attributes: np.ndarray  # n × a, NaN = no indicator available
    leadership: np.ndarray  # n, NaN = nothing available
    coverage: np.ndarray  # n, share of the indicators with a value
    rank: np.ndarray  # n, int, 1 = leader
    normalisation: str = "minmax"
    aggregation: str = "arithmetic"

    def index(self, brand_id: str) -> int:
        return self.brand_ids.index(brand_id)

    def order(self) -> np.ndarray:
        """Brand positions in rank order."""
        return np.argsort(self.rank, kind="stable")


def value_matrix(values: Mapping[str, Mapping[str, float | None]]) -> tuple[list[str], np.ndarray]:
    """Brands sorted by id and their n × k value matrix (NaN where missing)."""
    brand_ids = sorted(values)
    mat = np.full((len(brand_ids), len(INDICATOR_IDS)), np.nan)
    for r, b in enumerate(brand_ids):
        for c, ind in enumerate(INDICATOR_IDS):
            v = values[b].get(ind)
            if v is not None and np.isfinite(v):
                mat[r, c] = float(v)
    return brand_ids, mat


def transform(values: np.ndarray) -> np.ndarray:
    """Each indicator's transform (ln(1 + x) or identity) on an n × k matrix."""
    out = values.astype(np.float64, copy=True)
    with np.errstate(invalid="ignore"):
        out[:, _LOG1P] = np.log1p(np.maximum(out[:, _LOG1P], LOG1P_FLOOR))
    return out


def _minmax(t: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore", all="ignore"):
        lo = np.nanmin(np.where(np.isnan(t), np.inf, t), axis=0)
        hi = np.nanmax(np.where(np.isnan(t), -np.inf, t), axis=0)
        span = hi - lo
        out = (t - lo) / np.where(span > 0, span, 1.0) * 100.0
    out = np.where(span > 0, out, 50.0)
    return np.where(np.isnan(t), np.nan, out)


def _zscore(t: np.ndarray) -> np.ndarray:
    avail = ~np.isnan(t)
    cnt = avail.sum(axis=0)
    safe = np.where(avail, t, 0.0)
    mean = safe.sum(axis=0) / np.maximum(cnt, 1)
    sd = np.sqrt((np.where(avail, t - mean, 0.0) ** 2).sum(axis=0) / np.maximum(cnt, 1))
    # sd below float noise of the values themselves means "all equal".
    tiny = sd <= 1e-12 * np.maximum(np.abs(mean), 1.0)
    z = np.clip((t - mean) / np.where(tiny, 1.0, sd), -ZSCORE_CLIP, ZSCORE_CLIP)
    out = np.where(tiny, 50.0, (z + ZSCORE_CLIP) / (2 * ZSCORE_CLIP) * 100.0)
    return np.where(avail, out, np.nan)


def _average_ranks(col: np.ndarray) -> np.ndarray:
    """1-based average ranks of the non-NaN entries of one column (NaN stays NaN)."""
    out = np.full(col.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(col))
    if len(idx) == 0:
        return out
    v = col[idx]
    order = np.argsort(v, kind="stable")
    sv = v[order]
    # Tie groups: each run of equal values gets the mean of its positions.
    starts = np.r_[0, np.flatnonzero(sv[1:] != sv[:-1]) + 1]
    ends = np.r_[starts[1:], len(sv)]
    mean_rank = (starts + ends + 1) / 2.0  # mean of (start+1 .. end)
    ranks = np.repeat(mean_rank, ends - starts)
    out[idx[order]] = ranks
    return out


def _rank(t: np.ndarray) -> np.ndarray:
    out = np.full(t.shape, np.nan)
    for c in range(t.shape[1]):  # k = 8 columns, not rows
        r = _average_ranks(t[:, c])
        n = int((~np.isnan(r)).sum())
        out[:, c] = 50.0 if n == 1 else (r - 1.0) / max(n - 1, 1) * 100.0
        out[np.isnan(r), c] = np.nan
    return out


def _goalposts(t: np.ndarray, goalposts: Mapping[str, tuple[float, float]]) -> np.ndarray:
    out = _minmax(t)  # fallback for indicators without bounds
    for c, ind in enumerate(INDICATOR_IDS):
        if ind in goalposts:
            lo, hi = goalposts[ind]
            out[:, c] = np.clip((t[:, c] - lo) / (hi - lo) * 100.0, 0.0, 100.0)
    return out


def normalise(t: np.ndarray, method: str = "minmax",
              goalposts: Mapping[str, tuple[float, float]] | None = None) -> np.ndarray:
    """Scores 0–100 per indicator column of a transformed n × k matrix (NaN stays NaN)."""
    if method == "minmax":
        return _minmax(t)
    if method == "zscore":
        return _zscore(t)
    if method == "rank":
        return _rank(t)
    if method == "goalposts":
        return _goalposts(t, goalposts or {})
    raise ConfigError(f"scoring.normalisation: unknown method {method!r}")


def base_weights(scoring: Scoring) -> tuple[np.ndarray, np.ndarray]:
    """Indicator weights (k) and attribute weights (a) from the panel; missing keys weigh 1."""
    for name, given, known in (("indicator_weights", scoring.indicator_weights, INDICATOR_IDS),
                               ("attribute_weights", scoring.attribute_weights, ATTRIBUTE_IDS)):
        for key, w in given.items():
            if key not in known:
                raise ConfigError(f"scoring.{name}: unknown id {key!r} (expected one of {', '.join(known)})")
            if not np.isfinite(w) or w < 0:
                raise ConfigError(f"scoring.{name}.{key}: weight must be a finite number ≥ 0")
    wi = np.array([float(scoring.indicator_weights.get(i, 1.0)) for i in INDICATOR_IDS])
    wa = np.array([float(scoring.attribute_weights.get(a, 1.0)) for a in ATTRIBUTE_IDS])
    # Weights summing to 0 would leave every leadership undefined, or silently drop a weighted
    # attribute: refused, like a negative weight.
    if not wa.sum() > 0:
        raise ConfigError("scoring.attribute_weights: the weights sum to 0 (at least one must be > 0)")
    for a, w_a, w_in in zip(ATTRIBUTE_IDS, wa, wi @ MEMBERSHIP, strict=True):
        if w_a > 0 and not w_in > 0:
            raise ConfigError(f"scoring.indicator_weights: the indicators of {a} sum to 0 "
                              f"(weigh one > 0, or the attribute 0)")
    for ind, (lo, hi) in scoring.goalposts.items():
        if ind not in INDICATOR_IDS:
            raise ConfigError(f"scoring.goalposts: unknown indicator {ind!r}")
        if not hi > lo:
            raise ConfigError(f"scoring.goalposts.{ind}: the high bound must exceed the low bound")
    return wi, wa


def aggregate(scores: np.ndarray, wi: np.ndarray, wa: np.ndarray, method: str = "arithmetic"
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Attribute scores (n × a), leadership (n), effective weights and contributions (n × k)."""
    avail = ~np.isnan(scores)
    geometric = method == "geometric"
    if method not in AGGREGATIONS:
        raise ConfigError(f"scoring.aggregation: unknown method {method!r}")
    term = np.log(np.maximum(np.nan_to_num(scores), GEOMETRIC_FLOOR)) if geometric else np.nan_to_num(scores)
    w = wi[None, :] * avail  # n × k
    den = w @ MEMBERSHIP  # n × a
    num = (w * term) @ MEMBERSHIP
    has_attr = den > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        attr_term = np.where(has_attr, num / np.where(has_attr, den, 1.0), np.nan)
    wattr = wa[None, :] * has_attr  # n × a
    wsum = wattr.sum(axis=1)
    ok = wsum > 0
    lead_term = np.where(ok, np.nansum(wattr * np.nan_to_num(attr_term), axis=1) / np.where(ok, wsum, 1.0),
                         np.nan)
    # Effective weight of an indicator in the leadership: its share within its attribute
    # times the attribute's share, both over what the brand has.
    share_in_attr = np.where(avail, w / np.where(den @ MEMBERSHIP.T > 0, den @ MEMBERSHIP.T, 1.0), 0.0)
    attr_share = np.where(ok[:, None], wattr / np.where(ok, wsum, 1.0)[:, None], 0.0)
    eff = share_in_attr * (attr_share @ MEMBERSHIP.T)
    if geometric:
        attributes = np.exp(attr_term)
        leadership = np.exp(lead_term)
        logl = lead_term
        with np.errstate(invalid="ignore", divide="ignore"):
            contrib = np.where(
                (np.abs(logl) > 1e-300)[:, None],
                leadership[:, None] * eff * term / np.where(np.abs(logl) > 1e-300, logl, 1.0)[:, None],
                leadership[:, None] * eff)
    else:
        attributes = attr_term
        leadership = lead_term
        contrib = eff * np.nan_to_num(scores)
    contrib = np.where(avail & ok[:, None], contrib, 0.0)
    return attributes, leadership, eff, contrib


def rank_of(leadership: np.ndarray) -> np.ndarray:
    """Ranks (1 = best) by leadership descending; ties keep brand-id order; NaN last.

    Works on n (one ranking) or m × n (one ranking per row), brands sorted by id.
    """
    lead = np.atleast_2d(leadership)
    key = np.where(np.isnan(lead), np.inf, -lead)
    order = np.argsort(key, axis=1, kind="stable")  # stable: equal keys keep id order
    ranks = np.empty_like(order)
    rows = np.arange(lead.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, lead.shape[1] + 1)[None, :]
    return ranks[0] if leadership.ndim == 1 else ranks


def score_matrix(brand_ids: list[str], values: np.ndarray, scoring: Scoring) -> ScoreResult:
    """Score an n × k value matrix (brands sorted by id) with the panel's scoring options."""
    wi, wa = base_weights(scoring)
    t = transform(values)
    s = normalise(t, scoring.normalisation, scoring.goalposts)
    attributes, leadership, eff, contrib = aggregate(s, wi, wa, scoring.aggregation)
    coverage = (~np.isnan(values)).sum(axis=1) / len(INDICATOR_IDS) if len(brand_ids) else np.zeros(0)
    return ScoreResult(
        brand_ids=list(brand_ids), values=values, transformed=t, scores=s, weights=eff,
        contributions=contrib, attributes=attributes, leadership=leadership,
        coverage=coverage.astype(np.float64), rank=rank_of(leadership),
        normalisation=scoring.normalisation, aggregation=scoring.aggregation,
    )


def score_values(values: Mapping[str, Mapping[str, float | None]], scoring: Scoring | None = None
                 ) -> ScoreResult:
    """The pure entry point: {brand: {indicator: value or None}} → ScoreResult.

    Brands are processed in id order whatever the mapping's order, so the result does not
    depend on it.
    """
    brand_ids, mat = value_matrix(values)
    return score_matrix(brand_ids, mat, scoring or Scoring())
