"""Indicators estimated from a budgeted sample of mentions (issue 13, collect/plan.py).

A budgeted run reads a brand's mentions in random time slices: each mention of those days is
in the sample with the same known probability p, and its row carries `sample_weight` = 1/p.
`mentions` stays exact (X's counts). `mention_reach` (distinct authors) is to be estimated
from the sample. Not wired into the indicators yet: every value is still written exact
(`estimated` false, `std_error` null). Candidates, measured so far only on synthetic
heavy-tailed author activity (2,000 authors; Chao1 column: 3,000; Zipf(1.8) or ceil(lognormal(0, 1.2)) mentions
each, Bernoulli sampling at p, 200 draws; relative error, bias / RMSE):

    p     activity   GEE (Charikar 2000)   Chao1          Chao-Lin (known p, 2012)
    0.1   Zipf       -0.39 / 0.39          -0.34 / 0.35   -0.43 / 0.43
    0.1   lognormal  -0.42 / 0.42          -0.19 / 0.21   -0.36 / 0.37
    0.2   Zipf       -0.30 / 0.30          -0.07 / 0.09   -0.26 / 0.27
    0.2   lognormal  -0.31 / 0.31          +0.01 / 0.07   -0.23 / 0.24
    0.5   Zipf       -0.16 / 0.16          +0.43 / 0.43   -0.06 / 0.07
    0.5   lognormal  -0.15 / 0.15          +0.33 / 0.33   -0.07 / 0.07

No estimator wins at every p: the choice is still to be made on the simulated world (where
the truth is known), per the issue. `gee` and `chao1` are here for that measurement.

`estimate_columns` gives the `indicators` table its `estimated` and `std_error` columns: a
value is estimated when a standard error was computed for it, exact (null) otherwise.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa


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


def estimate_columns(std_errors: np.ndarray | None, n: int, k: int) -> dict[str, pa.Array]:
    """`estimated` and `std_error` for the n × k indicator rows (brand-major)."""
    if std_errors is None:
        return {"estimated": pa.array([False] * (n * k), pa.bool_()),
                "std_error": pa.nulls(n * k, pa.float64())}
    flat = np.asarray(std_errors, dtype=np.float64).reshape(-1)
    missing = np.isnan(flat)
    return {"estimated": pa.array(~missing, pa.bool_()),
            "std_error": pa.array(flat, pa.float64(), mask=missing)}
