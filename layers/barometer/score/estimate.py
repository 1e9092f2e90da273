"""Indicators estimated from a budgeted sample of mentions (issue 13, collect/plan.py).

A budgeted run reads a brand's mentions in random time slices: each mention of those days is
in the sample with the same known probability p, and its row carries `sample_weight` = 1/p.
`mentions` stays exact (X's counts). `mention_reach` (distinct authors) is estimated from the
sample (score/sampled.py). First candidates, measured on purely synthetic
heavy-tailed author activity (2,000 authors; Chao1 column: 3,000; Zipf(1.8) or ceil(lognormal(0, 1.2)) mentions
each, Bernoulli sampling at p, 200 draws; relative error, bias / RMSE):

    p     activity   GEE (Charikar 2000)   Chao1          Chao-Lin (known p, 2012)
    0.1   Zipf       -0.39 / 0.39          -0.34 / 0.35   -0.43 / 0.43
    0.1   lognormal  -0.42 / 0.42          -0.19 / 0.21   -0.36 / 0.37
    0.2   Zipf       -0.30 / 0.30          -0.07 / 0.09   -0.26 / 0.27
    0.2   lognormal  -0.31 / 0.31          +0.01 / 0.07   -0.23 / 0.24
    0.5   Zipf       -0.16 / 0.16          +0.43 / 0.43   -0.06 / 0.07
    0.5   lognormal  -0.15 / 0.15          +0.33 / 0.33   -0.07 / 0.07

No estimator wins at every p. Chosen on the simulated world, under the collector's own design
(bench/reach_estimators.py): the demo world's 181-day window (2017-11-01 … 2018-04-30) replayed
day by day at budgets from $0.25 to $3 (5 replications each) with the budget left after the
fixed reads planned as the collector plans it (`plan.mention_alloc`) and read in the random
30-minute slices of `plan.slices` (a slice is read in full: every mention created in it). Each
brand's window reach (distinct authors over the window) estimated from the sample, against the
full collection's; relative error, bias / RMSE, by the brand's window sampling rate q (rows
read / Σ 1/p):

    q        n    seen           GEE            Chao1          Chao-Lin       SGT
    0.0-0.1  70   -0.93 / 0.93   -0.64 / 0.65   -0.54 / 0.57   -0.51 / 0.59   -0.72 / 0.73
    0.1-0.2  35   -0.77 / 0.77   -0.42 / 0.43   -0.14 / 0.23   -0.34 / 0.35   -0.31 / 0.32
    0.2-0.3  31   -0.51 / 0.51   -0.27 / 0.27   +0.20 / 0.24   -0.16 / 0.16   -0.08 / 0.09
    0.3-0.4  20   -0.41 / 0.42   -0.22 / 0.23   +0.42 / 0.48   -0.09 / 0.11   -0.05 / 0.07
    0.4-0.5  48   -0.20 / 0.21   -0.11 / 0.12   +0.78 / 0.87   -0.02 / 0.03   -0.01 / 0.03
    0.5-0.7  51   -0.08 / 0.09   -0.05 / 0.05   +0.83 / 0.89   -0.00 / 0.01   +0.00 / 0.01
    0.7-1.0  40   -0.01 / 0.02   -0.01 / 0.01   +0.37 / 0.43   +0.00 / 0.00   +0.00 / 0.00

No estimator from the sample alone can know whether an author read today had already mentioned
the brand earlier in the window: that is what the thin, heavy-tailed samples lack. X's counts
can tell, for free (collect/lookback.py): with each sampled row's `author_prev_day`, the reach is
estimated without bias by `reach_first_mentions` (Horvitz-Thompson on each author's first mention
in the window). Measured by bench/reach_estimators.py (column `lookback`, 5 replications on the
full collection's lake of the demo window, each sampled row told whether it is its author's
first mention in the window), bias / RMSE by q: 0.0-0.1 +0.00 / 0.23, 0.1-0.2 +0.02 / 0.13,
0.2-0.3 +0.04 / 0.08, 0.3-0.5 +0.00 / 0.03, 0.5-1.0 +0.00 / 0.01 (SGT on the same samples:
-0.77 / 0.78 and -0.31 / 0.32 below 0.2). On the collector's own $0.50 replay (bench_budget.py)
every brand's reach lies within 2.5 of its published standard errors of the truth (the largest
miss: Novartis ≈ 1,391 ± 96 against 1,623; Sanofi ≈ 3,851 ± 251 against 3,638, where SGT was
withheld and Chao-Lin gave 2,217), and the leaderboard moves by 1.74 points at most (9.03 with
the reach withheld). The estimators below remain for a brand whose look-backs could not all be
made (X's counts window spent, no full-archive access, counts not free).

`REACH` = smoothed Good-Toulmin (SGT): the lowest RMSE from q = 0.2 up, where it matters (about
half Chao-Lin's between 0.2 and 0.4). Below q = 0.2 every estimator is off by a third or more:
there the reach is not published (`REACH_MIN_Q`; the indicator is missing, as for data not
collected, never a guess). Above it, the estimator's own error measured here (`REACH_RMSE`, the
SGT column by bin of q) is added to the sample's: the published standard error is
sqrt(bootstrap SE² + (RMSE(q) × estimate)²), and each Monte Carlo redraw multiplies the reach by
1 + RMSE(q) × z, z ~ N(0, 1), so the rank bands carry it. The bootstrap alone measured the
spread of the slices, not the estimator's bias: on the $0.50 replay it published Sanofi's reach
at ≈ 2,217 ± 43 against a true 3,638. Chao1 over-counts badly once most of a day is read (time
slices keep an author's bursts together, f2 stays small). Per brand, q is the sampled rows'
effective rate and the frequencies count only authors seen in sampled rows (an author read in
full is certain).

`estimate_columns` gives the `indicators` table its `estimated` and `std_error` columns: a
value is estimated when a standard error was computed for it, exact (null) otherwise.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from barometer.config import SAMPLE_SLICE_MINUTES


def gee(freq: np.ndarray, q: float) -> tuple[float, float]:
    """(estimate, standard error) of the distinct authors; `freq` = mentions per seen author."""
    if q >= 1.0:
        return float(len(freq)), 0.0
    f1 = float(np.count_nonzero(freq == 1))
    rest = float(np.count_nonzero(freq >= 2))
    est = math.sqrt(1.0 / q) * f1 + rest
    # f1 ~ Poisson: Var(sqrt(1/q) f1) = f1 / q.
    return est, math.sqrt(f1 / q)


def chao1(freq: np.ndarray) -> float:
    f1 = float(np.count_nonzero(freq == 1))
    f2 = float(np.count_nonzero(freq == 2))
    d = float(len(freq))
    return d + (f1 * f1 / (2 * f2) if f2 else f1 * (f1 - 1) / 2)


def row_weights(t: pa.Table) -> np.ndarray | None:
    """The rows' `sample_weight` (1/p), or None when every row was read (weight 1)."""
    if "sample_weight" not in t.column_names or t.num_rows == 0:
        return None
    w = np.asarray(pc.fill_null(t["sample_weight"], 1.0).to_numpy(), dtype=np.float64)
    return w if bool((w > 1.0).any()) else None


def sampling_rate(weight: np.ndarray) -> float:
    """q: the sampled rows' effective rate (rows / Σ 1/p); 1 when no row was sampled."""
    sampled = weight > 1.0
    return float(sampled.sum() / weight[sampled].sum()) if sampled.any() else 1.0


def _sampled_frequencies(author: np.ndarray, weight: np.ndarray) -> tuple[float, np.ndarray, float]:
    """(distinct authors seen, rows per author seen only in sampled rows, q) of one brand's
    rows: `author` dense codes, `weight` 1/p. An author with an exactly read row is certain."""
    if len(author) == 0:
        return 0.0, np.zeros(0, dtype=np.int64), 1.0
    counts = np.bincount(author)
    exact = np.bincount(author, weights=(weight <= 1.0).astype(np.float64), minlength=len(counts)) > 0
    return float(np.count_nonzero(counts)), counts[(counts > 0) & ~exact], sampling_rate(weight)


def _frequencies(author: np.ndarray, weight: np.ndarray) -> tuple[float, float, float, float]:
    """(distinct authors seen, f1, f2, q): f1 / f2 the authors seen once / twice, only in
    sampled rows (`_sampled_frequencies`)."""
    d, freq, q = _sampled_frequencies(author, weight)
    return d, float(np.count_nonzero(freq == 1)), float(np.count_nonzero(freq == 2)), q


def reach_seen(author: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """The distinct authors in the sample, uncorrected (the baseline)."""
    d, _, _, _ = _frequencies(author, weight)
    return d, 0.0


def reach_gee(author: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """GEE (Charikar et al. 2000): d + (sqrt(1/q) − 1) f1; SE from f1 ~ Poisson."""
    d, f1, _, q = _frequencies(author, weight)
    c = math.sqrt(1.0 / q) - 1.0
    return d + c * f1, c * math.sqrt(f1)


def reach_chao1(author: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """Chao1 (bias-corrected): d + f1(f1 − 1) / (2 (f2 + 1)); SE from Chao (1987)."""
    d, f1, f2, q = _frequencies(author, weight)
    if q >= 1.0 or f1 == 0:
        return d, 0.0
    f0 = f1 * (f1 - 1) / (2 * (f2 + 1))
    r = f1 / max(f2, 1.0)
    var = max(f2, 1.0) * (r ** 4 / 4 + r ** 3 + r ** 2 / 2)
    return d + f0, math.sqrt(var)


def reach_chao_lin(author: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """Chao & Lin (2012), sampling at a known rate q: d + f1² / (2 f2 + q f1 / (1 − q))."""
    d, f1, f2, q = _frequencies(author, weight)
    if q >= 1.0 or f1 == 0:
        return d, 0.0
    den = 2 * f2 + q * f1 / (1 - q)
    f0 = f1 * f1 / den
    return d + f0, math.sqrt(f0 + 2 * f0 * f0 / max(f1, 1.0))


def reach_sgt(author: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """Smoothed Good-Toulmin (Orlitsky, Suresh & Wu, PNAS 2016): d + U, U = −Σ_i (−t)^i P(L ≥ i) Φ_i,
    t = (1 − q)/q, L ~ Binomial(k, 1/(t + 1)), k = ⌈½ log₃(n t² / (t − 1))⌉ (t ≤ 1: P ≡ 1); d:
    authors seen, Φ_i: authors seen i times in sampled rows, n: sampled rows.

    U is the authors a sample t times larger would add. An author with a row read in full is
    certain (not in Φ). SE: sqrt(Σ_i (t^i P(L ≥ i))² Φ_i), Φ_i taken as independent Poisson."""
    d, freq, q = _sampled_frequencies(author, weight)
    if q >= 1.0:
        return d, 0.0
    t = (1.0 - q) / q
    phi = np.bincount(freq)[1:].astype(np.float64)  # Φ_1, Φ_2, …
    i = np.arange(1, len(phi) + 1)
    if t <= 1.0:
        tail = np.ones(len(phi))
    else:
        n = float(freq.sum())
        k = max(1, math.ceil(0.5 * math.log(max(n * t * t / (t - 1.0), 3.0), 3)))
        r = 1.0 / (t + 1.0)
        pmf = np.array([math.comb(k, j) * r ** j * (1 - r) ** (k - j) for j in range(k + 1)])
        sf = np.concatenate([pmf[::-1].cumsum()[::-1], np.zeros(max(0, len(phi) + 1 - len(pmf)))])
        tail = sf[i]  # P(L ≥ i)
    coef = -((-t) ** i.astype(np.float64)) * tail
    unseen = float((coef * phi).sum())
    return d + max(unseen, 0.0), math.sqrt(float((coef * coef * phi).sum()))


# `first_mentions` codes: a row with no earlier mention (prev), a row not looked back (start).
NONE_BEFORE = np.iinfo(np.int64).min
NOT_LOOKED = np.iinfo(np.int64).max


def first_mentions(author: np.ndarray, weight: np.ndarray, prev: np.ndarray, start: np.ndarray,
                   w0: int) -> np.ndarray | None:
    """One brand's sampled rows that are their author's first mention in the window starting
    on day w0 and whose author has no row read in full there; None when a sampled row was not
    looked back that far (collect/lookback.py). Days as integers; `prev` NONE_BEFORE when the
    author had no earlier mention, `start` NOT_LOOKED when the row was not looked back."""
    sampled = weight > 1.0
    if bool((start[sampled] > w0).any()):
        return None
    exact = np.isin(author, author[~sampled])
    return sampled & ~exact & (prev < w0)


DAY_MS = 86_400_000
SLICE_MS = SAMPLE_SLICE_MINUTES * 60_000
SLICES_A_DAY = DAY_MS // SLICE_MS


def first_mentions_se(weight: np.ndarray, created_ms: np.ndarray | None = None) -> float:
    """Standard error of Σ weight over counted rows, the larger of two design-based estimates:
    by row, Σ (1 − p)/p² (each row in the sample on its own), and, given the rows' creation
    times, by slice: the collector draws m of a day's M slices without replacement and reads
    each whole, so first mentions come in clusters, Σ_days M² (1 − p)/m · s², s² the variance
    of the first mentions per drawn slice (the empty ones included: m = M p). Measured on the
    $0.50 replay, neither alone covered every brand's error (a burst of new authors in a slice
    not drawn is seen by neither); the larger did better."""
    by_row = float((weight * (weight - 1.0)).sum())
    if created_ms is None or len(weight) == 0:
        return math.sqrt(by_row)
    by_slice = 0.0
    day = created_ms // DAY_MS
    for d in np.unique(day):
        sel = day == d
        p = 1.0 / float(weight[sel][0])
        m = max(round(SLICES_A_DAY * p), 1)
        f = np.unique((created_ms[sel] % DAY_MS) // SLICE_MS, return_counts=True)[1].astype(np.float64)
        if m > len(f):
            f = np.concatenate([f, np.zeros(m - len(f))])
        if len(f) > 1:
            by_slice += SLICES_A_DAY ** 2 * (1.0 - p) / len(f) * float(f.var(ddof=1))
    return math.sqrt(max(by_row, by_slice))


def reach_first_mentions(author: np.ndarray, weight: np.ndarray, prev: np.ndarray, start: np.ndarray,
                         w0: int, created_ms: np.ndarray | None = None) -> tuple[float, float] | None:
    """Horvitz-Thompson estimate of the window's distinct authors (and its standard error,
    `first_mentions_se`): the authors with a row read in full, counted, plus 1/p for each
    sampled first mention (`first_mentions`). Every other author has exactly one first mention
    in the window, in the sample with its slice's probability p: the estimate is unbiased
    whatever the authors' activity. None when not looked back (the sample-only `REACH` then)."""
    rows = first_mentions(author, weight, prev, start, w0)
    if rows is None:
        return None
    exact = float(len(np.unique(author[weight <= 1.0])))
    return (exact + float(weight[rows].sum()),
            first_mentions_se(weight[rows], None if created_ms is None else created_ms[rows]))


REACH_ESTIMATORS = {"seen": reach_seen, "gee": reach_gee, "chao1": reach_chao1, "chao_lin": reach_chao_lin,
                    "sgt": reach_sgt}
# The estimator of `mention_reach` (see the module doc for the measurement and the reason).
REACH = reach_sgt
# Below this window sampling rate the reach is not published (every estimator errs by ≥ 1/3).
REACH_MIN_Q = 0.2
# The estimator's measured relative RMSE from each lower bound of q (the table's SGT column).
REACH_RMSE = ((0.2, 0.09), (0.3, 0.07), (0.4, 0.03), (0.5, 0.01), (0.7, 0.005))


def reach_model_error(q: float) -> float | None:
    """The estimator's relative RMSE at window rate q (0 when exact); None below REACH_MIN_Q."""
    if q >= 1.0:
        return 0.0
    if q < REACH_MIN_Q:
        return None
    return [rmse for lo, rmse in REACH_RMSE if q >= lo][-1]


def estimate_columns(std_errors: np.ndarray | None, n: int, k: int) -> dict[str, pa.Array]:
    """`estimated` and `std_error` for the n × k indicator rows (brand-major)."""
    if std_errors is None:
        return {"estimated": pa.array([False] * (n * k), pa.bool_()),
                "std_error": pa.nulls(n * k, pa.float64())}
    flat = np.asarray(std_errors, dtype=np.float64).reshape(-1)
    missing = np.isnan(flat)
    return {"estimated": pa.array(~missing, pa.bool_()),
            "std_error": pa.array(flat, pa.float64(), mask=missing)}
