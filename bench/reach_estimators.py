"""Which distinct-count estimator for `mention_reach` under the collector's time-slice sample.

Replays, on a simulated world (the demo lake, where every mention is known), what a budgeted
daily run reads: per day, the budget left after the fixed reads (profiles, new brand posts,
refreshes at ages 1, 3 and 7 days) is allocated across brands with `collect.plan.allocate`,
and each sampled brand-day is read in the random 30-minute slices of `collect.plan.slices`
(a slice is read in full: every mention created in it). Then each brand's window reach
(distinct authors over the 182 days) is estimated from the sample and compared with the
full collection's. Column `lookback`: the look-back estimate (`estimate.reach_first_mentions`,
collect/lookback.py), each sampled row knowing, as X's counts tell the collector, whether it is
its author's first mention of the brand in the window. Usage:
python bench/reach_estimators.py LAKE [--reps N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
from datetime import date, datetime, timedelta

import duckdb
import numpy as np

from barometer.collect.plan import mention_alloc, slices
from barometer.config import POST_USD, USER_USD
from barometer.score.estimate import NONE_BEFORE, REACH_ESTIMATORS, reach_first_mentions

START, END = date(2017, 11, 1), date(2018, 4, 30)


def load(lake: str) -> tuple[list[tuple], dict[date, float]]:
    con = duckdb.connect()
    # `first`: the row is its author's first mention of the brand in the window (what a
    # look-back tells the collector).
    m = con.sql(f"""select brand_id, author_id, ms, d,
            row_number() over (partition by brand_id, author_id order by ms, post_id) = 1 as first
        from (select distinct brand_id, author_id, post_id, epoch_ms(created_at) ms, cast(created_at as date) d
              from read_parquet('{lake}/mentions/**/*.parquet', hive_partitioning=true)
              where created_at >= '{START}' and created_at < '{END + timedelta(days=1)}')""").fetchall()
    p = con.sql(f"""select cast(created_at as date) d, count(distinct post_id) from
        read_parquet('{lake}/posts/**/*.parquet', hive_partitioning=true) group by 1""").fetchall()
    posts = {d: n for d, n in p}
    n_acc = con.sql(f"select count(distinct account_id) from read_parquet('{lake}/accounts/**/*.parquet',"
                    " hive_partitioning=true)").fetchall()[0][0]
    fixed = {}
    d = START
    while d <= END:
        young = sum(posts.get(d - timedelta(days=a), 0) for a in (1, 3, 7))
        fixed[d] = n_acc * USER_USD + (posts.get(d, 0) + young) * POST_USD
        d += timedelta(days=1)
    return m, fixed


def replay(rows: list[tuple], fixed: dict[date, float], budget: float, rep: int) -> tuple[dict, list[float]]:
    """Per brand: (author ids of the sampled rows, their weights, their `first` flags); and the p
    of each sampled brand-day."""
    by_day: dict[date, dict[str, list[tuple[str, int, bool]]]] = {}
    for b, a, ms, d, first in rows:
        by_day.setdefault(d, {}).setdefault(b, []).append((a, ms, first))
    out: dict[str, tuple[list[str], list[float], list[bool]]] = {}
    ps: list[float] = []
    for d, brands in sorted(by_day.items()):
        vol = {b: len(v) for b, v in brands.items()}
        left = budget - fixed[d]
        alloc = vol | mention_alloc(vol, left)  # as the collector plans (collect/plan.py)
        day0 = datetime.combine(d, datetime.min.time())
        for b, v in brands.items():
            ids, ws, fs = out.setdefault(b, ([], [], []))
            if alloc[b] >= vol[b]:
                ids += [a for a, _, _ in v]
                ws += [1.0] * len(v)
                fs += [f for _, _, f in v]
                continue
            rng = random.Random(f"rep{rep}/{d}/{b}")
            chosen, p = slices(day0, day0 + timedelta(days=1), alloc[b], vol[b], rng)
            ps.append(p)
            lo = {int(s.timestamp() * 1000) for s, _ in chosen}
            step = 30 * 60 * 1000
            base = int(day0.timestamp() * 1000)
            for a, ms, f in v:
                if base + (ms - base) // step * step in lo:
                    ids.append(a)
                    ws.append(1.0 / p)
                    fs.append(f)
    return out, ps


Q_EDGES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0001)


def q_bins(pairs: list[tuple[float, float]]) -> dict[str, dict[str, float]]:
    """Bias and RMSE of the relative error per bin of the brand's window sampling rate q."""
    out = {}
    for lo, hi in itertools.pairwise(Q_EDGES):
        e = np.array([x for q, x in pairs if lo <= q < hi and q < 1.0])
        if len(e):
            out[f"{lo:.1f}-{min(hi, 1.0):.1f}"] = {"n": len(e), "bias": round(float(e.mean()), 3),
                                                  "rmse": round(float(np.sqrt((e * e).mean())), 3),
                                                  "max_abs": round(float(np.abs(e).max()), 3)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("lake")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--budgets", default="0.25,0.5,1,2")
    a = ap.parse_args(argv)
    rows, fixed = load(a.lake)
    truth: dict[str, set[str]] = {}
    for b, au, _, _, _ in rows:
        truth.setdefault(b, set()).add(au)
    res: dict[str, dict[str, object]] = {}
    names = [*REACH_ESTIMATORS, "lookback"]
    by_q: dict[str, list[tuple[float, float]]] = {k: [] for k in names}  # (q, rel. error)
    for budget in (float(x) for x in a.budgets.split(",")):
        err: dict[str, list[float]] = {k: [] for k in names}
        allp: list[float] = []
        for rep in range(a.reps):
            sample, ps = replay(rows, fixed, budget, rep)
            allp += ps
            for b, (ids, ws, fs) in sample.items():
                _, inv = np.unique(np.array(ids), return_inverse=True)
                w = np.array(ws)
                sampled = w > 1.0
                q = float(sampled.sum() / w[sampled].sum()) if sampled.any() else 1.0
                # The window is the whole replay here: `first` rows have no earlier mention in it.
                prev = np.where(np.array(fs), NONE_BEFORE, 0)
                got = reach_first_mentions(inv, w, prev, np.zeros(len(w), dtype=np.int64), 0)
                ests = {k: f(inv, w)[0] for k, f in REACH_ESTIMATORS.items()} | {"lookback": got[0] if got else 0.0}
                for k, est in ests.items():
                    err[k].append(est / len(truth[b]) - 1.0)
                    by_q[k].append((q, est / len(truth[b]) - 1.0))
        res[f"{budget:g}"] = {
            "p_median": float(np.median(allp)) if allp else 1.0,
            "p_range": [float(min(allp)), float(max(allp))] if allp else [1.0, 1.0],
            **{k: {"bias": round(float(np.mean(v)), 3), "rmse": round(float(np.sqrt(np.mean(np.square(v)))), 3)}
               for k, v in err.items()}}
    res["by_q"] = {k: q_bins(v) for k, v in by_q.items()}
    json.dump(res, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
