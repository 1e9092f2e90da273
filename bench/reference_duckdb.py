"""The eight indicator values in plain DuckDB SQL: the benchmark's peer and the scorer's oracle.

Independent of `barometer.score`: it reads the lake's Parquet files directly
(`read_parquet(..., hive_partitioning=true)`, partition pruning on `dt`) and computes each
indicator with SQL windows and aggregates. The only part not in SQL is PageRank's power
iteration: the interaction graph (author → mentioned account, weighted by the number of
posts, self-loops dropped, node ids assigned) is built in SQL, and the iteration runs in numpy
on the edge arrays (`np.bincount` sparse products). An iterative PageRank in SQL would need a
recursive CTE carrying the whole rank vector per step; it is expressible but measures DuckDB's
recursion, not the indicator, so the split is documented here instead.

Definitions (DESIGN.md "The index", docs/contracts.md time conventions), for run date D:
- W = [D - window_days + 1, D]; timestamps in W: created_at ∈ [W start 00:00, D+1 00:00).
- Only partitions with dt ≤ D are read (what a run for D could know).
- community: per account, the latest snapshot (max collected_at) with dt ≤ D; summed per brand.
- community_growth: community / the same at the reference end − 1 (reference end: D one year
  earlier for `yoy`, the day before W for `previous`); null without a reference snapshot.
- centrality: PageRank (damping 0.85, dangling mass spread uniformly, uniform teleport) of the
  graph whose edges are lower(author handle) → lower(mentioned handle) for every mention in W
  and every brand post (latest observation, any kind) created in W; a brand's value is the sum
  over its accounts' handles.
- content_volume: distinct brand posts created in W, kind ≠ repost, not deleted (latest obs).
- mentions / mention_reach: distinct mention posts / distinct author ids created in W.
- interactions: likes + reposts + replies + quotes of the latest observation of the posts
  counted in content_volume.
- engagement_rate: interactions / (content_volume × mean over W's days of the brand's
  followers) × 100; null when the brand has no post in W.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

INDICATOR_IDS = ("community", "community_growth", "centrality", "content_volume", "mentions",
                 "mention_reach", "interactions", "engagement_rate")
DAMPING = 0.85
TOL = 1e-13
REFERENCE_TOLERANCE_DAYS = 7  # a reference snapshot may be up to 7 days before the reference end
MAX_ITER = 500


@dataclass(frozen=True)
class RefParams:
    root: str  # local lake folder
    panel: str
    dt: date
    window_days: int = 182
    growth_reference: str = "yoy"

    @property
    def window_start(self) -> date:
        return self.dt - timedelta(days=self.window_days - 1)

    @property
    def reference_end(self) -> date:
        if self.growth_reference == "previous":
            return self.window_start - timedelta(days=1)
        d = self.dt
        try:
            return d.replace(year=d.year - 1)
        except ValueError:  # 29 February
            return d.replace(year=d.year - 1, day=28)


def _src(root: str, table: str, panel: str) -> str:
    path = Path(root) / table / f"panel={panel}" / "*" / "*.parquet"
    return (f"read_parquet('{path.as_posix()}', hive_partitioning = true, "
            f"hive_types = {{'dt': DATE}}, union_by_name = false)")


def pagerank(src: np.ndarray, dst: np.ndarray, w: np.ndarray, n: int,
             damping: float = DAMPING, tol: float = TOL, max_iter: int = MAX_ITER) -> np.ndarray:
    """Weighted PageRank by power iteration; dangling nodes spread their rank uniformly."""
    if n == 0:
        return np.zeros(0)
    out_w = np.bincount(src, weights=w, minlength=n)
    dangling = out_w == 0
    coef = np.where(out_w[src] > 0, w / np.where(out_w[src] > 0, out_w[src], 1.0), 0.0)
    r = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        flow = np.bincount(dst, weights=r[src] * coef, minlength=n)
        new = (1.0 - damping) / n + damping * (flow + r[dangling].sum() / n)
        new /= new.sum()
        delta = np.abs(new - r).sum()
        r = new
        if delta < tol:
            break
    return r


def reference_indicators(p: RefParams, handles: dict[str, list[str]],
                         con: duckdb.DuckDBPyConnection | None = None) -> dict[tuple[str, str], float | None]:
    """{(brand_id, indicator): value} for every brand of `handles` ({brand_id: [handles]})."""
    con = con or duckdb.connect()
    ws, d, ref = p.window_start, p.dt, p.reference_end
    t0 = f"TIMESTAMP '{ws.isoformat()} 00:00:00'"
    t1 = f"TIMESTAMP '{(d + timedelta(days=1)).isoformat()} 00:00:00'"
    acc, posts, men = (_src(p.root, t, p.panel) for t in ("accounts", "posts", "mentions"))
    con.execute("CREATE OR REPLACE TEMP TABLE brands (brand_id VARCHAR, handle VARCHAR, pos INTEGER)")
    rows = [(b, h.lower(), i) for b, hs in handles.items() for i, h in enumerate(hs)]
    if rows:
        con.executemany("INSERT INTO brands VALUES (?, ?, ?)", rows)

    # Accounts: followers at the end of W (each account's latest snapshot in W), at the end of
    # the reference (latest snapshot in the 7 days up to it), and the mean over W's days.
    ref0 = ref - timedelta(days=REFERENCE_TOLERANCE_DAYS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE acc AS
        SELECT brand_id, account_id, handle, followers, collected_at, dt FROM {acc}
        WHERE (dt BETWEEN DATE '{ws}' AND DATE '{d}' OR dt BETWEEN DATE '{ref0}' AND DATE '{ref}')
          AND followers IS NOT NULL
    """)
    community = con.execute(f"""
        WITH last_end AS (
          SELECT brand_id, account_id, arg_max(followers, (dt, collected_at)) AS f FROM acc
          WHERE dt >= DATE '{ws}' GROUP BY ALL),
        last_ref AS (
          SELECT brand_id, account_id, arg_max(followers, (dt, collected_at)) AS f FROM acc
          WHERE dt BETWEEN DATE '{ref0}' AND DATE '{ref}' GROUP BY ALL),
        per_day AS (  -- the latest snapshot per account and day, summed per brand and day
          SELECT brand_id, dt, sum(f) AS f FROM (
            SELECT brand_id, account_id, dt, arg_max(followers, collected_at) AS f FROM acc
            WHERE dt >= DATE '{ws}' GROUP BY ALL) GROUP BY ALL)
        SELECT b.brand_id,
               (SELECT sum(f) FROM last_end e WHERE e.brand_id = b.brand_id) AS community,
               (SELECT sum(f) FROM last_ref r WHERE r.brand_id = b.brand_id) AS reference,
               (SELECT avg(f) FROM per_day y WHERE y.brand_id = b.brand_id) AS mean_followers
        FROM (SELECT DISTINCT brand_id FROM brands) b
    """).fetchall()

    # Brand posts: the latest observation of each post created in W.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE lp AS
        SELECT brand_id, post_id, unnest(last) FROM (
          SELECT brand_id, post_id,
                 arg_max({{'account_id': account_id, 'kind': kind, 'deleted': coalesce(deleted, false),
                          'inter': coalesce(likes, 0) + coalesce(reposts, 0) + coalesce(replies, 0)
                                   + coalesce(quotes, 0),
                          'mentioned_handles': mentioned_handles}}, (observed_at, dt)) AS last
          FROM {posts}
          WHERE dt BETWEEN DATE '{ws}' AND DATE '{d}' AND created_at >= {t0} AND created_at < {t1}
            AND brand_id IN (SELECT brand_id FROM brands)
          GROUP BY brand_id, post_id)
    """)
    post_ind = dict((r[0], r[1:]) for r in con.execute("""
        SELECT brand_id, count(*) AS n, sum(inter) AS inter FROM lp
        WHERE kind <> 'repost' AND NOT deleted GROUP BY brand_id
    """).fetchall())
    # Mentions by others: the brand's own accounts (by id or handle) are not "others".
    con.execute("""
        CREATE OR REPLACE TEMP TABLE own AS  -- (brand, lower-case handle or account id) of its accounts
        SELECT DISTINCT brand_id, key FROM (
          SELECT brand_id, handle AS key FROM brands
          UNION ALL SELECT brand_id, lower(handle) FROM acc WHERE handle IS NOT NULL
          UNION ALL SELECT brand_id, '\x00' || account_id FROM acc WHERE account_id IS NOT NULL)
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE men AS
        SELECT m.post_id, m.brand_id, m.author_id, m.author_handle, m.mentioned_handles
        FROM {men} m
        LEFT JOIN own oh ON oh.brand_id = m.brand_id AND oh.key = lower(m.author_handle)
        LEFT JOIN own oi ON oi.brand_id = m.brand_id AND oi.key = '\x00' || m.author_id
        WHERE m.dt BETWEEN DATE '{ws}' AND DATE '{d}' AND m.created_at >= {t0} AND m.created_at < {t1}
          AND m.brand_id IN (SELECT brand_id FROM brands) AND oh.brand_id IS NULL AND oi.brand_id IS NULL
    """)
    men_ind = dict((r[0], r[1:]) for r in con.execute("""
        WITH by_post AS (SELECT brand_id, count(*) AS n FROM (SELECT DISTINCT brand_id, post_id FROM men)
                         GROUP BY brand_id),
             by_author AS (SELECT brand_id, count(*) AS n FROM (
                             SELECT DISTINCT brand_id, coalesce(author_id, '') FROM men) GROUP BY brand_id)
        SELECT p.brand_id, p.n, a.n FROM by_post p JOIN by_author a USING (brand_id)
    """).fetchall())

    # The interaction graph, aggregated and numbered in SQL.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE edges AS
        WITH m AS (  -- one edge set per distinct post (a post mentioning two brands is two rows)
          SELECT lower(author_handle) AS src, unnest(mentioned_handles) AS dst FROM (
            SELECT DISTINCT ON (post_id) post_id, author_handle, mentioned_handles FROM men)),
        acc_handle AS (
          SELECT account_id, arg_max(lower(handle), (dt, collected_at)) AS handle FROM acc
          WHERE handle IS NOT NULL GROUP BY account_id),
        first_handle AS (SELECT brand_id, arg_min(handle, pos) AS handle FROM brands GROUP BY brand_id),
        p AS (
          SELECT coalesce(h.handle, f.handle) AS src, unnest(lp.mentioned_handles) AS dst
          FROM lp LEFT JOIN acc_handle h USING (account_id) LEFT JOIN first_handle f USING (brand_id)
          WHERE NOT lp.deleted)
        SELECT src, ltrim(lower(dst), '@') AS dst, count(*)::DOUBLE AS w
        FROM (SELECT * FROM m UNION ALL SELECT * FROM p)
        WHERE src IS NOT NULL AND dst IS NOT NULL AND src <> ltrim(lower(dst), '@')
        GROUP BY ALL
    """)
    con.execute("""  -- nodes: every handle on an edge, and every brand handle
        CREATE OR REPLACE TEMP TABLE nodes AS
        SELECT name, (row_number() OVER (ORDER BY name)) - 1 AS id
        FROM (SELECT src AS name FROM edges UNION SELECT dst FROM edges UNION SELECT handle FROM brands)
    """)
    n = con.execute("SELECT count(*) FROM nodes").fetchone()[0]  # type: ignore[index]
    arrs = con.execute("""
        SELECT s.id AS s, t.id AS t, e.w FROM edges e
        JOIN nodes s ON s.name = e.src JOIN nodes t ON t.name = e.dst
        ORDER BY t.id, s.id  -- memory locality for the power iteration's scatter
    """).fetchnumpy()
    pr = pagerank(np.asarray(arrs["s"], np.int64), np.asarray(arrs["t"], np.int64),
                  np.asarray(arrs["w"], np.float64), int(n))
    node_ids = dict(con.execute(
        "SELECT b.handle, n.id FROM brands b JOIN nodes n ON n.name = b.handle").fetchall())

    out: dict[tuple[str, str], float | None] = {}
    for brand, comm, ref_f, mean_f in community:
        cv, inter = post_ind.get(brand, (0, 0))
        mn, reach = men_ind.get(brand, (0, 0))
        hs = [h.lower() for h in handles[brand]]
        vals: dict[str, float | None] = {
            "community": None if comm is None else float(comm),
            "community_growth": (float(comm) / float(ref_f) - 1.0)
            if comm is not None and ref_f not in (None, 0) else None,
            "centrality": float(sum(pr[node_ids[h]] for h in hs if h in node_ids)),
            "content_volume": float(cv),
            "mentions": float(mn),
            "mention_reach": float(reach),
            "interactions": float(inter or 0),
            "engagement_rate": float(inter) / (float(cv) * float(mean_f)) * 100.0
            if cv and mean_f else None,
        }
        for k, v in vals.items():
            out[(brand, k)] = v
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake", required=True)
    ap.add_argument("--panel", required=True, help="panel YAML")
    ap.add_argument("--date", required=True, type=date.fromisoformat)
    ap.add_argument("--out", help="write the values as JSON here")
    args = ap.parse_args(argv)
    from barometer.config import load_panel

    panel = load_panel(args.panel)
    p = RefParams(args.lake, panel.id, args.date, panel.scoring.window_days, panel.scoring.growth_reference)
    vals = reference_indicators(p, {b.id: [a.handle for a in b.accounts] for b in panel.brands})
    if args.out:
        rows: list[dict[str, Any]] = [{"brand_id": b, "indicator": i, "value": v}
                                      for (b, i), v in vals.items()]
        Path(args.out).write_text(json.dumps(rows))
    print(f"{len(vals)} indicator values for {len(panel.brands)} brands")
    return 0


if __name__ == "__main__":
    sys.exit(main())
