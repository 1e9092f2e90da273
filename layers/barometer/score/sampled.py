"""Indicators of a window some of whose mentions were read as a budgeted sample (issue 13).

A budgeted run reads a brand's mentions of a day in random 30-minute slices (collect/plan.py);
each row carries `sample_weight` = 1/p. When any mention row of the window has a weight above
1, the values `compute_values` made as if the sample were everything are corrected here:

- `mentions`: exact. Rows of days read in full, plus, for each sampled (brand, day), X's count
  of that day (`mention_counts`, the latest run's); a brand-day is sampled when it has
  sampled rows or its run lists the brand in `runs.sampled_brands` (a sample can draw none).
- `mention_reach`: when every sampled row of every sampled brand in the window was looked back
  (collect/lookback.py), the unbiased `reach_first_mentions` with its design-based standard
  error (`first_mentions_se`), redrawn from it in each replicate; otherwise, for every brand
  alike (`Estimates.reach_method` says which, in the run's details),
  the estimator `REACH` (score/estimate.py) on the brand's rows, chosen by
  the measurement recorded there (bench/reach_estimators.py); not published (missing) when the
  brand's window rate q is below `REACH_MIN_Q`, and its measured error `REACH_RMSE` at q added
  to the standard error and to each redraw.
- `centrality`: already weighted (edges weigh 1/p, indicators._centrality).
- standard errors of `mention_reach` and `centrality`: over `REPLICATES` bootstrap redraws of
  the sample, each sampled brand-day's non-empty slices drawn again with replacement (the
  same redraws feed the sensitivity analysis: `Estimates.replicates`).

Brands whose rows were all read keep their exact values (`estimated` false, `std_error` null).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from barometer.config import SAMPLE_SLICE_MINUTES
from barometer.definitions import INDICATOR_IDS
from barometer.lake.store import Lake
from barometer.score import arrays as ar
from barometer.score.estimate import (
    NONE_BEFORE,
    NOT_LOOKED,
    REACH,
    REACH_MIN_Q,
    reach_first_mentions,
    reach_model_error,
    row_weights,
    sampling_rate,
)
from barometer.score.indicators import LOOKBACK_COLUMNS, Values, WindowData, _centrality

REPLICATES = 20
SLICE_MS = SAMPLE_SLICE_MINUTES * 60 * 1000  # the collector's slices (collect/plan.py)
DAY_MS = 86_400_000
ESTIMATED = ("mention_reach", "centrality")


@dataclass
class Estimates:
    std_errors: np.ndarray  # n × k, NaN where exact
    replicates: np.ndarray  # B × n × k raw values of each redraw (exact values repeated)
    notes: list[str] = field(default_factory=list)  # values withheld, one line each
    reach_method: str = ""  # how the sampled brands' reach was estimated, for the run's details


def _ms(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(col, pa.timestamp("ms")).cast(pa.int64()).to_numpy(zero_copy_only=False),
                      dtype=np.int64)


def _reach(mb: np.ndarray, author: np.ndarray, w: np.ndarray, brands: np.ndarray) -> np.ndarray:
    out = np.full(len(brands), np.nan)
    for j, b in enumerate(brands):
        sel = mb == b
        _, codes = np.unique(author[sel], return_inverse=True)
        out[j] = REACH(codes, w[sel])[0]
    return out


def _days(col: pa.ChunkedArray | pa.Array, null: int) -> np.ndarray:
    """A date column as days since 1970-01-01, nulls as `null`."""
    return np.asarray(pc.fill_null(pc.cast(col, pa.int32()).cast(pa.int64()), null).to_numpy(zero_copy_only=False),
                      dtype=np.int64)


@dataclass
class FirstMentions:
    """Every sampled brand's look-back estimate (`estimate.reach_first_mentions`)."""

    values: np.ndarray  # per sampled brand: the estimate
    std_errors: np.ndarray  # and its standard error


def looked_back(data: WindowData, mb: np.ndarray, author: np.ndarray, w: np.ndarray,
                brands: np.ndarray) -> tuple[FirstMentions | None, list[str]]:
    """The look-back estimates of the sampled `brands`; or None, with the brands some of whose
    sampled rows were not looked back: one estimator serves the whole leaderboard (the
    sample-only one errs low, the look-back one does not, and a mix would move the brands
    looked back up against the others)."""
    m = data.mentions
    if not all(c in m.column_names for c in LOOKBACK_COLUMNS):
        return None, [data.brand_ids[b] for b in brands]
    prev = _days(m["author_prev_day"], int(NONE_BEFORE))
    start = _days(m["author_lookback_from"], int(NOT_LOOKED))
    ms = _ms(m["created_at"])
    w0 = (data.window.start - date(1970, 1, 1)).days
    est, short = [], []
    for b in brands:
        sel = mb == b
        e = reach_first_mentions(author[sel], w[sel], prev[sel], start[sel], w0, ms[sel])
        if e is None:
            short.append(data.brand_ids[b])
        else:
            est.append(e)
    if short:
        return None, short
    v = np.array(est, dtype=np.float64).reshape(-1, 2)
    return FirstMentions(v[:, 0], v[:, 1]), []


def _rates(mb: np.ndarray, w: np.ndarray, brands: np.ndarray) -> np.ndarray:
    return np.array([sampling_rate(w[mb == b]) for b in brands])


def exact_mentions(data: WindowData, lake: Lake, mb: np.ndarray, day: np.ndarray,
                   w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per brand: rows of fully read days + X's counts of its sampled days; and which brands
    have a sampled day."""
    n = len(data.brand_ids)
    sampled = w > 1.0
    out = np.bincount(mb, weights=(~np.isin(mb * (1 << 32) + day, np.unique(
        (mb * (1 << 32) + day)[sampled]))).astype(np.float64), minlength=n)
    w_ = data.window
    t = lake.read("mention_counts", data.panel.id, w_.start, None, columns=["brand_id", "day", "mentions", "dt"])
    has = np.bincount(mb[sampled], minlength=n) > 0
    if t.num_rows == 0:
        return out + np.bincount(mb[sampled], weights=w[sampled], minlength=n), has  # no counts: HT
    bidx = np.asarray(pc.fill_null(pc.index_in(t["brand_id"], value_set=pa.array(data.brand_ids)), -1)
                      .to_numpy(), dtype=np.int64)
    tday = np.asarray(t["day"].cast(pa.int32()).to_numpy(), dtype=np.int64)
    last = ar.last_per_key(bidx * (1 << 32) + tday, ar.ts_int(t["dt"]))
    keys = set(np.unique((mb * (1 << 32) + day)[sampled]).tolist())
    # A sampled brand-day whose slices drew no mention has no row to say it was sampled: the
    # runs do (`sampled_brands`), and its count is what that run counted for the brand.
    by_run = sampled_by_run(lake, data.panel.id, w_.start)
    cnt = np.asarray(t["mentions"].to_numpy(zero_copy_only=False), dtype=np.float64)
    brand_ids = data.brand_ids
    run_dt = t["dt"].to_pylist()
    for i in last:
        if bidx[i] < 0:
            continue
        key = int(bidx[i]) * (1 << 32) + int(tday[i])
        if key in keys or brand_ids[bidx[i]] in by_run.get(run_dt[i], ()):
            out[bidx[i]] += cnt[i]
            has[bidx[i]] = True
    return out, has


def sampled_by_run(lake: Lake, panel_id: str, start: date) -> dict[date, set[str]]:
    """Per collect run date from `start`: the brands its latest run read as a sample."""
    t = lake.read("runs", panel_id, start, None, columns=["stage", "finished_at", "sampled_brands", "dt"])
    latest: dict[date, tuple[datetime, set[str]]] = {}
    for r in t.to_pylist():
        if r["stage"] != "collect":
            continue
        at, seen = r["finished_at"] or datetime.min, latest.get(r["dt"])
        if seen is None or at >= seen[0]:
            latest[r["dt"]] = (at, set(r["sampled_brands"] or ()))
    return {d: b for d, (_, b) in latest.items()}


def _multipliers(mb: np.ndarray, ms: np.ndarray, w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row weight multipliers of one redraw: each sampled brand-day's slices resampled."""
    mult = np.ones(len(w))
    sampled = np.flatnonzero(w > 1.0)
    key = mb[sampled] * (1 << 32) + ms[sampled] // DAY_MS
    sl = ms[sampled] // SLICE_MS
    for k in np.unique(key):
        rows = sampled[key == k]
        own = np.unique(sl[key == k])
        drawn = rng.choice(own, size=len(own), replace=True)
        times = np.bincount(np.searchsorted(own, drawn), minlength=len(own))
        mult[rows] = times[np.searchsorted(own, ms[rows] // SLICE_MS)]
    return mult


def estimate(data: WindowData, values: Values, lake: Lake, seed: int = 0) -> Estimates | None:
    """Correct `values` in place for the sampled brands (see module doc); None: all exact."""
    m = data.mentions
    w = row_weights(m)
    if w is None or data.mention_author is None:
        return None
    n, k = len(data.brand_ids), len(INDICATOR_IDS)
    mb = np.asarray(m["brand_idx"].to_numpy(), dtype=np.int64)
    ms = _ms(m["created_at"])
    author = data.mention_author
    brands = np.unique(mb[w > 1.0])
    counts, counted = exact_mentions(data, lake, mb, ms // DAY_MS, w)
    for b in np.flatnonzero(counted):
        values[data.brand_ids[b]]["mentions"] = float(counts[b])
    rates = _rates(mb, w, brands)
    fm, short = looked_back(data, mb, author, w, brands)
    if fm is None:
        reach = _reach(mb, author, w, brands)
        model = np.array([np.nan if (e := reach_model_error(q)) is None else e for q in rates])
        method = (f"sample only for every sampled brand: look-backs incomplete for {len(short)} of {len(brands)} "
                  f"({', '.join(sorted(short)[:5])}{', …' if len(short) > 5 else ''})")
    else:  # unbiased, no model error (estimate.reach_first_mentions)
        reach, model = fm.values, np.zeros(len(brands))
        method = "look-back (unbiased) for every sampled brand"
    notes = []
    for j, b in enumerate(brands):
        if np.isnan(model[j]):  # too thin a sample: not published (estimate.REACH_MIN_Q)
            values[data.brand_ids[b]]["mention_reach"] = None
            notes.append(f"{data.brand_ids[b]}: mention_reach not published: its mentions were read at "
                         f"q = {rates[j]:.2f}, below {REACH_MIN_Q} where reach estimates err by a third or more")
        else:
            values[data.brand_ids[b]]["mention_reach"] = float(reach[j])
    base = np.array([[np.nan if values[b][i] is None else values[b][i] for i in INDICATOR_IDS]
                     for b in data.brand_ids], dtype=np.float64)
    reps = np.repeat(base[None], REPLICATES, axis=0)
    ir, ic = INDICATOR_IDS.index("mention_reach"), INDICATOR_IDS.index("centrality")
    rng = np.random.Generator(np.random.PCG64(seed))
    for r in range(REPLICATES):
        mult = _multipliers(mb, ms, w, rng)
        keep = mult > 0
        rows = np.repeat(np.flatnonzero(keep), mult[keep].astype(np.int64))
        z = rng.standard_normal(len(brands))
        if fm is None:  # the sample redrawn, and the estimator's own measured error (estimate.REACH_RMSE)
            reps[r, brands, ir] = _reach(mb[rows], author[rows], w[rows], brands) * (1.0 + model * z)
        else:  # drawn from their design-based error (estimate.first_mentions_se)
            reps[r, brands, ir] = fm.values + fm.std_errors * z
        central, _ = _centrality(data, w * mult)
        has = ~np.isnan(base[:, ic])
        reps[r, has, ic] = central[has]
    # Reach is estimated for the sampled brands; centrality for every brand (one sampled graph).
    se = np.full((n, k), np.nan)
    for col, who in ((ir, brands), (ic, np.arange(n))):
        ok = who[~np.isnan(base[who, col])]
        se[ok, col] = reps[:, ok, col].std(axis=0, ddof=1)
    # The published SE: the sample's spread and the estimator's measured error, together;
    # look-back estimates: their design-based SE.
    if fm is None:
        keep = ~np.isnan(model)
        se[brands[keep], ir] = np.hypot(se[brands[keep], ir], model[keep] * reach[keep])
    else:
        se[brands, ir] = fm.std_errors
    return Estimates(se, reps, notes, method)
