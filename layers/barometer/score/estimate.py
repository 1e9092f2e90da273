"""Indicators estimated from a budgeted sample of mentions (issue 13, collect/plan.py).

A budgeted run reads a brand's mentions in random time slices: each mention of those days is
in the sample with the same known probability p, and its row carries `sample_weight` = 1/p.
`mentions` stays exact (X's counts). `mention_reach` (distinct authors) is estimated with
Charikar et al.'s guaranteed-error estimator (GEE, PODS 2000): D = sqrt(1/q) f1 + sum_{j>=2} f_j,
f_j the authors seen j times in the sample, q the sampled fraction. Why GEE rather than Chao1
is measured in `distinct_error` (see the README's cost–fidelity notes): on heavy-tailed author
activity, Chao1 (d + f1^2 / 2 f2) ignores the known q and swings with f2.

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
