"""Monte Carlo sensitivity of the ranking to the scoring choices: each brand's rank band.

Each draw picks a normalisation (minmax, zscore or rank), an aggregation (arithmetic or
geometric) and multiplies every indicator and attribute weight by an independent
U(0.75, 1.25) factor (the ±25 % of the issue); the brands are re-ranked under that draw.
A brand's band is the 5th and 95th percentiles of its ranks over the draws.

- Seeded: numpy's Generator(PCG64(seed)) draws everything up front in a fixed order, so the
  same seed and the same values give the same bands, whatever the brand order.
- Vectorised: the three normalised score matrices are computed once; the draws of each
  (normalisation, aggregation) pair are aggregated together with matrix products.
- Percentiles of integer ranks use method "lower" for the 5th and "higher" for the 95th: the
  band never narrows by interpolation, and bounds stay actual ranks.
- The band is widened, if need be, to contain the published rank (the base configuration is
  one point of the space; a band excluding it would read as a contradiction on the site).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from barometer.config import Scoring
from barometer.score.scoring import (
    AGGREGATIONS,
    GEOMETRIC_FLOOR,
    MEMBERSHIP,
    SENSITIVITY_NORMALISATIONS,
    ScoreResult,
    base_weights,
    normalise,
    rank_of,
)

WEIGHT_SPREAD = 0.25
LOW_PERCENTILE = 5.0
HIGH_PERCENTILE = 95.0


@dataclass
class Sensitivity:
    rank_low: np.ndarray  # n, best rank of the band (5th percentile)
    rank_high: np.ndarray  # n, worst rank of the band (95th percentile)
    ranks: np.ndarray  # draws × n, every draw's ranks (for charts and tests)


def _leadership(scores: np.ndarray, wi: np.ndarray, wa: np.ndarray, geometric: bool) -> np.ndarray:
    """Leadership of n brands under m weight draws: wi m × k, wa m × a → m × n."""
    avail = ~np.isnan(scores)  # n × k
    term = np.log(np.maximum(np.nan_to_num(scores), GEOMETRIC_FLOOR)) if geometric else np.nan_to_num(scores)
    # Per draw and brand, the attribute's weighted mean over the brand's available indicators.
    w = wi[:, None, :] * avail[None, :, :]  # m × n × k
    den = w @ MEMBERSHIP  # m × n × a
    num = (w * term[None, :, :]) @ MEMBERSHIP
    has = den > 0
    attr = np.where(has, num / np.where(has, den, 1.0), 0.0)
    wattr = wa[:, None, :] * has  # m × n × a
    wsum = wattr.sum(axis=2)
    lead = np.where(wsum > 0, (wattr * attr).sum(axis=2) / np.where(wsum > 0, wsum, 1.0), np.nan)
    return np.exp(lead) if geometric else lead


def sensitivity(result: ScoreResult, scoring: Scoring, draws: int | None = None,
                seed: int | None = None, replicates: np.ndarray | None = None) -> Sensitivity:
    """Rank bands of the brands of `result` over `draws` random scoring configurations.

    `replicates` (B × n × k transformed values, issue 13): redraws of a budgeted sample (see
    score/sampled.py); draw j then also uses redraw j mod B, so the bands include sampling error.
    """
    m = scoring.sensitivity_draws if draws is None else draws
    n = len(result.brand_ids)
    if m <= 0 or n == 0:
        return Sensitivity(result.rank.copy(), result.rank.copy(), np.zeros((0, n), dtype=np.int64))
    rng = np.random.Generator(np.random.PCG64(scoring.seed if seed is None else seed))
    wi0, wa0 = base_weights(scoring)
    norm_idx = rng.integers(0, len(SENSITIVITY_NORMALISATIONS), size=m)
    agg_idx = rng.integers(0, len(AGGREGATIONS), size=m)
    wi = wi0[None, :] * rng.uniform(1 - WEIGHT_SPREAD, 1 + WEIGHT_SPREAD, size=(m, len(wi0)))
    wa = wa0[None, :] * rng.uniform(1 - WEIGHT_SPREAD, 1 + WEIGHT_SPREAD, size=(m, len(wa0)))

    lead = np.full((m, n), np.nan)
    for a, norm in enumerate(SENSITIVITY_NORMALISATIONS):
        mats = [result.transformed] if replicates is None else list(replicates)
        for r, g in ((r, g) for r in range(len(mats)) for g in range(len(AGGREGATIONS))):
            s, agg = normalise(mats[r], norm), AGGREGATIONS[g]
            sel = np.flatnonzero((norm_idx == a) & (agg_idx == g) & (np.arange(m) % len(mats) == r))
            # Chunks bound the m × n × k temporaries (1,000 brands × 8 indicators × 256 draws
            # is 16 MB per array).
            for c in range(0, len(sel), 256):
                part = sel[c:c + 256]
                lead[part] = _leadership(s, wi[part], wa[part], agg == "geometric")
    ranks = rank_of(lead)
    low = np.percentile(ranks, LOW_PERCENTILE, axis=0, method="lower").astype(np.int64)
    high = np.percentile(ranks, HIGH_PERCENTILE, axis=0, method="higher").astype(np.int64)
    low = np.minimum(low, result.rank)
    high = np.maximum(high, result.rank)
    return Sensitivity(low, high, ranks)
